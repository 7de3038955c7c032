"""Candidate sources, gathered concurrently; each candidate remembers every source that proposed it.

Live (with Trakt and/or TMDB): Trakt related / recommendations / trending / popular / anticipated, TMDB
recommendations / similar / discover per persona; everywhere: collaborative neighbours among the people the store
knows, and the watchlist. Offline (demo): the bundled catalogue stands in for the live lists.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np

from ..catalogue import Catalogue, catalogue_meta, show_ref
from ..errors import MultitudesError
from ..models import PersonaReport, ShowIds, ShowRef
from ..sources.tmdb import GENRE_SLUGS, TmdbClient
from ..sources.trakt import TraktClient, parse_show
from ..store import Store

log = logging.getLogger(__name__)

GENRE_BY_ID = {10759: "Action & Adventure", 16: "Animation", 35: "Comedy", 80: "Crime", 99: "Documentary",
               18: "Drama", 10751: "Family", 10762: "Kids", 9648: "Mystery", 10763: "News", 10764: "Reality",
               10765: "Sci-Fi & Fantasy", 10766: "Soap", 10767: "Talk", 10768: "War & Politics", 37: "Western"}
SLUG_TO_TMDB = {slug: gid for gid, name in GENRE_BY_ID.items() for slug in GENRE_SLUGS.get(name, ())}


@dataclass
class Candidate:
    ref: ShowRef
    meta: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, int] = field(default_factory=dict)      # source -> best rank there
    show_id: int | None = None

    @property
    def key(self) -> tuple[str, Any]:
        return ("tmdb", self.ref.ids.tmdb) if self.ref.ids.tmdb else ("trakt", self.ref.ids.trakt)


def tmdb_summary_meta(r: dict[str, Any]) -> dict[str, Any]:
    genres: list[str] = []
    for gid in r.get("genre_ids") or []:
        for s in GENRE_SLUGS.get(GENRE_BY_ID.get(gid, ""), ()):
            if s not in genres:
                genres.append(s)
    return {"tmdb_id": r.get("id"), "name": r.get("name"), "overview": r.get("overview") or "", "genres": genres,
            "first_air_date": r.get("first_air_date"), "origin_country": r.get("origin_country") or [],
            "original_language": r.get("original_language"), "popularity": r.get("popularity"),
            "vote_average": r.get("vote_average"), "vote_count": r.get("vote_count"),
            "poster_path": r.get("poster_path"), "partial": True}


class Pool:
    def __init__(self) -> None:
        self.items: dict[tuple[str, Any], Candidate] = {}

    def add(self, ref: ShowRef, source: str, rank: int, meta: dict[str, Any] | None = None) -> None:
        c = Candidate(ref, dict(meta or {}), {source: rank})
        k = c.key
        if k[1] is None:
            return
        have = self.items.get(k)
        if have is None:
            self.items[k] = c
            return
        have.sources[source] = min(rank, have.sources.get(source, rank))
        fuller = not have.meta or (have.meta.get("partial") and not meta.get("partial")) if meta else False
        if meta and fuller:
            have.meta = dict(meta)


async def _safe(name: str, aw: Awaitable[None]) -> None:
    """A failing source must not sink the request: the others still answer."""
    try:
        await aw
    except MultitudesError as e:
        log.warning("candidate source %s failed: %s", name, e)


class CandidateSources:
    def __init__(self, store: Store, catalogue: Catalogue, *, trakt: TraktClient | None,
                 tmdb: TmdbClient | None) -> None:
        self.store = store
        self.catalogue = catalogue
        self.trakt = trakt
        self.tmdb = tmdb

    @property
    def live(self) -> bool:
        return self.trakt is not None or self.tmdb is not None

    async def gather(self, person_id: int, report: PersonaReport, seeds: list[dict[str, Any]],
                     linked: bool, like: dict[str, Any] | None = None) -> Pool:
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
                    jobs.append(("trakt_related", self._trakt_list(pool, f"/shows/{s['trakt_id']}/related",
                                                                   "trakt_related")))
            for path, src in (("/shows/trending", "trending"), ("/shows/popular", "popular"),
                              ("/shows/anticipated", "anticipated")):
                jobs.append((src, self._trakt_list(pool, path, src)))
            if linked:
                jobs.append(("trakt_recommendations", self._trakt_recs(pool, person_id)))
        if not self.live:
            jobs.append(("catalogue", self._catalogue(pool, report, seeds, like)))
        await asyncio.gather(*(_safe(n, j) for n, j in jobs))
        return pool

    async def _tmdb_related(self, pool: Pool, tmdb_id: int, kind: str) -> None:
        assert self.tmdb is not None
        for rank, r in enumerate(await self.tmdb.related(tmdb_id, kind)):
            if (r.get("vote_count") or 0) >= 20:           # TMDB's lists are noisy at the low end
                pool.add(ShowRef(ShowIds(tmdb=int(r["id"])), r.get("name") or "?", _year(r)), f"tmdb_{kind}", rank,
                         tmdb_summary_meta(r))

    async def _discover(self, pool: Pool, genres: list[str]) -> None:
        assert self.tmdb is not None
        ids = sorted({SLUG_TO_TMDB[g] for g in genres[:2] if g in SLUG_TO_TMDB})
        if not ids:
            return
        for rank, r in enumerate(await self.tmdb.discover(with_genres=ids)):
            pool.add(ShowRef(ShowIds(tmdb=int(r["id"])), r.get("name") or "?", _year(r)), "tmdb_discover", rank,
                     tmdb_summary_meta(r))

    async def _trakt_list(self, pool: Pool, path: str, source: str) -> None:
        """Public Trakt lists (trending, popular, anticipated, related), cached for an hour in SQLite."""
        assert self.trakt is not None
        key = f"trakt:{path}?limit=40"
        now = self.trakt.clock.now()
        items = await self.store.cache_get(key, now)
        if items is None:
            items = (await self.trakt.page(path, 1, limit=40)).items
            await self.store.cache_put(key, items, now, now + timedelta(hours=1))
        for rank, row in enumerate(items):
            show = row.get("show", row) if isinstance(row, dict) else None
            if isinstance(show, dict) and show.get("ids"):
                pool.add(parse_show(show), source, rank)

    async def _trakt_recs(self, pool: Pool, person_id: int) -> None:
        assert self.trakt is not None
        rows = await self.trakt.get("/recommendations/shows", person_id=person_id,
                                    params={"limit": 50, "ignore_collected": "true"}) or []
        for rank, show in enumerate(rows):
            if isinstance(show, dict) and show.get("ids"):
                pool.add(parse_show(show), "trakt_recommendations", rank)

    async def _cowatch(self, pool: Pool, person_id: int) -> None:
        """Shows watched by the people who share most shows with this person (item-to-item co-watching)."""
        rows = await self.store.all(
            "SELECT p2.show_id, COUNT(DISTINCT p2.person_id) AS n FROM (SELECT DISTINCT show_id FROM plays "
            "WHERE person_id=?) mine JOIN (SELECT DISTINCT person_id, show_id FROM plays WHERE person_id<>?) p1 "
            "ON p1.show_id=mine.show_id JOIN (SELECT DISTINCT person_id, show_id FROM plays) p2 "
            "ON p2.person_id=p1.person_id GROUP BY p2.show_id ORDER BY n DESC LIMIT 200", (person_id, person_id))
        await self._add_store_shows(pool, [(int(r[0]), rank) for rank, r in enumerate(rows)], "cowatch")

    async def _watchlist(self, pool: Pool, person_id: int) -> None:
        rows = await self.store.all("SELECT show_id FROM watchlist WHERE person_id=? ORDER BY listed_at DESC",
                                    (person_id,))
        await self._add_store_shows(pool, [(int(r[0]), rank) for rank, r in enumerate(rows)], "watchlist")

    async def _add_store_shows(self, pool: Pool, ranked: list[tuple[int, int]], source: str) -> None:
        if not ranked:
            return
        marks = ",".join("?" * len(ranked))
        rows = {int(r["id"]): r for r in await self.store.all(f"SELECT * FROM shows WHERE id IN ({marks})",
                                                                [sid for sid, _ in ranked])}
        for sid, rank in ranked:
            r = rows.get(sid)
            if r is None:
                continue
            ref = ShowRef(ShowIds(trakt=r["trakt_id"], tmdb=r["tmdb_id"], imdb=r["imdb_id"]), r["title"], r["year"],
                          r["aired_episodes"])
            meta = json.loads(r["meta"]) if r["meta"] else {}
            pool.add(ref, source, rank, meta or None)

    async def _catalogue(self, pool: Pool, report: PersonaReport, seeds: list[dict[str, Any]],
                         like: dict[str, Any] | None) -> None:
        """Offline stand-in for the live lists: the catalogue shows closest to each persona's genres, plus the
        catalogue's own popular and airing shows."""
        entries = self.catalogue.entries
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
            profiles.append(list(like.get("genres") or []))
        for n, genres in enumerate(profiles):
            v = np.zeros(len(vocab))
            for g in genres:
                if g in gi:
                    v[gi[g]] = 1.0
            if not v.any():
                continue
            sim = G @ (v / np.linalg.norm(v)) + 0.15 * pop
            for rank, i in enumerate(np.argsort(-sim, kind="stable")[:80]):
                e = entries[int(i)]
                pool.add(show_ref(e), "catalogue_like" if like and n == len(profiles) - 1 else "catalogue_persona",
                         rank, catalogue_meta(e))
        for rank, e in enumerate(sorted(entries, key=lambda e: (-e["tmdb_popularity"], e["trakt_id"]))[:60]):
            pool.add(show_ref(e), "catalogue_popular", rank, catalogue_meta(e))
        airing = [e for e in entries if e["status"] == "returning series"]
        for rank, e in enumerate(sorted(airing, key=lambda e: (-e["tmdb_popularity"], e["trakt_id"]))[:40]):
            pool.add(show_ref(e), "catalogue_airing", rank, catalogue_meta(e))


def _year(r: dict[str, Any]) -> int | None:
    d = r.get("first_air_date") or ""
    return int(d[:4]) if isinstance(d, str) and d[:4].isdigit() else None

