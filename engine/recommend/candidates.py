"""Candidate sources, gathered concurrently; each candidate remembers every source that proposed it.

Live (with Trakt and/or TMDB): Trakt related / recommendations / trending / popular / anticipated, TMDB
recommendations / similar / discover per persona; everywhere: collaborative neighbours among the people the store
knows, and the watchlist. Offline (demo): the bundled catalogue stands in for the live lists.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..catalogue import Catalogue
from ..errors import MultitudesError
from ..meta import EMPTY, ShowMeta
from ..models import PersonaReport, ShowIds, ShowRef
from ..sources.tmdb import SLUG_TO_TMDB, TmdbClient
from ..sources.trakt import PublicList, TraktPort
from ..store import Store

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


class CandidateSources:
    def __init__(self, store: Store, catalogue: Catalogue, *, trakt: TraktPort | None,
                 tmdb: TmdbClient | None) -> None:
        self.store = store
        self.catalogue = catalogue
        self.trakt = trakt
        self.tmdb = tmdb

    @property
    def live(self) -> bool:
        return self.trakt is not None or self.tmdb is not None

    async def gather(self, person_id: int, report: PersonaReport, seeds: list[dict[str, Any]],
                     linked: bool, like: ShowMeta | None = None) -> Pool:
        """``seeds``: shows to expand from ({show_id, trakt_id, tmdb_id, persona_id}), best first."""
        pool = Pool()
        jobs: list[tuple[str, Awaitable[None]]] = [
            ("cowatch", self._cowatch(pool, person_id)), ("watchlist", self._watchlist(pool, person_id)),
        ]
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
        if not self.live:
            jobs.append(("catalogue", self._catalogue(pool, report, seeds, like)))
        await asyncio.gather(*(_safe(n, j) for n, j in jobs))
        return pool

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

    async def _cowatch(self, pool: Pool, person_id: int) -> None:
        """Shows watched by the people who share most shows with this person (item-to-item co-watching)."""
        async with self.store.read() as uow:
            rows = await uow.history.cowatch_neighbours(person_id, limit=200)
            shows = await uow.shows.many(sid for sid, _ in rows)
        for rank, (sid, _) in enumerate(rows):
            if sid in shows:
                rec = shows[sid]
                pool.add(rec.ref, "cowatch", rank, rec.meta if rec.has_meta and not rec.meta.empty else None)

    async def _watchlist(self, pool: Pool, person_id: int) -> None:
        async with self.store.read() as uow:
            listed = await uow.history.watchlist(person_id)
            shows = await uow.shows.many(listed)
        for rank, sid in enumerate(listed):
            if sid in shows:
                rec = shows[sid]
                pool.add(rec.ref, "watchlist", rank, rec.meta if rec.has_meta and not rec.meta.empty else None)

    async def _catalogue(self, pool: Pool, report: PersonaReport, seeds: list[dict[str, Any]],
                         like: ShowMeta | None) -> None:
        """Offline stand-in for the live lists: the catalogue shows closest to each persona's genres, plus the
        catalogue's own popular and airing shows."""
        entries = self.catalogue.entries
        shows = self.catalogue.shows
        vocab = sorted({g for e in entries for g in e["genres"]})
        gi = {g: j for j, g in enumerate(vocab)}
        G = np.zeros((len(entries), len(vocab)))
        for i, e in enumerate(entries):
            for g in e["genres"]:
                G[i, gi[g]] = 1.0
        G /= np.maximum(np.linalg.norm(G, axis=1, keepdims=True), 1e-9)
        pop = np.log1p(np.array([e["imdb_votes"] for e in entries], dtype=float))
        pop /= pop.max() or 1.0
        profiles = [list(p.genres) for p in report.personas]
        if like:
            profiles.append(list(like.genres))
        for n, genres in enumerate(profiles):
            v = np.zeros(len(vocab))
            for g in genres:
                if g in gi:
                    v[gi[g]] = 1.0
            if not v.any():
                continue
            sim = G @ (v / np.linalg.norm(v)) + 0.15 * pop
            for rank, i in enumerate(np.argsort(-sim, kind="stable")[:80]):
                c = shows[int(i)]
                pool.add(c.ref, "catalogue_like" if like and n == len(profiles) - 1 else "catalogue_persona",
                         rank, c.meta)
        for rank, c in enumerate(sorted(shows, key=lambda c: (-(c.meta.popularity or 0), c.ids.trakt or 0))[:60]):
            pool.add(c.ref, "catalogue_popular", rank, c.meta)
        airing = [c for c in shows if c.meta.status == "Returning Series"]
        for rank, c in enumerate(sorted(airing, key=lambda c: (-(c.meta.popularity or 0), c.ids.trakt or 0))[:40]):
            pool.add(c.ref, "catalogue_airing", rank, c.meta)


