"""Similar people for a person alone (issue 14): their *crowd* — the Trakt members who rated the shows they watched
last, found through Trakt's public graph (``engine.usecases.public_graph``) — read in the background by the
scheduler, within a request budget per person, and never while someone waits for a list.

    refresh (scheduler, ``crowd.every_minutes``; each person once every ``crowd.refresh_days``)
      seeds: the person's 6 last watched shows, then the most typical show of the largest persona they miss
      (shows the store knows a Trakt id of)
      -> PublicGraph.around(seeds, Budget(crowd.budget)): who rated them (show comments carry the author's
         rating), then those members' public ratings; private members skipped; answers cached a week
      -> the members' shows mapped to internal shows (stored by their Trakt/TMDB/IMDb ids), the ones several
         members rate highly given metadata, the members stored as rows of ratings — never a username
    request (``/recommend``, ``/personas``): the stored crowd, built once per refresh into a model in a worker
      (``engine.recommend.crowd_model``: EASE over the members' ratings, a cosine vote among them, and each persona's
      closest members)

The same ``engine.recommend.crowd_model`` code builds the crowd in ``multitudes eval --strategies lone``.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from engine.plumbing.caching import CachedLookups
from engine.plumbing.clock import Clock
from engine.plumbing.compute import offload
from engine.plumbing.config import CrowdSettings
from engine.ports.trakt import PublicSource
from engine.recommend import crowd_model as crowds
from engine.recommend.crowd_model import Crowd, Rating, Side
from engine.recommend.deployment import seconds
from engine.store import Store
from engine.store.repos.crowd import decode
from engine.usecases.public_graph import Budget, Member, PublicGraph
from engine.values.errors import MultitudesError, ServiceUnavailable
from engine.values.i18n import _
from engine.values.models import PersonaReport, ShowIds, ShowRef

if TYPE_CHECKING:
    from engine.taste.service import PersonaService

log = logging.getLogger(__name__)

Enrich = Callable[[Sequence[int]], Awaitable[int]]
ENRICH = 120                  # shows given metadata per refresh: the ones most members rate highly
CACHE_BYTES = 128 * 2**20     # crowd models kept built in memory (the most recently used people's)


@dataclass(slots=True)
class RefreshReport:
    people: int = 0               # members found
    requests: int = 0             # requests put on the wire (cached answers cost none)
    shows: int = 0                # distinct shows they rated
    seeds: int = 0


@dataclass(slots=True)
class CrowdWave:
    due: int = 0
    refreshed: int = 0
    failed: int = 0
    requests: int = 0
    errors: list[str] = field(default_factory=list)


class CrowdService:
    def __init__(self, store: Store, clock: Clock, settings: CrowdSettings, source: PublicSource | None,
                 lookups: CachedLookups | None, personas: PersonaService, enrich: Enrich, *, seed: int = 0,
                 salt: bytes = b"multitudes-public-graph") -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.source = source                  # the Trakt client (None: Trakt not configured, no crowd)
        self.lookups = lookups
        self.personas = personas              # PersonaService
        self.enrich = enrich
        self.seed = seed
        self.salt = salt                      # the key of strangers' pseudonyms (``PublicGraph``)
        self._built: OrderedDict[int, tuple[tuple[object, ...], Crowd | None]] = OrderedDict()

    def forget(self, person_id: int) -> None:
        """Drop the person's crowd model from memory."""
        self._built.pop(person_id, None)

    @property
    def enabled(self) -> bool:
        return self.source is not None and self.settings.enabled

    # -- the background part ---------------------------------------------------------------------------------
    async def wave(self) -> CrowdWave:
        """Refresh the people who are due, within ``crowd.run_requests`` over everyone."""
        rep = CrowdWave()
        if not self.enabled:
            return rep
        s = self.settings
        now = self.clock.now()
        async with self.store.read() as uow:
            due = await uow.crowd.due(now - timedelta(days=s.refresh_days), now - timedelta(hours=s.retry_hours),
                                      max(1, s.run_requests // max(1, s.budget) * 4))
        rep.due = len(due)
        for pid in due:
            left = s.run_requests - rep.requests
            if left <= 0:
                break
            try:
                got = await self.refresh(pid, budget=min(s.budget, left))
            except ServiceUnavailable as e:             # Trakt is down or keeps limiting us: the next run goes on
                rep.failed += 1
                rep.errors.append(type(e).__name__)
                break
            except MultitudesError as e:
                rep.failed += 1
                rep.errors.append(type(e).__name__)
                log.warning("crowd refresh of person %s failed: %s", pid, type(e).__name__)
                async with self.store.unit() as uow:
                    await uow.crowd.failed(pid, type(e).__name__)
                continue
            rep.refreshed += 1
            rep.requests += got.requests
        return rep

    async def refresh(self, person_id: int, *, budget: int | None = None) -> RefreshReport:
        """Find this person's crowd again (at most ``budget`` requests, ``crowd.budget`` by default)."""
        if self.source is None:
            raise MultitudesError("no Trakt", user_message=_("Similar people need Trakt configured."))
        rep = RefreshReport()
        report = await self.personas.personas(person_id)
        now = self.clock.now()
        async with self.store.unit() as uow:
            await uow.crowd.attempt(person_id, now)
            played = await uow.history.last_watched(person_id)
        times = seconds([t for _, t in played])
        watched = {sid: float(t) for (sid, _), t in zip(played, times, strict=True)}
        sides = _sides(report)
        order = crowds.seeds(sides, watched, n=len(watched) + 3 * len(sides))
        trakt_ids = await self._trakt_ids(order)
        seeds = [trakt_ids[s] for s in order if s in trakt_ids][:crowds.SEEDS]
        rep.seeds = len(seeds)
        spend = Budget(budget if budget is not None else self.settings.budget)
        members = (await PublicGraph(self.source, self.lookups, salt=self.salt).around(seeds, spend,
                                                                                       people=crowds.PEOPLE)
                   if seeds else [])
        rep.requests = spend.spent
        rows, top = await self._localise(members, set(watched))
        async with self.store.unit() as uow:
            await uow.crowd.put(person_id, rows, spend.spent, now)
        self._built.pop(person_id, None)
        rep.people, rep.shows = len(rows), len({s for m in rows for s, _, _ in m})
        if top:
            await self.enrich(top[:ENRICH])
        log.info("crowd of person %s: %d members, %d shows, %d requests", person_id, rep.people, rep.shows,
                 rep.requests)
        return rep

    async def _trakt_ids(self, show_ids: Sequence[int]) -> dict[int, int]:
        """The Trakt ids the store holds for these shows (as the live related lists use them)."""
        async with self.store.read() as uow:
            recs = await uow.shows.many(show_ids)
        return {sid: r.trusted_ids.trakt for sid, r in recs.items() if r.trusted_ids.trakt is not None}

    async def _localise(self, members: list[Member], seen: set[int]
                        ) -> tuple[list[list[tuple[int, int, float | None]]], list[int]]:
        """Members' ratings by internal show id, and the shows most of them rate highly (for metadata)."""
        refs: dict[int, ShowRef] = {}
        for m in members:
            for tid, ref in m.shows.items():
                refs.setdefault(tid, ref if ref.ids.trakt is not None else ShowRef(ShowIds(trakt=tid), ref.title))
        if not refs:
            return [], []
        async with self.store.unit() as uow:
            keys = await uow.shows.upsert(refs.values())
        local = {tid: keys[("trakt", tid)] for tid in refs if ("trakt", tid) in keys}
        rows = [[(local[t], r, m.rated_at.get(t)) for t, r in m.ratings.items() if t in local] for m in members]
        liked: dict[int, int] = {}
        for row in rows:
            for sid, r, _at in row:
                if r >= crowds.LIKED and sid not in seen:
                    liked[sid] = liked.get(sid, 0) + 1
        top = sorted((s for s, n in liked.items() if n >= 2), key=lambda s: (-liked[s], s))
        return [r for r in rows if r], top

    # -- what requests read (never the wire) -----------------------------------------------------------------
    async def crowd(self, person_id: int, report: PersonaReport) -> Crowd | None:
        """The person's crowd as a model, built in a worker once per refresh and persona report."""
        if not self.settings.enabled:
            return None
        async with self.store.read() as uow:
            at = await uow.crowd.computed_at(person_id)
        if at is None:
            return None
        key = (at, report.computed_at)
        got = self._built.get(person_id)
        if got is not None and got[0] == key:
            self._built.move_to_end(person_id)
            return got[1]
        async with self.store.read() as uow:
            row = await uow.crowd.get_raw(person_id)
        if row is None or row[2] is None:
            return None
        text, computed_at = row[0], row[2]
        key = (computed_at, report.computed_at)
        t0 = time.perf_counter()
        built = await offload(_build, text, _sides(report), computed_at.timestamp(), self.seed)
        log.debug("crowd model of person %s built in %.3f s", person_id, time.perf_counter() - t0)
        self._built[person_id] = (key, built)
        # bounded by memory: a crowd's EASE matrix is (shows several members rated)² float32, ~1-4 MB
        while len(self._built) > 1 and sum(_nbytes(c) for _, c in self._built.values()) > CACHE_BYTES:
            self._built.popitem(last=False)
        return built

    async def lately(self, person_id: int, report: PersonaReport, excluded: set[int], n: int = 3
                     ) -> dict[int, list[str]]:
        """For each persona, what the Trakt members closest to it rated highly lately (titles; shows the person
        has not seen, with metadata)."""
        crowd = await self.crowd(person_id, report)
        if crowd is None:
            return {}
        want = {p.id: [s for s in crowd.lately.get(p.id, []) if s not in excluded][: 4 * n] for p in report.personas}
        async with self.store.read() as uow:
            recs = await uow.shows.many({s for v in want.values() for s in v})
        out: dict[int, list[str]] = {}
        for pid, shows in want.items():
            titles = [recs[s].meta.display_title for s in shows
                      if s in recs and recs[s].has_meta and not recs[s].meta.empty][:n]
            if titles:
                out[pid] = titles
        return out


def _build(text: str, sides: list[Side], end: float, seed: int) -> Crowd | None:
    """The stored members (JSON) as the crowd's model: decoding and fitting both in the worker."""
    return crowds.build([[Rating(s, r, a) for s, r, a in m] for m in decode(text)], sides, end, seed=seed)


def _nbytes(c: Crowd | None) -> int:
    return int(c.population.B.nbytes) if c is not None and c.population.B is not None else 0


def _sides(report: PersonaReport) -> list[Side]:
    return [Side(p.id, p.member_ids, p.member_weights) for p in sorted(report.personas, key=lambda p: -p.weight)]
