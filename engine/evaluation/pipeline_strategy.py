"""The engine's own pipeline as an evaluation strategy: a dataset becomes the catalogue (its items), the
histories (its people) and the co-watching population (everyone else in the training data), and every list
comes out of ``engine.recommend.pipeline`` — the same sources, exclusion, scorers and selector a person gets.

What a dataset cannot provide stays empty: no Trakt or TMDB lists (``evidence``), no air dates (``lifecycle``),
no tone tags, no time of day. Weights are the shipped profile, or fitted on a validation split of the training
data (``engine.evaluation.tune``, the code behind ``multitudes tune``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
from scipy import sparse

from ..meta import ShowMeta, from_dict
from ..models import Mode
from ..recommend.pipeline import (
    CatalogueIndex,
    PersonaVec,
    PersonView,
    Pool,
    Scored,
    exclude,
    genre_distribution,
    index_sources,
    score,
    select,
)
from ..recommend.population import Event, Population, build_population
from ..recommend.weights import Profile, shipped
from ..taste.build import build_personas
from ..taste.features import FeatureSpace, build_features
from .datasets import Interaction
from .people import ItemIndex, person_history
from .strategies import Base, TrainData, top_k


def seconds(ts: float, ordinal: bool) -> float:
    """Dataset time in seconds (row ordinals count as hours, as ``ts_to_datetime`` reads them)."""
    return ts * 3600.0 if ordinal else ts


@dataclass
class World:
    """A dataset's training data, as the pipeline sees a deployment."""
    data: TrainData
    metas: list[ShowMeta]
    space: FeatureSpace
    catalogue: CatalogueIndex
    population: Population
    ordinal: bool
    end: float                                           # the last training moment (seconds)
    index: ItemIndex = field(init=False)

    def __post_init__(self) -> None:
        self.index = ItemIndex(self.data.item_ids)

    def rows(self, ids: Sequence[int]) -> sparse.csr_matrix:
        return self.space.matrix[list(ids)]


def build_world(data: TrainData, *, ordinal: bool, seed: int = 0, collaborative: bool = True) -> World:
    """``collaborative=False``: a fresh deployment's view — what everyone watches (Trakt's public lists: trending,
    popular) but no co-watching (no EASE, no co-watching embeddings in the feature rows)."""
    metas = [from_dict(data.items.get(it) or {"title": it}) for it in data.item_ids]
    events = [Event(data.uix[it.user], data.iix[it.item], seconds(it.ts, ordinal),
                    None if it.rating is None else float(it.rating) * 2.0) for it in data.interactions]
    population = build_population(events, seed=seed)
    if not collaborative:
        population = replace(population, B=None, keep=np.zeros(0, dtype=np.int64), cf={})
    space = build_features(dict(enumerate(metas)), cf=population.cf or None, seed=seed)
    counts = np.asarray(data.X.sum(axis=0)).ravel().astype(float)
    catalogue = CatalogueIndex(np.arange(len(metas), dtype=np.int64), metas, space.matrix, np.log1p(counts))
    end = max((seconds(it.ts, ordinal) for it in data.interactions), default=0.0)
    return World(data, metas, space, catalogue, population, ordinal, end)


