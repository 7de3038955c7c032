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

from engine.evaluation.dataset_lists import DatasetLists, FixedClock, TmdbSide, TraktSide, dataset_ids
from engine.evaluation.datasets import Interaction, ts_seconds
from engine.evaluation.strategies import Base, TrainData, top_k
from engine.facade import Engine
from engine.plumbing.config import RecommendSettings, Settings, StorageSettings
from engine.recommend.candidates import LiveSources
from engine.recommend.ranking import Job
from engine.recommend.weights import Profile
from engine.services import Services
from engine.values.catalogue import Catalogue
from engine.values.meta import ShowMeta, from_dict
from engine.values.models import Mode, PersonSettings, Play, RecommendationList, RecommendRequest, ShowRef

T = TypeVar("T")
PLATFORM = "eval"


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
        refs = [ShowRef(dataset_ids(j), m.display_title, m.first_year) for j, m in enumerate(metas)]
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
