"""The outside lists a request asks (with Trakt and/or TMDB configured), gathered concurrently; each candidate
remembers every list that proposed it and its rank there.

Trakt related / recommendations / trending / popular / anticipated, TMDB recommendations / similar / discover per
persona. The sources every deployment has — the catalogue index, popularity and co-watching from the population,
the watchlist — are the pipeline's own (``engine.recommend.pipeline.index_sources``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine.ports.tmdb import SLUG_TO_TMDB
from engine.ports.trakt import PublicList
from engine.values.errors import MultitudesError
from engine.values.meta import EMPTY, SearchHit, ShowMeta
from engine.values.models import PersonaReport, ShowIds, ShowRef

log = logging.getLogger(__name__)


@dataclass
class Candidate:
    ref: ShowRef
    meta: ShowMeta = EMPTY
    sources: dict[str, int] = field(default_factory=dict)      # source -> best rank there
    show_id: int | None = None

    @property
    def key(self) -> tuple[str, Any]:
        return ("tmdb", self.ref.ids.tmdb) if self.ref.ids.tmdb else ("trakt", self.ref.ids.trakt)


class Pool:
    def __init__(self) -> None:
        self.items: dict[tuple[str, Any], Candidate] = {}

    def add(self, ref: ShowRef, source: str, rank: int, meta: ShowMeta | None = None) -> None:
        c = Candidate(ref, meta or EMPTY, {source: rank})
        k = c.key
        if k[1] is None:
            return
        have = self.items.get(k)
        if have is None:
            self.items[k] = c
            return
        have.sources[source] = min(rank, have.sources.get(source, rank))
        if meta is not None and not meta.empty and (have.meta.empty or (have.meta.partial and not meta.partial)):
            have.meta = meta


async def _safe(name: str, aw: Awaitable[None]) -> None:
    """A failing source must not sink the request: the others still answer."""
    try:
        await aw
    except MultitudesError as e:
        log.warning("candidate source %s failed: %s", name, e)


class TraktLists(Protocol):
    """What a request asks of Trakt: its public lists, a show's related shows, a linked person's
    recommendations (``engine.adapters.trakt.TraktClient``; in ``multitudes eval``, the training data)."""

    async def public_shows(self, which: PublicList, limit: int = 40) -> list[ShowRef]: ...

    async def related(self, trakt_id: int, limit: int = 30) -> list[ShowRef]: ...

    async def recommendations(self, person_id: int, limit: int = 50) -> list[ShowRef]: ...


class TmdbLists(Protocol):
    """What a request asks of TMDB: a show's recommendations and similar shows, discover by genre, title search
    and a show's details (``engine.adapters.tmdb.TmdbPort``; in ``multitudes eval``, the training data)."""

    async def related(self, tmdb_id: int, kind: str = "recommendations") -> list[ShowMeta]: ...

    async def discover(self, *, with_genres: list[int], without_genres: list[int] | None = None,
                       min_votes: int = 100, page: int = 1) -> list[ShowMeta]: ...

    async def search_tv(self, query: str, year: int | None = None) -> list[SearchHit]: ...

    async def tv(self, tmdb_id: int) -> ShowMeta | None: ...


class LiveSources:
    def __init__(self, *, trakt: TraktLists | None, tmdb: TmdbLists | None) -> None:
        self.trakt = trakt
        self.tmdb = tmdb

    @property
    def live(self) -> bool:
        return self.trakt is not None or self.tmdb is not None

    async def gather(self, person_id: int, report: PersonaReport, seeds: list[dict[str, Any]],
                     linked: bool, like: ShowMeta | None = None) -> list[Candidate]:
        """``seeds``: shows to expand from ({show_id, trakt_id, tmdb_id}), best first."""
        pool = Pool()
        jobs: list[tuple[str, Awaitable[None]]] = []
        if self.tmdb is not None:
            for s in seeds[:8]:
                if s.get("tmdb_id"):
                    jobs.append(("tmdb_recommendations", self._tmdb_related(pool, s["tmdb_id"], "recommendations")))
                    jobs.append(("tmdb_similar", self._tmdb_related(pool, s["tmdb_id"], "similar")))
            for p in report.personas[:6]:
                jobs.append(("tmdb_discover", self._discover(pool, list(p.genres))))
        if self.trakt is not None:
            for s in seeds[:6]:
                if s.get("trakt_id"):
                    jobs.append(("trakt_related", self._trakt_related(pool, int(s["trakt_id"]))))
            which: tuple[PublicList, ...] = ("trending", "popular", "anticipated")
            for src in which:
                jobs.append((src, self._trakt_public(pool, src)))
            if linked:
                jobs.append(("trakt_recommendations", self._trakt_recs(pool, person_id)))
        await asyncio.gather(*(_safe(n, j) for n, j in jobs))
        return list(pool.items.values())

    async def _tmdb_related(self, pool: Pool, tmdb_id: int, kind: str) -> None:
        assert self.tmdb is not None
        for rank, m in enumerate(await self.tmdb.related(tmdb_id, kind)):
            if (m.vote_count or 0) >= 20 and m.tmdb_id:           # TMDB's lists are noisy at the low end
                pool.add(ShowRef(ShowIds(tmdb=m.tmdb_id), m.title or "?", m.year), f"tmdb_{kind}", rank, m)

    async def _discover(self, pool: Pool, genres: list[str]) -> None:
        assert self.tmdb is not None
        ids = sorted({SLUG_TO_TMDB[g] for g in genres[:2] if g in SLUG_TO_TMDB})
        if not ids:
            return
        for rank, m in enumerate(await self.tmdb.discover(with_genres=ids)):
            if m.tmdb_id:
                pool.add(ShowRef(ShowIds(tmdb=m.tmdb_id), m.title or "?", m.year), "tmdb_discover", rank, m)

    async def _trakt_public(self, pool: Pool, which: PublicList) -> None:
        """Trending, popular, anticipated (shared by everyone, cached for an hour)."""
        assert self.trakt is not None
        for rank, ref in enumerate(await self.trakt.public_shows(which, 40)):
            pool.add(ref, which, rank)

    async def _trakt_related(self, pool: Pool, trakt_id: int) -> None:
        assert self.trakt is not None
        for rank, ref in enumerate(await self.trakt.related(trakt_id, 40)):
            pool.add(ref, "trakt_related", rank)

    async def _trakt_recs(self, pool: Pool, person_id: int) -> None:
        assert self.trakt is not None
        for rank, ref in enumerate(await self.trakt.recommendations(person_id, 50)):
            pool.add(ref, "trakt_recommendations", rank)