class PersonaCache:
    """Each person's personas, built once (the engine's own ``build_personas`` on the world's feature rows)."""

    def __init__(self, world: World, seed: int = 0) -> None:
        self.world = world
        self.seed = seed
        self._views: dict[str, PersonView] = {}

    def view(self, user: str, data: TrainData | None = None) -> PersonView:
        w = self.world
        d = data or w.data
        key = f"{id(d)}:{user}"
        if key in self._views:
            return self._views[key]
        rows: list[Interaction] = d.by_user.get(user, [])
        personas: list[PersonaVec] = []
        times: dict[int, float] = {}
        last = None
        if rows:
            h = person_history(rows, w.index, ordinal=w.ordinal, episodic=w.ordinal)
            now = h.all_watches()[-1][1].at
            b = build_personas(h, dict(enumerate(w.metas)), now, space=w.space, seed=self.seed)
            for n, dr in enumerate(b.personas):
                c = dr.cluster
                personas.append(PersonaVec(n, dr.name, c.share, np.asarray(c.centroid, dtype=float), list(c.members),
                                           dr.trend, dr.context.hours, dr.context.weekdays, tuple(dr.genres)))
            times = {w.data.iix[r.item]: seconds(r.ts, w.ordinal) for r in rows}
            last = max(times.values())
        seen = {w.data.iix[r.item] for r in rows}
        genres = genre_distribution([w.metas[i] for i in seen]) if seen else {}
        view = PersonView(personas, seen, times, last, None, [], genres)
        self._views[key] = view
        return view


def pool_for(world: World, view: PersonView, profile: Profile, exclude_ids: set[int]) -> Pool:
    """Candidates from the pipeline's own sources, then the exclusion stage."""
    pool = Pool()
    person = PersonView(view.personas, view.seen | exclude_ids, view.watched, view.last_active, None, [],
                        view.genres)
    index_sources(pool, person, world.catalogue, world.population, profile, world.end)
    return exclude(pool, person)


def scored_for(world: World, view: PersonView, profile: Profile, exclude_ids: set[int]) -> Scored:
    pool = pool_for(world, view, profile, exclude_ids)
    person = PersonView(view.personas, view.seen | exclude_ids, view.watched, view.last_active, None, [],
                        view.genres)
    return score(pool, person, world.rows, world.population, profile, now=datetime.fromtimestamp(world.end, UTC),
                 now_ts=world.end, metadata=False, genre_columns=True)


class Multitudes(Base):
    """``multitudes``: the live pipeline, mode "across your personas"."""

    name = "multitudes"

    def __init__(self, *, ordinal: bool = False, seed: int = 0, profile: Profile | None = None,
                 fit_weights: bool = True, protocol: str = "last-n", tune_users: int = 200) -> None:
        super().__init__(seed)
        self.ordinal = ordinal
        self.profile = profile or shipped().profile("live")
        self.fit_weights = fit_weights
        self.protocol = protocol
        self.tune_users = tune_users
        self.tuning: dict[str, Any] = {}
        self.world: World | None = None
        self.personas: PersonaCache | None = None

    def share(self, world: World, personas: PersonaCache) -> None:
        """Use a world already built from the same training data (the evaluation builds one for its metrics)."""
        self.world, self.personas = world, personas

    def fit(self, data: TrainData) -> None:
        super().fit(data)
        if self.fit_weights:
            from .tune import fit_profile
            self.profile, self.tuning = fit_profile(data, ordinal=self.ordinal, protocol=self.protocol,
                                                    start=self.profile, users=self.tune_users, seed=self.seed)
        if self.world is None or self.world.data is not data:
            self.world = build_world(data, ordinal=self.ordinal, seed=self.seed)
            self.personas = PersonaCache(self.world, self.seed)

    def view(self, user: str) -> PersonView | None:
        assert self.world is not None and self.personas is not None
        return self.personas.view(user) if user in self.world.data.uix else None

    def recommend(self, user: str, k: int, exclude: set[str]) -> list[str]:
        assert self.world is not None and self.data is not None
        w = self.world
        view = self.view(user)
        ex = {w.data.iix[i] for i in exclude if i in w.data.iix}
        out: list[str] = []
        if view is not None:
            sc = scored_for(w, view, self.profile, ex)
            picks = select(sc, Mode.AUTO, k, self.profile, genres=view.genres)
            out = [w.data.item_ids[sc.pool.ids[p.index]] for p in picks]
        if len(out) < k:                                 # a tiny catalogue or a stranger: the popular rest
            out += [i for i in top_k(self.data, None, self._pop, k + len(out), exclude | set(out))][: k - len(out)]
        return out[:k]
