"""Trakt's and TMDB's lists answered from a dataset's training part at the cut — trending, popular, related by
co-occurrence, recommendations, discover, title search — behind the ports a request uses
(``engine.recommend.candidates.TraktLists``/``TmdbLists``), as ``lone`` answers the public graph; and the clock
stopped at the cut."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from engine.evaluation.datasets import ts_seconds
from engine.evaluation.strategies import TrainData
from engine.ports.tmdb import SLUG_TO_TMDB
from engine.values.meta import SearchHit, ShowMeta
from engine.values.models import ShowIds, ShowRef
from engine.values.vocabulary import norm_title

TRENDING_DAYS = 7.0           # Trakt's trending: who watched lately (the dataset's sparse sample needs a week)
POPULAR_DAYS = 30.0           # TMDB's popularity: attention over the last month


class FixedClock:
    """The evaluation's clock: always the cut."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        import time
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)


def dataset_ids(pos: int) -> ShowIds:
    """A dataset item's ids as Trakt and TMDB would give them (its position + 1, the same number for both)."""
    return ShowIds(trakt=pos + 1, tmdb=pos + 1)


class DatasetLists:
    """Trakt's and TMDB's lists answered from the training data at the cut.

    - Trakt trending: most distinct watchers over the last ``TRENDING_DAYS``; popular: all-time watchers weighted
      by the mean rating (Trakt: "popularity, calculated using the rating percentage and the number of ratings");
      anticipated: nothing (no dataset has watchlists); related: the most co-watched shows (cosine).
    - TMDB recommendations: the shows most often watched by the show's watchers (conditional share, shrunk);
      similar: shared genres and keywords; discover: shows of the genres asked for, by attention now; search by
      title; details.
    """

    def __init__(self, data: TrainData, metas: Sequence[ShowMeta], end: float, ordinal: bool) -> None:
        self.data = data
        self.metas = list(metas)
        n = len(data.item_ids)
        self.X = data.X.tocsc().astype(np.float32)
        self.Xr = data.X.tocsr().astype(np.float32)
        self.counts = np.asarray(self.X.sum(axis=0)).ravel()
        recent = np.zeros(n)
        attention = np.zeros(n)
        seen: set[tuple[str, str]] = set()
        for it in data.interactions:
            t = ts_seconds(it.ts, ordinal)
            j = data.iix[it.item]
            if end - t <= POPULAR_DAYS * 86400:
                attention[j] += 1
            if end - t <= TRENDING_DAYS * 86400 and (it.user, it.item) not in seen:
                seen.add((it.user, it.item))
                recent[j] += 1
        self.trending = recent
        self.attention = attention
        self.mean_rating = mean_ratings(data)
        self._related: dict[int, NDArray[np.float64]] = {}
        self.titles: dict[str, list[int]] = defaultdict(list)
        for j, m in enumerate(self.metas):
            self.titles[norm_title(m.display_title) or m.display_title.lower()].append(j)
        self.genre_of = [frozenset(m.genres) for m in self.metas]
        self.keywords_of = [frozenset(k.lower() for k in m.keywords) for m in self.metas]
        self.calls: list[str] = []

    def ref(self, j: int) -> ShowRef:
        m = self.metas[j]
        return ShowRef(dataset_ids(j), m.display_title, m.first_year)

    def _top(self, score: NDArray[np.float64], limit: int, skip: int | None = None) -> list[int]:
        s = score.astype(float).copy()
        if skip is not None:
            s[skip] = -np.inf
        k = min(limit, len(s))
        if k <= 0:
            return []
        top = np.argpartition(-s, k - 1)[:k]
        top = top[np.lexsort((top, -s[top]))]
        return [int(j) for j in top if s[j] > 0]

    # -- Trakt ------------------------------------------------------------------------------------------------
    async def public_shows(self, which: str, limit: int = 40) -> list[ShowRef]:
        self.calls.append(f"trakt:{which}")
        if which == "trending":
            return [self.ref(j) for j in self._top(self.trending, limit)]
        if which == "popular":
            rated = np.nan_to_num(self.mean_rating, nan=float(np.nanmean(self.mean_rating))
                                  if np.isfinite(self.mean_rating).any() else 1.0)
            return [self.ref(j) for j in self._top(self.counts * rated, limit)]
        return []

    def _cowatched(self, j: int) -> NDArray[np.float64]:
        if j not in self._related:
            users = self.X[:, j].nonzero()[0]
            co = np.asarray(self.Xr[users].sum(axis=0)).ravel().astype(float)
            co[j] = 0.0
            self._related[j] = co
            if len(self._related) > 4096:
                self._related.pop(next(iter(self._related)))
        return self._related[j]

    async def trakt_related(self, trakt_id: int, limit: int = 30) -> list[ShowRef]:
        self.calls.append("trakt:related")
        j = trakt_id - 1
        if not 0 <= j < len(self.metas):
            return []
        cos = self._cowatched(j) / np.sqrt(np.maximum(self.counts * max(self.counts[j], 1.0), 1.0))
        return [self.ref(i) for i in self._top(cos, limit, skip=j)]

    async def recommendations(self, person_id: int, limit: int = 50) -> list[ShowRef]:
        return []                        # nobody in a dataset has linked Trakt

    # -- TMDB -------------------------------------------------------------------------------------------------
    async def tv(self, tmdb_id: int) -> ShowMeta | None:
        j = tmdb_id - 1
        return self.metas[j] if 0 <= j < len(self.metas) else None

    async def search_tv(self, query: str, year: int | None = None) -> list[SearchHit]:
        hits = self.titles.get(norm_title(query) or query.lower(), [])
        return [SearchHit(j + 1, self.metas[j].display_title, None, None, trakt_id=j + 1) for j in hits]

    async def discover(self, *, with_genres: list[int], without_genres: list[int] | None = None,
                       min_votes: int = 100, page: int = 1) -> list[ShowMeta]:
        self.calls.append("tmdb:discover")
        want = {slug for slug, gid in SLUG_TO_TMDB.items() if gid in set(with_genres)}
        mask = np.array([bool(g & want) for g in self.genre_of], dtype=float)
        return [self.metas[j] for j in self._top(mask * (self.attention + 1e-3 * self.counts), 20)]

    async def tmdb_related(self, tmdb_id: int, kind: str = "recommendations") -> list[ShowMeta]:
        self.calls.append(f"tmdb:{kind}")
        j = tmdb_id - 1
        if not 0 <= j < len(self.metas):
            return []
        if kind == "similar":
            g, kw = self.genre_of[j], self.keywords_of[j]
            if not g and not kw:
                return []
            score = np.array([(len(g & g2) / max(1, len(g | g2))) + 2.0 * len(kw & k2) / max(1, len(kw | k2))
                              for g2, k2 in zip(self.genre_of, self.keywords_of, strict=True)])
            score = score * (1.0 + 1e-3 * np.log1p(self.counts))
            return [self.metas[i] for i in self._top(score, 20, skip=j)]
        share = self._cowatched(j) / (max(self.counts[j], 1.0) + 5.0)
        return [self.metas[i] for i in self._top(share, 20, skip=j)]


