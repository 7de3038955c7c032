"""``live``: the list a person gets from ``/recommend``, measured as they get it.

The training part of a dataset becomes a deployment, and every test person's list is the façade's
``Engine.recommend`` — the call a person's ``/recommend`` makes, through the same personas, deployment snapshot,
live lists, scorers, bandit, selection and recording:

- a real store (SQLite in a temporary folder): the training people as people, with co-watching opted in as in a
  deployment where everyone agreed (``cowatch="none"``: a fresh deployment, nobody opted in), their plays with
  their timestamps, their ratings; the items as shows with their metadata, where TMDB's numbers (vote count and
  average, popularity) are what the training data says at the cut;
- the clock at the cut (the last training moment);
- Trakt's and TMDB's lists (trending, popular, related, recommendations, similar, discover, title search) answered
  from the training data at the cut by ``DatasetLists``, behind the ports the request uses
  (``engine.recommend.candidates.TraktLists``/``TmdbLists``), as ``lone`` answers the public graph;
- the bandit on, seeded (per person and day, as live), with no feedback yet; no LLM.

``LiveWorld`` also hands ``multitudes tune`` the request's own scored candidates (``jobs``), so the weights are
fitted on what the bot computes, not on a copy of it.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Coroutine, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from engine.evaluation.datasets import Interaction, ts_seconds
from engine.evaluation.strategies import Base, TrainData, top_k
from engine.facade import Engine
from engine.plumbing.config import RecommendSettings, Settings, StorageSettings
from engine.ports.tmdb import SLUG_TO_TMDB
from engine.recommend.candidates import LiveSources
from engine.recommend.ranking import Job
from engine.recommend.weights import Profile
from engine.services import Services
from engine.values.catalogue import Catalogue
from engine.values.meta import SearchHit, ShowMeta, from_dict
from engine.values.models import Mode, PersonSettings, Play, RecommendationList, RecommendRequest, ShowIds, ShowRef
from engine.values.vocabulary import norm_title

T = TypeVar("T")
TRENDING_DAYS = 7.0           # Trakt's trending: who watched lately (the dataset's sparse sample needs a week)
POPULAR_DAYS = 30.0           # TMDB's popularity: attention over the last month
PLATFORM = "eval"


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


def _ids(pos: int) -> ShowIds:
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
        return ShowRef(_ids(j), m.display_title, m.first_year)

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


def show_metas(data: TrainData, lists: DatasetLists | None = None) -> list[ShowMeta]:
    """The items as show metadata: what the dataset says of them, and TMDB's numbers as the training data gives
    them at the cut (vote count: everyone who watched it; vote average: their mean rating; popularity: plays over
    the last month)."""
    out = []
    for j, it in enumerate(data.item_ids):
        d = dict(data.items.get(it) or {"title": it})
        if lists is not None:
            votes = float(lists.counts[j])
            if votes:
                d["vote_count"] = votes
            r = lists.mean_rating[j]
            if np.isfinite(r) and votes:
                d["vote_average"] = round(float(r), 2)
            if lists.attention[j]:
                d["popularity"] = float(lists.attention[j])
        d["tmdb_id"] = j + 1
        out.append(from_dict(d))
    return out


@dataclass
class Built:
    engine: Engine
    services: Services
    people: dict[str, int]            # dataset user -> person id
    items: dict[int, str]             # show id -> dataset item
    lists: DatasetLists


class LiveWorld:
    """A dataset's training data as a running deployment (its own event loop, store and engine)."""

    def __init__(self, data: TrainData, *, ordinal: bool, seed: int = 0, cowatch: str = "all",
                 profile: Profile | None = None) -> None:
        if cowatch not in ("all", "none"):
            raise ValueError(f"cowatch must be all or none, not {cowatch!r}")
        self.data = data
        self.ordinal = ordinal
        self.seed = seed
        self.cowatch = cowatch
        self.profile = profile
        self.end = max((ts_seconds(it.ts, ordinal) for it in data.interactions), default=0.0)
        self.cut = datetime.fromtimestamp(self.end, UTC) + timedelta(seconds=1)     # the clock: after the last play
        self._dir = tempfile.mkdtemp(prefix="multitudes-eval-")
        self._loop = asyncio.new_event_loop()
        self.built: Built | None = None
        self._sid_of: dict[str, int] | None = None

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._loop.run_until_complete(coro)

    def build(self) -> Built:
        if self.built is None:
            self.built = self.run(self._build())
        return self.built

    async def _build(self) -> Built:
        from engine.bootstrap import assemble
        data = self.data
        cut = self.cut
        lists = DatasetLists(data, [from_dict(data.items.get(it) or {"title": it}) for it in data.item_ids],
                             self.end, self.ordinal)
        metas = show_metas(data, lists)
        lists.metas = metas
        settings = Settings(storage=StorageSettings(path=f"{self._dir}/eval.db"),
                            recommend=RecommendSettings(rebuild_minutes=1e6))
        sources = LiveSources(trakt=TraktSide(lists), tmdb=TmdbSide(lists))
        engine, services = await assemble(settings, clock=FixedClock(cut), catalogue=Catalogue(entries=()),
                                          seed=self.seed, lists=sources, profile=self.profile)
        store = services.store
        refs = [ShowRef(_ids(j), m.display_title, m.first_year) for j, m in enumerate(metas)]
        async with store.unit() as uow:
            ids = await uow.shows.ensure(refs)
            await uow.shows.save_metas([(sid, m, cut + timedelta(days=3650))
                                        for sid, m in zip(ids, metas, strict=True) if sid is not None], cut)
        items = {sid: data.item_ids[j] for j, sid in enumerate(ids) if sid is not None}
        people: dict[str, int] = {}
        settings_on = PersonSettings(share_cowatch=self.cowatch == "all")
        for user in data.users:
            rows = data.by_user[user]
            async with store.unit() as uow:
                pid = await uow.people.create(PLATFORM, user, None, cut)
                await uow.people.save_settings(pid, settings_on)
                await uow.history.add_plays(pid, plays(rows, refs, data, self.ordinal), "eval")
                rated = last_ratings(rows)
                if rated:
                    await uow.history.add_listed(pid, ratings=[
                        (refs[data.iix[i]], datetime.fromtimestamp(ts_seconds(ts, self.ordinal), UTC).isoformat(),
                         max(1, min(10, round(2.0 * r)))) for i, (ts, r) in rated.items()])
            people[user] = pid
        await engine.warm()
        return Built(engine, services, people, items, lists)

    def recommend(self, user: str, k: int) -> list[str]:
        b = self.build()
        pid = b.people.get(user)
        if pid is None:
            return []
        got = self.run(b.engine.recommend(RecommendRequest(person_id=pid, k=k, mode=Mode.AUTO, use_llm=False,
                                                           platform=PLATFORM)))
        return [b.items[r.show_id] for r in got.items if r.show_id in b.items]

    def request(self, user: str, k: int = 10) -> Job | None:
        """What ``Engine.recommend`` hands its worker for this person (None: not a person here, or a cold start)."""
        b = self.build()
        pid = b.people.get(user)
        if pid is None:
            return None
        got = self.run(b.services.recommender.prepare(
            RecommendRequest(person_id=pid, k=k, mode=Mode.AUTO, use_llm=False, platform=PLATFORM)))
        return None if isinstance(got, RecommendationList) else got[0]

    def show_ids(self, items: Iterable[str]) -> set[int]:
        b = self.build()
        if self._sid_of is None:
            self._sid_of = {it: sid for sid, it in b.items.items()}
        return {self._sid_of[i] for i in items if i in self._sid_of}

    def close(self) -> None:
        if self.built is not None:
            self.run(self.built.engine.close())
            self.built = None
        self._loop.close()
        shutil.rmtree(self._dir, ignore_errors=True)


