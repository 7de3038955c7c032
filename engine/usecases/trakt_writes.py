"""Trakt both ways (``/settings trakt:write``, off by default): what a person tells the bot also reaches their
Trakt account — a show they have seen marked watched (asked first, after 👀), their ratings (``/rate``), and a show
they said "not for me" to kept out of Trakt's own recommendations (``engine.usecases.feedback``); 📌 already lists on
the Trakt watchlist (``/settings watchlist:on``).

The bot's own store is written first and stands whatever Trakt answers. Ratings and hiding are idempotent on
Trakt's side; marking watched is not (``POST /sync/history`` adds plays every time), so it is claimed once per
person and show before it is sent, never repeated after a timeout (``OutcomeUnknown``: the person is told to look),
and released only when Trakt certainly did nothing. The plays it creates come back with the next sync; a pick the
person said they had seen earns no adoption from them (``FeedbackRepo.adoption_candidates``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from engine.plumbing.clock import Clock
from engine.ports.trakt import TraktPort
from engine.store import Store
from engine.store.records import ShowRecord
from engine.values import vocabulary
from engine.values.errors import (
    MultitudesError,
    NotLinked,
    NotYours,
    OutcomeUnknown,
    ServiceUnavailable,
    TraktReauthRequired,
)
from engine.values.i18n import _

log = logging.getLogger(__name__)
WATCHED = "watched"


@dataclass(frozen=True, slots=True)
class Rated:
    title: str
    rating: int | None                  # None: the rating was removed
    on_trakt: bool                      # written to Trakt too
    note: str = ""                      # why not, when it was not


class TraktWriter:
    def __init__(self, store: Store, clock: Clock, trakt: TraktPort | None) -> None:
        self.store = store
        self.clock = clock
        self.trakt = trakt

    async def writes(self, person_id: int) -> bool:
        """Whether the person asked for writes to Trakt and is linked."""
        if self.trakt is None:
            return False
        async with self.store.read() as uow:
            person = await uow.people.get(person_id)
            linked = await uow.tokens.exists(person_id)
        return bool(person is not None and person.settings.trakt_write and linked)

    async def rate(self, person_id: int, title: str, rating: int | None, event_id: int | None = None) -> Rated:
        """Rate one of the person's shows (one they played or were shown), 1–10, or remove the rating: here, and
        on Trakt with ``trakt:write``. ``event_id``: the pick a rating button was under (``title`` unused)."""
        if rating is not None and not 1 <= rating <= 10:
            raise MultitudesError(f"rating {rating}", user_message=_("A rating goes from 1 to 10 (or `remove`)."))
        if event_id is not None:
            async with self.store.read() as uow:
                ev = await uow.events.get(event_id)
                got = await uow.shows.get(ev.show_id) if ev is not None and ev.person_id == person_id else None
            if got is None:
                raise NotYours(f"rate event {event_id}")
            return await self._rate(person_id, got, rating)
        async with self.store.read() as uow:
            mine = await uow.history.played_shows(person_id)
            mine |= {e.show_id for e in await uow.events.of_person(person_id)}
            shows = await uow.shows.many(mine)
        want = vocabulary.norm_title(title)
        found = [r for r in shows.values() if vocabulary.norm_title(r.meta.display_title if r.has_meta and
                                                                     (r.meta.title or r.meta.name) else r.title) == want
                 or vocabulary.norm_title(r.title) == want]
        if not found:
            close = vocabulary.suggest(title, [r.title for r in shows.values()])
            raise MultitudesError(f"rate {title!r}", user_message=(
                _("You have not watched or been shown a show called {title}.").format(title=repr(title[:60]))
                + vocabulary.did_you_mean(close, quote="\"")))
        return await self._rate(person_id, max(found, key=lambda r: r.year or 0), rating)

    async def _rate(self, person_id: int, show: ShowRecord, rating: int | None) -> Rated:
        now = self.clock.now()
        async with self.store.unit() as uow:
            await uow.history.set_rating(person_id, show.id, rating, now)
        if not await self.writes(person_id):
            return Rated(show.title, rating, False)
        assert self.trakt is not None
        ids = show.trusted_ids
        if not (ids.trakt or ids.tmdb or ids.imdb):
            return Rated(show.title, rating, False, _("Trakt does not know this show by any id I trust."))
        try:
            await self.trakt.rate(person_id, ids, rating, now)
        except (ServiceUnavailable, TraktReauthRequired, NotLinked) as e:
            log.info("rating not written to Trakt: %s", type(e).__name__)
            return Rated(show.title, rating, False,
                         _("Saved here; Trakt is not answering, so it is not on Trakt yet."))
        return Rated(show.title, rating, True)

    async def can_mark(self, person_id: int, event_id: int) -> bool:
        """Whether to offer marking this pick's show watched on Trakt (writes on, never marked before)."""
        if not await self.writes(person_id):
            return False
        async with self.store.read() as uow:
            ev = await uow.events.get(event_id)
            done = ev is not None and await uow.feedback.written(person_id, ev.show_id, WATCHED)
        return ev is not None and ev.person_id == person_id and not done

    async def mark_watched(self, person_id: int, event_id: int, upto: tuple[int, int] | None = None
                           ) -> tuple[str, int]:
        """Every aired episode of the pick's show (or, with ``upto``, up to that season and episode) marked watched
        on Trakt, once; (title, episodes Trakt added)."""
        if not await self.writes(person_id):
            raise MultitudesError("trakt writes off", user_message=(
                _("Writing to Trakt is off: `/settings trakt:write` turns it on (you need to be linked).")))
        assert self.trakt is not None
        async with self.store.unit() as uow:
            ev = await uow.events.get(event_id)
            if ev is None or ev.person_id != person_id:
                raise NotYours(f"event {event_id}")
            show = await uow.shows.get(ev.show_id)
            claimed = await uow.feedback.claim_write(person_id, ev.show_id, WATCHED, self.clock.now())
        title = show.title if show is not None else _("that show")
        if not claimed:
            raise MultitudesError("already marked",
                                  user_message=_("{title} is already marked watched on Trakt.").format(title=title))
        ids = show.trusted_ids if show is not None else None
        if ids is None or not (ids.trakt or ids.tmdb or ids.imdb):
            await self._release(person_id, ev.show_id)
            raise MultitudesError("no ids", user_message=_("Trakt does not know {title} by any id I trust.").format(
                title=title))
        try:
            added = await self.trakt.mark_watched(person_id, ids, upto)
        except OutcomeUnknown as e:                 # it may have landed: never sent twice
            raise MultitudesError(str(e), user_message=_(
                "Trakt did not confirm marking {title}. Look at your Trakt history; I will not send it twice.").format(
                title=title)) from e
        except (ServiceUnavailable, TraktReauthRequired, NotLinked) as e:
            await self._release(person_id, ev.show_id)
            raise MultitudesError(str(e), user_message=(
                _("Trakt is not answering, so {title} is not marked there; try again later.").format(
                    title=title))) from e
        return title, added

    async def _release(self, person_id: int, show_id: int) -> None:
        async with self.store.unit() as uow:
            await uow.feedback.release_write(person_id, show_id, WATCHED)
