"""The owner's media server (Jellyfin, Emby) as a person's history and library, and Seerr requests from picks.

- **Linking**: the owner's mapping (``mediaserver.people``) links a chat identity to a server user at once;
  anyone else gets a Jellyfin Quick Connect code to confirm in their own server session. Never a guessed name; a
  server user someone else linked is refused.
- **Sync**: played episodes, newest first. One request says whether anything changed (the newest play date and
  the count of played episodes both as the last sync saw them); otherwise pages are read until the plays already
  stored, and only when the count then does not add up (an episode marked unplayed) is the whole list read again and
  the missing plays removed. Series are matched to shows by the TMDB/TVDB/IMDb ids the server carries.
- **Library**: the server's shows, read in full at most every ``library_hours`` (and for the series a sync meets
  that were never read), shared by everyone the server serves: cards say "in your library", ``/recommend library``
  keeps to it.
- **Requests**: 📥 on a pick asks Seerr as the person's own Seerr user; one claim per person and show, written
  before Seerr is called and removed when Seerr refuses or cannot be reached — a refused request leaves nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from engine.plumbing.clock import Clock
from engine.plumbing.config import MediaServerSettings
from engine.ports.mediaserver import NAMES, MediaServerPort, PlayedPage, QuickCode, ServerPlay, ServerShow, ServerUser
from engine.ports.requests import SeerrPort, SonarrPort
from engine.store import Store
from engine.store.records import MediaLink
from engine.store.repos.shows import lookup
from engine.values.errors import MultitudesError, NotLinked, NotYours, OutcomeUnknown
from engine.values.i18n import _
from engine.values.models import FeedbackKind, Play, ShowRef, SyncReport
from engine.values.plans import Outcome, Requested, ServerLinkStart
from engine.values.times import iso

log = logging.getLogger(__name__)

IDS_PER_REQUEST = 100
STORE_CHUNK = 2000      # plays stored per unit (a crash between units is harmless: plays are keyed, re-read next time)


class MediaServers:
    def __init__(self, store: Store, clock: Clock, settings: MediaServerSettings, server: MediaServerPort | None,
                 seerr: SeerrPort | None, *, stale_minutes: float = 60, wave_people: int = 500,
                 sonarr: SonarrPort | None = None, sonarr_people: frozenset[str] = frozenset()) -> None:
        self.store = store
        self.sonarr = sonarr                     # without Seerr: adds to Sonarr, for the people the owner allows
        self.sonarr_people = sonarr_people       # "platform:user id" (the owners among them)
        self.stale_minutes = stale_minutes       # the background sync's: a person synced longer ago is due
        self.wave_people = wave_people
        self.clock = clock
        self.settings = settings
        self.server = server
        self.seerr = seerr
        self._codes: dict[int, QuickCode] = {}
        self._syncing: dict[int, asyncio.Lock] = {}
        # a person's whole sync (server, Trakt, metadata, adoption): ``LibraryService.sync``, set by bootstrap
        self.sync_person: Callable[[int], Awaitable[SyncReport]] | None = None
        self.on_shows: Callable[[list[int]], Any] | None = None     # new library shows: fetch their metadata

    @property
    def kind(self) -> str | None:
        return self.server.kind if self.server is not None else None

    def _server(self, kind: str | None = None) -> MediaServerPort:
        if self.server is None:
            raise NotLinked("no media server", user_message=(
                _(
                    "This bot has no media server configured: its owner can add Jellyfin, Emby or Plex (see the "
                    "README).")))
        if kind is not None and kind != self.server.kind:
            raise MultitudesError(f"server kind {kind}", user_message=(
                _("This bot's media server is {NAMES}, not {value}: `/link {kind}`.").format(
                    NAMES=NAMES[self.server.kind], value=kind.title(), kind=self.server.kind)))
        return self.server

    # -- linking ------------------------------------------------------------------------------------------------
    async def start_link(self, person_id: int, kind: str) -> ServerLinkStart:
        server = self._server(kind)
        async with self.store.read() as uow:
            identities = await uow.people.identities(person_id)
        mapped = next((self.settings.people[k] for p, u in identities if (k := f"{p}:{u}") in self.settings.people),
                      None)
        if mapped is not None:
            users = await server.users()
            user = next((u for u in users if mapped in (u.name, u.id)), None)
            if user is None:
                raise MultitudesError(f"mapped user {mapped!r} not on the server", user_message=(
                    _(
                        "The owner mapped you to the {NAMES} user {mapped}, which that server does not have. Ask "
                        "them to check `mediaserver.people`.").format(NAMES=NAMES[server.kind], mapped=repr(mapped))))
            await self._attach(person_id, user)
            return ServerLinkStart(NAMES[server.kind], linked_as=user.name)
        code = await server.start_code()
        self._codes[person_id] = code
        return ServerLinkStart(NAMES[server.kind], code=code.code)

    async def poll_link(self, person_id: int) -> str | None:
        """The server user's name once they confirmed the code, None while they have not."""
        code = self._codes.get(person_id)
        if code is None:
            raise NotLinked("no server link in progress", user_message=(
                _("No link in progress: run `/link {value}` first.").format(value=self.kind or 'jellyfin')))
        try:
            user = await self._server().code_user(code.secret)
        except NotLinked:
            self._codes.pop(person_id, None)
            raise
        if user is None:
            return None
        self._codes.pop(person_id, None)
        await self._attach(person_id, user)
        return user.name

    def cancel(self, person_id: int) -> None:
        self._codes.pop(person_id, None)

    async def _attach(self, person_id: int, user: ServerUser) -> None:
        kind = self._server().kind
        async with self.store.unit() as uow:
            holder = await uow.media.holder(kind, user.id)
            if holder is not None and holder != person_id:
                raise MultitudesError("server user linked by someone else", user_message=(
                    _(
                        "The {NAMES} user {name} is already linked to someone else here. If that is wrong, they can "
                        "/unlink it, or the bot's owner can help.").format(NAMES=NAMES[kind], name=repr(user.name))))
            await uow.media.set_link(person_id, kind, user.id, user.name, self.clock.now())

    async def unlink(self, person_id: int) -> bool:
        self.cancel(person_id)
        async with self.store.unit() as uow:
            return await uow.media.unlink(person_id)

    async def linked(self, person_id: int) -> bool:
        async with self.store.read() as uow:
            return await uow.media.link(person_id) is not None

    # -- the library -----------------------------------------------------------------------------------------------
    async def refresh_library(self, *, force: bool = False) -> int:
        """Read the server's shows again when older than ``library_hours``; returns how many shows it has."""
        server = self._server()
        now = self.clock.now()
        async with self.store.read() as uow:
            read_at = await uow.media.library_read_at(server.kind)
        if not force and read_at is not None and now - read_at < timedelta(hours=self.settings.library_hours):
            return -1
        start, total, seen = 0, 0, 0
        while True:
            shows, total = await server.shows(None, start, self.settings.page_limit)
            await self._put_shows(server.kind, shows, now)
            seen += len(shows)
            start += len(shows)
            if not shows or start >= total:
                break
        async with self.store.unit() as uow:
            await uow.media.finish_library(server.kind, total, now, self.clock.now())
        log.info("%s library: %d shows read", NAMES[server.kind], seen)
        return seen

    async def _put_shows(self, kind: str, shows: list[ServerShow], now: datetime) -> dict[str, int | None]:
        refs = [s.ref for s in shows if s.ref is not None]
        async with self.store.unit() as uow:
            ids = await uow.shows.upsert(refs, trusted=False) if refs else {}
            rows = [(s.item_id, lookup(ids, s.ref.ids) if s.ref is not None else None,
                     s.ref.title if s.ref is not None else "?") for s in shows]
            await uow.media.put_library(kind, rows, now)
        new = [show for _, show, _ in rows if show is not None]
        if new and self.on_shows is not None:
            self.on_shows(new)
        return {item: show for item, show, _ in rows}

    async def library(self, person_id: int) -> frozenset[int] | None:
        """The shows on the person's server (None: they have no server linked)."""
        if self.server is None:
            return None
        async with self.store.read() as uow:
            if await uow.media.link(person_id) is None:
                return None
            return frozenset(await uow.media.library_shows(self.server.kind))

    # -- sync ------------------------------------------------------------------------------------------------------
    async def sync(self, person_id: int) -> SyncReport:
        """One person's played episodes (one at a time per person here: a /sync during the background wave waits
        for it and then costs one request)."""
        async with self._syncing.setdefault(person_id, asyncio.Lock()):
            return await self._sync(person_id)

    async def _sync(self, person_id: int) -> SyncReport:
        server = self._server()
        async with self.store.read() as uow:
            link = await uow.media.link(person_id)
            known = await uow.media.items_played(person_id, server.kind) if link is not None else {}
        if link is None:
            raise NotLinked(f"person {person_id} has no server link")
        start_requests = server.http.requests
        if (await self._library_empty()):
            await self.refresh_library()
        limit = self.settings.page_limit
        page = await server.played(link.server_user, 0, limit)
        newest = iso(page.plays[0].played_at) if page.plays else None
        if page.total == link.played_total and newest == link.newest:
            async with self.store.unit() as uow:
                await uow.media.save_sync(person_id, page.total, newest, self.clock.now())
            return SyncReport(unchanged=True, requests=server.http.requests - start_requests, source=server.kind)
        total = page.total
        complete = link.newest is None
        if complete:                                  # the first sync: every page, page 1 says how many
            fresh = await self._every(server, link.server_user, page)
        else:                                         # newest first, until the plays already stored
            fresh, start = [], 0
            while True:
                new = [p for p in page.plays if iso(p.played_at) > (link.newest or "")]
                fresh += new
                start += page.size
                if len(new) < len(page.plays) or not page.size or start >= page.total:
                    break
                page = await server.played(link.server_user, start, limit)
            # the count adds up only if nothing left the list: last time's episodes plus the ones never seen
            if (link.played_total or 0) + len({p.item_id for p in fresh} - set(known)) != total:
                page = await server.played(link.server_user, 0, limit)
                total, complete = page.total, True
                fresh = await self._every(server, link.server_user, page)
        still = {p.item_id for p in fresh}
        removed = [k for item, keys in known.items() if item not in still for k in keys] if complete else []
        added, shows = await self._store_plays(person_id, server, fresh)
        async with self.store.unit() as uow:
            gone = await uow.media.drop_plays(person_id, removed) if removed else 0
            await uow.media.save_sync(person_id, total, newest, self.clock.now())
        return SyncReport(new_plays=added, removed_plays=gone, shows_touched=len(shows),
                          requests=server.http.requests - start_requests, source=server.kind)

    async def _every(self, server: MediaServerPort, user: str, first: PlayedPage) -> list[ServerPlay]:
        """Every played episode: the pages after the first at once (the client's connection limit paces them)."""
        limit = self.settings.page_limit
        rest = await asyncio.gather(*(server.played(user, s, limit)
                                      for s in range(first.size or limit, first.total, limit)))
        return [p for page in (first, *rest) for p in page.plays]

    async def _library_empty(self) -> bool:
        async with self.store.read() as uow:
            return await uow.media.library_read_at(self._server().kind) is None

    async def _store_plays(self, person_id: int, server: MediaServerPort, plays: list[ServerPlay]
                           ) -> tuple[int, set[int]]:
        if not plays:
            return 0, set()
        async with self.store.read() as uow:
            series = await uow.media.library_items(server.kind, {p.series_id for p in plays})
        missing = sorted({p.series_id for p in plays} - set(series))
        now = self.clock.now()
        for i in range(0, len(missing), IDS_PER_REQUEST):       # series the last library read did not have
            batch = missing[i:i + IDS_PER_REQUEST]
            found, _ = await server.shows(None, 0, len(batch), ids=batch)
            series.update(await self._put_shows(server.kind, found, now))
        async with self.store.read() as uow:
            refs = {sid: r for sid, r in (await uow.shows.many([s for s in series.values() if s is not None])).items()}
        # one ref per show, shared by its plays (the store looks each show up once)
        by_item = {item: ShowRef(r.ids, r.title, r.year) for item, sid in series.items()
                   if sid is not None and (r := refs.get(sid)) is not None}
        skipped = sum(1 for p in plays if p.series_id not in by_item)   # series without ids: never guessed
        if skipped:
            log.info("%s: %d plays of series without TMDB/TVDB/IMDb ids left out", NAMES[server.kind], skipped)
        added, shows = 0, set[int]()
        for i in range(0, len(plays), STORE_CHUNK):       # a unit per chunk: the loop is never held for long
            out = [Play(show=by_item[p.series_id], season=p.season, episode=p.episode, watched_at=p.played_at,
                        action="watch", episode_title=p.title, item=p.item_id)
                   for p in plays[i:i + STORE_CHUNK] if p.series_id in by_item]
            async with self.store.unit() as uow:
                added += await uow.history.add_plays(person_id, out, server.kind, shows)
        return added, shows

    async def wave(self) -> tuple[int, int]:
        """The scheduler's ``media.sync``: the server's shows when stale, then everyone linked whose last sync is
        older than ``sync.stale_after_minutes``, one at a time (a home server is small). Returns (synced, failed)."""
        if self.server is None or self.sync_person is None:
            return 0, 0
        await self.refresh_library()
        async with self.store.read() as uow:
            due = await uow.media.due(self.clock.now() - timedelta(minutes=self.stale_minutes), self.wave_people)
        synced = failed = 0
        for pid in due:
            try:
                await self.sync_person(pid)
                synced += 1
            except MultitudesError as e:            # an outage: the next wave tries again
                failed += 1
                log.warning("media-server sync of person %s failed: %s", pid, type(e).__name__)
        return synced, failed

    # -- requests --------------------------------------------------------------------------------------------------
    async def can_request(self, person_id: int) -> bool:
        """Whether 📥 is offered to this person: Seerr decides for itself; Sonarr only for the people allowed."""
        if self.seerr is not None:
            return True
        return self.sonarr is not None and await self._allowed(person_id)

    async def _allowed(self, person_id: int) -> bool:
        async with self.store.read() as uow:
            identities = await uow.people.identities(person_id)
        return any(f"{p}:{u}" in self.sonarr_people for p, u in identities)

    async def request(self, person_id: int, event_id: int) -> Requested:
        """📥: ask Seerr for the pick's show as the person's own Seerr user (or, without Seerr, add it to Sonarr
        for the people the owner allows). At most one request per person and show; a refusal, or the service out
        of reach, leaves no claim behind."""
        if self.seerr is None and self.sonarr is None:
            raise MultitudesError("no requests", user_message=_("Requests are not set up on this bot (no Seerr or "
                                  "Sonarr)."))
        now = self.clock.now()
        async with self.store.read() as uow:
            ev = await uow.events.get(event_id)
            if ev is None or ev.person_id != person_id:
                raise NotYours(f"event {event_id} for person {person_id}")
            show = await uow.shows.get(ev.show_id)
            link = await uow.media.link(person_id)
            before = await uow.media.request_outcome(person_id, ev.show_id)
        if show is None:
            raise MultitudesError("no show", user_message=_("That show is no longer known here."))
        if before is not None:
            return Requested(show.title, Outcome.ALREADY)
        if self.seerr is not None and link is None:
            raise NotLinked("no server link", user_message=(
                _("Link your media server first (`/link jellyfin`, `/link emby` or `/link plex`): requests are made as "
                "your own Seerr user.")))
        if self.seerr is None and not await self._allowed(person_id):
            return Requested(show.title, Outcome.REFUSED)
        if show.ids.tmdb is None and (self.seerr is not None or show.ids.tvdb is None):
            return Requested(show.title, Outcome.UNKNOWN_SHOW)
        async with self.store.unit() as uow:
            if not await uow.media.claim_request(person_id, ev.show_id, event_id, now):
                return Requested(show.title, Outcome.ALREADY)      # a second tap that raced the first
        try:
            outcome, request_id = await self._ask(link, show.ids.tmdb, show.ids.tvdb)
        except OutcomeUnknown:
            async with self.store.unit() as uow:     # it may have reached the service: never sent twice
                await uow.media.settle_request(person_id, ev.show_id, "unknown", None)
            raise
        except BaseException:
            async with self.store.unit() as uow:
                await uow.media.drop_request(person_id, ev.show_id)
            raise
        async with self.store.unit() as uow:
            if outcome.requested or outcome is Outcome.ALREADY:
                await uow.media.settle_request(person_id, ev.show_id, outcome.value, request_id)
            else:
                await uow.media.drop_request(person_id, ev.show_id)
            if outcome.requested:                     # an adoption signal, like a 📌
                await uow.feedback.put(person_id, event_id, FeedbackKind.REQUESTED, True, now)
        return Requested(show.title, outcome)

    async def _ask(self, link: MediaLink | None, tmdb: int | None, tvdb: int | None) -> tuple[Outcome, int | None]:
        if self.seerr is None:
            assert self.sonarr is not None
            return await self.sonarr.add(tvdb, tmdb), None
        assert link is not None and tmdb is not None
        seerr_user = await self.seerr.user_for(link.server, link.server_user)
        if seerr_user is None:
            return Outcome.NO_USER, None
        answer = await self.seerr.request(seerr_user, tmdb, tvdb)
        return answer.outcome, answer.request_id