class TraktSide:
    """``DatasetLists`` as Trakt (its ``related`` takes a Trakt id and returns refs)."""

    def __init__(self, lists: DatasetLists) -> None:
        self.lists = lists

    async def public_shows(self, which: Any, limit: int = 40) -> list[ShowRef]:
        return await self.lists.public_shows(which, limit)

    async def related(self, trakt_id: int, limit: int = 30) -> list[ShowRef]:
        return await self.lists.trakt_related(trakt_id, limit)

    async def recommendations(self, person_id: int, limit: int = 50) -> list[ShowRef]:
        return await self.lists.recommendations(person_id, limit)


class TmdbSide:
    """``DatasetLists`` as TMDB."""

    def __init__(self, lists: DatasetLists) -> None:
        self.lists = lists

    async def related(self, tmdb_id: int, kind: str = "recommendations") -> list[ShowMeta]:
        return await self.lists.tmdb_related(tmdb_id, kind)

    async def discover(self, *, with_genres: list[int], without_genres: list[int] | None = None,
                       min_votes: int = 100, page: int = 1) -> list[ShowMeta]:
        return await self.lists.discover(with_genres=with_genres, without_genres=without_genres)

    async def search_tv(self, query: str, year: int | None = None) -> list[SearchHit]:
        return await self.lists.search_tv(query, year)

    async def tv(self, tmdb_id: int) -> ShowMeta | None:
        return await self.lists.tv(tmdb_id)


def mean_ratings(data: TrainData) -> NDArray[np.float64]:
    """Each item's mean rating on a 0-10 scale (NaN when nobody rated it)."""
    sums = np.zeros(len(data.item_ids))
    cnt = np.zeros(len(data.item_ids))
    for it in data.interactions:
        if it.rating is not None:
            j = data.iix[it.item]
            sums[j] += 2.0 * float(it.rating)
            cnt[j] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, sums / np.maximum(cnt, 1), np.nan)
