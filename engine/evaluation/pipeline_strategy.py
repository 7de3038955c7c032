"""A dataset as the pipeline's stages see it, without a store: the catalogue (its items), the histories (its people)
and the co-watching population (everyone else in the training data). ``lone`` (a person alone, with and without
the public graph), the feedback simulation and the evaluation's persona-coverage metric build on it; the list a
person gets is measured by ``live`` (``engine.evaluation.live``), which goes through the store and the façade.

What a dataset cannot provide stays empty: no Trakt or TMDB lists (``evidence``), no air dates (``lifecycle``),
no tone tags, no time of day. Weights are the shipped profile, or fitted on a validation split of the training
data (``engine.evaluation.tune``, the code behind ``multitudes tune``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import numpy as np
from scipy import sparse

from engine.evaluation.datasets import Interaction, ts_seconds
from engine.evaluation.people import ItemIndex, person_history
from engine.evaluation.strategies import TrainData
from engine.recommend.pipeline import (
    CatalogueIndex,
    PersonaVec,
    PersonView,
    Pool,
    Scored,
    exclude,
    genre_distribution,
    index_sources,
    score,
)
from engine.recommend.population import Event, Population, build_population
from engine.recommend.weights import Profile
from engine.taste.build import build_personas
from engine.taste.features import FeatureSpace, build_features
from engine.values.meta import ShowMeta, from_dict


def seconds(ts: float, ordinal: bool) -> float:
    """Dataset time in seconds (row ordinals at the rate ``ts_to_datetime`` reads them)."""
    return ts_seconds(ts, ordinal)


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
