"""What people do with their picks: explicit feedback (👍 👎 👀 📌), adoption (a pick that later shows up in the
history, started or finished), and success rates with honest uncertainty.

Explicit feedback is a state per (event, kind), so redelivered or reordered reaction events converge and count
once. A pick counts as *started* when the show appears in the person's history after it was shown, *finished*
past ``finish_share`` of its aired episodes. Rates come with counts and Wilson 95% intervals, per strategy, mode,
persona, source or overall; a person sees their own, the bot owner everyone's.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from engine.plumbing.clock import Clock
from engine.ports.trakt import TraktPort
from engine.recommend.adapt import ArmStats
from engine.store import Store
from engine.store.records import EventOutcome
from engine.values.errors import MultitudesError, NotYours, ServiceUnavailable, TraktAccountLimit
from engine.values.i18n import _
from engine.values.models import OPPOSITE, FeedbackKind, Noted, ShowIds
from engine.values.stats import Rate

log = logging.getLogger(__name__)

RATE_KEYS = ("strategy", "mode", "persona", "source", "all")
ARM_KINDS = ("source", "persona", "strategy", "all")


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = k / n
    d = 1 + z * z / n
    c = p + z * z / (2 * n)
    r = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (c - r) / d), min(1.0, (c + r) / d)


def _keys(o: EventOutcome, by: str) -> list[str]:
    match by:
        case "strategy":
            return [o.strategy]
        case "mode":
            return [o.mode]
        case "persona":
            return [f"persona {o.persona_id}"] if o.persona_id is not None else []
        case "source":
            return list(o.sources)
    return ["all"]


def rates_of(outcomes: Sequence[EventOutcome], bys: Sequence[str]) -> dict[str, list[Rate]]:
    """Several groupings of the same picks."""
    out: dict[str, list[Rate]] = {}
    for by in bys:
        groups: dict[str, list[EventOutcome]] = defaultdict(list)
        for o in outcomes:
            for k in _keys(o, by):
                groups[k].append(o)
        rates = []
        for k, os_ in sorted(groups.items()):
            n, started = len(os_), sum(1 for o in os_ if o.adoption is not None)
            lo, hi = wilson(started, n)
            rates.append(Rate(k, n, started, sum(1 for o in os_ if o.adoption == "finished"),
                              sum(1 for o in os_ if o.liked), sum(1 for o in os_ if o.not_for_me), lo, hi))
        out[by] = rates
    return out


def arm_stats_of(outcomes: Sequence[EventOutcome]) -> dict[str, dict[str, ArmStats]]:
    """Shown and worked picks per arm, for every kind of arm: ``source``, ``persona``, ``strategy`` and ``all``."""
    counts: dict[str, dict[str, list[int]]] = {k: defaultdict(lambda: [0, 0]) for k in ARM_KINDS}
    for o in outcomes:
        arms = {"source": o.sources, "persona": [str(o.persona_id)] if o.persona_id is not None else [],
                "strategy": [o.strategy], "all": ["all"]}
        for kind, names in arms.items():
            for arm in names:
                c = counts[kind][arm]
                c[0] += 1
                c[1] += int(o.worked)
    return {kind: {arm: ArmStats(n, w) for arm, (n, w) in per.items()} for kind, per in counts.items()}


class FeedbackService:
    def __init__(self, store: Store, clock: Clock, *, finish_share: float = 0.8,
                 trakt: TraktPort | None = None) -> None:
        self.store = store
        self.clock = clock
        self.finish_share = finish_share
        self.trakt = trakt

    async def record(self, person_id: int, event_id: int, kind: FeedbackKind | str, active: bool = True,
                     at: datetime | None = None) -> Noted:
        """Set (or, with ``active=False``, undo) feedback on a shown pick. Idempotent: the same event delivered
        twice, or add-remove-add, ends in one state; with ``at`` (when the platform says the reaction happened),
        an event older than the stored state is a late, reordered delivery and changes nothing. "Not for me" and
        "seen" keep the show out of every future list; undoing them lets it back. 👍 and 👎 on one pick replace
        each other (the later one stands). Returns whether anything changed, and the show's title."""
        try:
            kind = FeedbackKind(kind)
        except ValueError as e:
            raise MultitudesError(f"feedback kind {kind!r}", user_message=_("Unknown feedback.")) from e
        if kind is FeedbackKind.REQUESTED:         # only a request Seerr accepted records it (engine.usecases.media)
            raise MultitudesError("requested by hand", user_message=_("Unknown feedback."))
        stamp = at or self.clock.now()
        async with self.store.unit() as uow:
            ev = await uow.events.hold(event_id)
            if ev is None or ev.person_id != person_id:
                raise NotYours(f"event {event_id} for person {person_id}")
            have = await uow.feedback.state(person_id, event_id, kind)
            show = await uow.shows.get(ev.show_id)
            title = show.title if show is not None else None
            if have is not None and have.active == active:
                if at is not None and (have.updated_at or at) < at:      # same state, seen later: remember when
                    await uow.feedback.put(person_id, event_id, kind, active, stamp)
                return Noted(False, title)
            if have is not None and at is not None and (have.updated_at or at) > at:
                return Noted(False, title)            # a reordered, older event: the newer state stands
            await uow.feedback.put(person_id, event_id, kind, active, stamp)
            replaced = None
            other = OPPOSITE.get(kind)
            if active and other is not None:
                earlier = await uow.feedback.state(person_id, event_id, other)
                if earlier is not None and earlier.active and (at is None or (earlier.updated_at or at) <= at):
                    await uow.feedback.put(person_id, event_id, other, False, stamp)
                    if other.keeps_out:
                        await uow.feedback.undismiss(person_id, ev.show_id, other)
                    replaced = other
            if kind is FeedbackKind.WATCHLIST and active:
                await uow.history.add_to_watchlist(person_id, ev.show_id, stamp)
            if kind.keeps_out:
                if active:
                    await uow.feedback.dismiss(person_id, ev.show_id, stamp, kind)
                else:
                    await uow.feedback.undismiss(person_id, ev.show_id, kind)
            person = await uow.people.get(person_id)
            linked = await uow.tokens.exists(person_id)
        if kind is FeedbackKind.WATCHLIST and active and self.trakt is not None and show is not None and linked \
                and person is not None and person.settings.trakt_watchlist:
            await self._watchlist_to_trakt(person_id, show.trusted_ids)
        if kind is FeedbackKind.NOT_FOR_ME and self.trakt is not None and show is not None and linked \
                and person is not None and person.settings.trakt_write:
            await self._hide_on_trakt(person_id, show.trusted_ids, active)
        offer = False
        if kind is FeedbackKind.SEEN and active and self.trakt is not None and linked and person is not None \
                and person.settings.trakt_write:
            async with self.store.read() as uow:
                offer = not await uow.feedback.written(person_id, ev.show_id, "watched")
        return Noted(True, title, replaced, offer)

    async def _hide_on_trakt(self, person_id: int, ids: ShowIds, hidden: bool) -> None:
        """👎 keeps the show out of Trakt's own recommendations too (``trakt:write``); undone with the 👎. Best
        effort: the bot's own "never again" is saved whatever Trakt answers."""
        assert self.trakt is not None
        if not (ids.trakt or ids.imdb or ids.slug):
            return
        try:
            await self.trakt.hide_recommendation(person_id, ids, hidden)
        except (ServiceUnavailable, MultitudesError) as e:
            log.info("not hidden on Trakt: %s", type(e).__name__)

    async def _watchlist_to_trakt(self, person_id: int, ids: ShowIds) -> None:
        """Also list the show on Trakt when the person allowed it (``/settings watchlist:on``) and is linked. The
        local record is already saved: a 420 (watchlist full) or an outage loses nothing and says why."""
        assert self.trakt is not None
        if not (ids.trakt or ids.tmdb or ids.imdb or ids.slug):
            return
        try:
            await self.trakt.add_to_watchlist(person_id, ids)
        except TraktAccountLimit as e:
            raise TraktAccountLimit(
                str(e), user_message=_("Saved here, but your Trakt watchlist is full (Trakt answered 420): remove "
                                     "some shows there or go VIP, then add it again.")) from e
        except ServiceUnavailable as e:
            raise MultitudesError(
                str(e), user_message=_("Saved here; Trakt is not answering, so it is not on your Trakt watchlist "
                                     "yet. Try the button again later.")) from e

    async def attach_message(self, event_ids: Sequence[int], platform: str, message_ref: str) -> None:
        async with self.store.unit() as uow:
            await uow.events.attach(event_ids, platform, message_ref)

    async def withdraw(self, event_ids: Sequence[int]) -> int:
        async with self.store.unit() as uow:
            return await uow.events.withdraw(event_ids)

    async def events_for_message(self, platform: str, message_ref: str) -> list[int]:
        async with self.store.read() as uow:
            return await uow.events.for_message(platform, message_ref)

    async def dismiss(self, person_id: int, show_id: int) -> None:
        """Never recommend this show to this person again."""
        async with self.store.unit() as uow:
            await uow.feedback.dismiss(person_id, show_id, self.clock.now(), FeedbackKind.NOT_FOR_ME)

    async def update_adoption(self, person_id: int) -> int:
        """Record adoption of shown picks from the history (run after every sync or import). Returns changes."""
        changed = 0
        now = self.clock.now()
        async with self.store.unit() as uow:
            for c in await uow.feedback.adoption_candidates(person_id):
                finished = bool(c.aired) and c.episodes >= self.finish_share * c.aired
                state = "finished" if finished else "started"
                if c.state in (state, "finished"):
                    continue
                await uow.feedback.set_adoption(c.event_id, person_id, state, c.episodes, now)
                changed += 1
        return changed

    async def rates_by(self, person_id: int | None, bys: Sequence[str]) -> dict[str, list[Rate]]:
        bad = set(bys) - set(RATE_KEYS)
        if bad:
            raise MultitudesError(f"by {bad}", user_message=_("Rates are by strategy, mode, persona, source or all."))
        async with self.store.read() as uow:
            outcomes = await uow.feedback.outcomes(person_id)
        return rates_of(outcomes, bys)

    async def arm_stats(self, person_id: int | None) -> dict[str, dict[str, ArmStats]]:
        """The bandit's evidence (group-watch picks are not a person's own and are left out)."""
        async with self.store.read() as uow:
            outcomes = await uow.feedback.outcomes(person_id, include_group=False)
        return arm_stats_of(outcomes)

    async def ignored(self, person_id: int, before: datetime) -> dict[int, int]:
        async with self.store.read() as uow:
            return await uow.feedback.ignored_counts(person_id, before)