def plays(rows: Sequence[Interaction], refs: Sequence[ShowRef], data: TrainData, ordinal: bool) -> list[Play]:
    """A person's interactions as plays: one episode each, numbered in order per show."""
    n: dict[str, int] = defaultdict(int)
    out = []
    for it in rows:
        n[it.item] += 1
        out.append(Play(refs[data.iix[it.item]], 1, n[it.item],
                        datetime.fromtimestamp(ts_seconds(it.ts, ordinal), UTC)))
    return out


def last_ratings(rows: Sequence[Interaction]) -> dict[str, tuple[float, float]]:
    """Item -> (when, rating) of the person's last rating of it."""
    out: dict[str, tuple[float, float]] = {}
    for it in rows:
        if it.rating is not None:
            out[it.item] = (it.ts, float(it.rating))
    return out


class Live(Base):
    """``live``: ``Engine.recommend`` for each person over a deployment built from the training data."""

    name = "live"

    def __init__(self, *, ordinal: bool = False, seed: int = 0, cowatch: str = "all",
                 profile: Profile | None = None) -> None:
        super().__init__(seed)
        self.ordinal = ordinal
        self.cowatch = cowatch
        self.profile = profile
        self.world: LiveWorld | None = None
        self._asked: dict[tuple[str, int], list[str]] = {}

    def fit(self, data: TrainData) -> None:
        super().fit(data)
        self._asked = {}
        if self.world is not None:
            self.world.close()
        self.world = LiveWorld(data, ordinal=self.ordinal, seed=self.seed, cowatch=self.cowatch,
                               profile=self.profile)
        self.world.build()

    def recommend(self, user: str, k: int, exclude: set[str]) -> list[str]:
        """The person's list; asked again, the same list (the first answer is what they were shown: asking the
        bot again would give the next best, as picks shown lately rest)."""
        assert self.world is not None and self.data is not None
        if (user, k) not in self._asked:
            self._asked[(user, k)] = self.world.recommend(user, k)
        out = [i for i in self._asked[(user, k)] if i not in exclude]
        if len(out) < k:            # a stranger, or a list shorter than asked: the popular rest (as the baselines)
            out += top_k(self.data, None, self._pop, k, exclude | set(out))[: k - len(out)]
        return out[:k]

    def close(self) -> None:
        if self.world is not None:
            self.world.close()
            self.world = None


__all__ = ["DatasetLists", "FixedClock", "Live", "LiveWorld"]
