"""What the whole deployment knows, built once and shared by every request: the catalogue index (every show with
metadata — the bundled catalogue and whatever the store holds — with its feature rows) and the population model
(co-watching, popularity over time, ratings) of the people whose histories may shape it.

A ``Deployment`` is an immutable snapshot. ``Deployments.current()`` returns the latest one; when the store has
changed (new plays, new shows with metadata) a fresh snapshot is built in a worker thread while requests keep
using the previous one, so no request waits for a rebuild once the first one exists. Everything CPU-bound — JSON
decoding of thousands of metadata rows, timestamp parsing, feature encoding, EASE — runs in the worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from engine.plumbing.clock import Clock
from engine.plumbing.compute import offload, settle
from engine.recommend.pipeline import CatalogueIndex
from engine.recommend.population import EMPTY as NO_POPULATION
from engine.recommend.population import Event, Population, build_population
from engine.store import Store
from engine.taste.features import CF_DIMS, encode, rows_with
from engine.values.catalogue import Catalogue
from engine.values.meta import ShowMeta, decode
from engine.values.models import Filters
from engine.values.times import parse_ts

log = logging.getLogger(__name__)

CowatchPeople = Callable[[], Awaitable[list[int] | None]]


def seconds(stamps: Sequence[str]) -> NDArray[np.float64]:
    """Stored ISO timestamps ("2024-05-01T20:00:00.000Z") as epoch seconds, vectorised."""
    if not stamps:
        return np.zeros(0)
    try:
        out: NDArray[np.float64] = np.array([s.rstrip("Z") for s in stamps], dtype="datetime64[ms]").astype(
            np.int64) / 1000.0
        return out
    except ValueError:                       # an odd format somewhere: parse one by one
        return np.array([(dt.timestamp() if (dt := parse_ts(s)) is not None else 0.0) for s in stamps])


@dataclass
class Deployment:
    catalogue: CatalogueIndex
    population: Population
    key: tuple[Any, ...]
    built_at: float = field(default_factory=time.monotonic)
    _rows: OrderedDict[int, sparse.csr_matrix] = field(default_factory=OrderedDict, repr=False)

    def cf(self, sid: int) -> NDArray[np.float64] | None:
        return self.population.cf.get(sid)

    def row_of(self, meta: ShowMeta) -> sparse.csr_matrix:
        """The row of a show the deployment does not hold (no co-watching part)."""
        out: sparse.csr_matrix = rows_with(encode([meta]), None)
        return out

    def rows(self, ids: Sequence[int], metas: Mapping[int, ShowMeta] | None = None) -> sparse.csr_matrix:
        """Feature rows of ``ids``: from the index when it holds the show, else encoded from ``metas`` (kept in a
        bounded cache, as the index would). Call from a worker."""
        pos = self.catalogue.pos
        missing = [i for i in dict.fromkeys(ids) if i not in pos and i not in self._rows]
        if missing:
            metas = metas or {}
            ms = [metas.get(i) or ShowMeta() for i in missing]
            cf = np.zeros((len(missing), CF_DIMS))
            for n, i in enumerate(missing):
                v = self.cf(i)
                if v is not None:
                    cf[n, :len(v)] = v[:CF_DIMS]
            new = rows_with(encode(ms), cf)
            for n, i in enumerate(missing):
                self._rows[i] = new[n]
            while len(self._rows) > 50_000:
                self._rows.popitem(last=False)
        if not ids:
            return sparse.csr_matrix((0, self.catalogue.rows.shape[1]))
        parts = []
        at = [pos.get(i, -1) for i in ids]
        if all(a >= 0 for a in at):
            return self.catalogue.rows[at]
        for i, a in zip(ids, at, strict=True):
            parts.append(self.catalogue.rows[a] if a >= 0 else self._rows[i])
        out: sparse.csr_matrix = sparse.vstack(parts, format="csr")
        return out


def assemble(entries: Sequence[tuple[int, ShowMeta]], raw: Sequence[tuple[int, str, str, int | None]],
             plays: Sequence[tuple[int, int, str]], ratings: Sequence[tuple[int, int, int]], key: tuple[Any, ...],
             seed: int) -> Deployment:
    """Decode, encode and fit: the CPU-bound part of a deployment (a worker runs it)."""
    metas: dict[int, ShowMeta] = dict(entries)
    for sid, js, title, year in raw:            # the store's metadata is fresher than the bundled copy
        m = decode(js, title=title, year=year)
        if not m.empty and not m.partial:
            metas[sid] = m
    t = seconds([p[2] for p in plays])
    rated = {(p, s): float(r) for p, s, r in ratings}
    last = {(p, s): n for n, (p, s, _) in enumerate(plays)}          # a pair's rating rides on its last play
    events = [Event(p, s, float(t[n]), rated.get((p, s)) if last[(p, s)] == n else None)
              for n, (p, s, _) in enumerate(plays)]
    population = build_population(events, seed=seed) if events else NO_POPULATION
    ids = np.array(sorted(metas), dtype=np.int64)
    ms = [metas[int(i)] for i in ids]
    cf = np.zeros((len(ids), CF_DIMS))
    for n, i in enumerate(ids):
        v = population.cf.get(int(i))
        if v is not None:
            cf[n, :len(v)] = v[:CF_DIMS]
    rows = rows_with(encode(ms), cf if population.cf else None)
    prior = np.array([np.log1p(m.vote_count or 0.0) for m in ms])
    index = CatalogueIndex(ids, ms, rows, prior)
    index.matching(Filters())                  # the filter columns, the title index and the vocabulary a request
    index.titled("")                           # checks its words against, built here rather than on a first request
    index.services()                           # (on the event loop)
    index.streaming()
    index.knows("status")
    index.warm_franchises()                    # franchise keys: 0.7 s of CPU for 20,000 shows, not on a request
    return Deployment(index, population, key)


class Deployments:
    """The current ``Deployment``, rebuilt in the background when the store has changed."""

    def __init__(self, store: Store, clock: Clock, catalogue: Catalogue | None, *,
                 cowatch_people: CowatchPeople | None = None, seed: int = 0, check_every_s: float = 30.0,
                 rebuild_every_s: float = 600.0) -> None:
        self.store = store
        self.clock = clock
        self.catalogue = catalogue            # shows that can be proposed even before anyone's history holds them
        self.cowatch_people = cowatch_people  # whose histories may shape the population (None: everyone's)
        self.seed = seed
        self.check_every_s = check_every_s
        self.rebuild_every_s = rebuild_every_s
        self._current: Deployment | None = None
        self._checked = 0.0
        self._building: asyncio.Task[Deployment] | None = None
        self._catalogue_ids: list[tuple[int, ShowMeta]] | None = None
        self._stale = False

    async def current(self, *, fresh: bool = False) -> Deployment:
        """The latest snapshot. The first call builds it; later calls return at once and start a background
        rebuild when the store changed — looked at most every ``check_every_s``, rebuilt at most every
        ``rebuild_every_s`` (a rebuild re-encodes the whole index). ``fresh``: wait for a snapshot of the store
        as it is now (the CLI, tests)."""
        now = time.monotonic()
        cur = self._current
        if self._stale:
            fresh, self._stale = True, False
        if cur is not None and not fresh and (now - self._checked < self.check_every_s
                                              or now - cur.built_at < self.rebuild_every_s):
            return cur
        self._checked = now
        key = await self._key()
        if cur is not None and cur.key == key:
            return cur
        if self._building is None or self._building.done():
            self._building = asyncio.create_task(self._build(key))
        if cur is None or fresh:
            return await asyncio.shield(self._building)
        return cur

    def invalidate(self) -> None:
        """Whose histories may be used changed (an opt-out must hold from the next request on): the next
        ``current`` waits for a snapshot of the store as it is then."""
        self._stale = True

    async def population(self) -> Population:
        return (await self.current()).population

    async def _key(self) -> tuple[Any, ...]:
        allowed = await self.cowatch_people() if self.cowatch_people is not None else None
        async with self.store.read() as uow:
            pop = await uow.history.population_key()
            shows = await uow.shows.meta_key()
        return pop, shows, tuple(allowed) if allowed is not None else None

    async def close(self) -> None:
        if self._building is not None and not self._building.done():
            self._building.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._building

    async def _build(self, key: tuple[Any, ...]) -> Deployment:
        t0 = time.perf_counter()
        entries = await self._catalogue_entries()
        allowed = key[2]
        async with self.store.read() as uow:
            raw = await uow.shows.metas_raw()
            plays = await uow.history.population_plays(allowed)
            ratings = await uow.history.population_ratings(allowed)
        dep = await offload(assemble, entries, raw, plays, ratings, key, self.seed)
        self._current = dep
        settle()
        log.info("deployment built: %d shows indexed, %d people, %d plays in %.2f s", len(dep.catalogue.ids),
                 dep.population.people, len(plays), time.perf_counter() - t0)
        return dep

    async def _catalogue_entries(self) -> list[tuple[int, ShowMeta]]:
        """The bundled catalogue's shows with their store ids (stored once, in bulk)."""
        if self._catalogue_ids is None:
            if self.catalogue is None:
                self._catalogue_ids = []
            else:
                shows = self.catalogue.shows
                async with self.store.unit() as uow:
                    ids = await uow.shows.ensure([c.ref for c in shows])
                self._catalogue_ids = [(sid, c.meta) for sid, c in zip(ids, shows, strict=True) if sid is not None]
        return self._catalogue_ids
