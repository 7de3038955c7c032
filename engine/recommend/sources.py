"""Stage 1, candidate sources over the indexes: persona neighbours, bridges, popular here, co-watching,
continuations, what people like this person watch now, the crowd; ``like:``."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from engine.recommend.index import CatalogueIndex
from engine.recommend.pool import Pool
from engine.recommend.population import Population
from engine.recommend.scoring import dense, whole_history, zscore
from engine.recommend.values import F, PersonView
from engine.recommend.weights import Profile

INDEX_SOURCES = ("persona", "bridge", "like", "popular_here", "cowatch", "crowd")



def index_sources(pool: Pool, person: PersonView, catalogue: CatalogueIndex | None, population: Population,
                  profile: Profile, now: float, *, allowed: NDArray[np.bool_] | None = None, per_persona: int = 100,
                  popular: int = 150, cowatch: int = 200, bridge: tuple[int, int] | None = None,
                  sims: NDArray[np.float32] | None = None, continued: Mapping[int, float] | None = None) -> None:
    """Propose from the indexes: the catalogue shows closest to each persona (with ``bridge``, to both of two
    personas at once), what is popular now, and what the population — and the person's crowd — co-watches with
    the person's shows.
    ``allowed``: a mask over the catalogue (filters, a mood); ``sims``: the catalogue's cosine to each persona
    when the caller keeps it (it changes only with the personas)."""
    if catalogue is not None and len(catalogue.ids):
        blocked = catalogue.blocked(person.seen, allowed)
        if person.personas:
            sims = (catalogue.affinity(person.personas) if sims is None else sims).astype(float)
            sims[blocked] = -np.inf
            for j in range(sims.shape[1]):
                _take(pool, catalogue, np.asarray(sims[:, j], dtype=float), person.seen, "persona", per_persona,
                      positive=True)
            if bridge is not None:
                both = np.minimum(sims[:, bridge[0]], sims[:, bridge[1]])
                _take(pool, catalogue, np.asarray(both, dtype=float), person.seen, "bridge", per_persona,
                      positive=True)
        pop = catalogue.prior.copy()
        if not population.empty:
            now_pop = population.popular_at(now, profile.half_life_days * 86400, list(catalogue.ids))
            if now_pop.any():
                pop = zscore(now_pop) + 0.25 * zscore(pop)
        pop[blocked] = -np.inf
        _take(pool, catalogue, pop, person.seen, "popular_here", popular)
    if catalogue is not None and person.watched:
        cont = continued if continued is not None else catalogue.continuations(
            person.recency(profile.history_decay))
        for rank, sid in enumerate(sorted(cont, key=lambda i: (-cont[i], i))):
            n = catalogue.pos[sid]
            if sid not in person.seen and (allowed is None or allowed[n]):
                pool.add(sid, catalogue.metas[n], "continuation", rank)
    if not population.empty and person.watched and population.B is not None:
        history = person.recency(profile.history_decay)
        scores = population.collab(history, population.items)
        for rank, sid in enumerate(population.top(scores, cowatch, person.seen)):
            pool.add(sid, catalogue.meta(sid) if catalogue is not None else None, "cowatch", rank)
    if not population.empty and person.watched and population.Xn is not None:
        votes = population.neighbours(whole_history(person), population.items, now,
                                      profile.neighbours_days * 86400, exclude=person.id)
        for rank, sid in enumerate(population.top(votes, cowatch // 2, person.seen)):
            if allowed is None or catalogue is None or sid not in catalogue.pos or allowed[catalogue.pos[sid]]:
                pool.add(sid, catalogue.meta(sid) if catalogue is not None else None, "neighbours", rank)
    crowd = person.crowd.population if person.crowd is not None else None
    if crowd is not None and person.watched and crowd.B is not None:
        history = person.recency(profile.history_decay)
        scores = crowd.collab(history, crowd.items)
        for rank, sid in enumerate(crowd.top(scores, cowatch, person.seen)):
            if allowed is None or catalogue is None or sid not in catalogue.pos or allowed[catalogue.pos[sid]]:
                pool.add(sid, catalogue.meta(sid) if catalogue is not None else None, "crowd", rank)



def like_sources(pool: Pool, person: PersonView, catalogue: CatalogueIndex | None, population: Population,
                 like_row: sparse.csr_matrix, like_id: int | None, *, allowed: NDArray[np.bool_] | None = None,
                 n: int = 150) -> None:
    """``like:X``: the catalogue shows closest to X, and what the population and the crowd co-watch with X."""
    if catalogue is not None and len(catalogue.ids):
        sims = np.asarray(catalogue.rows @ dense(like_row).ravel(), dtype=float)
        sims[catalogue.blocked(person.seen, allowed)] = -np.inf
        if like_id is not None and like_id in catalogue.pos:
            sims[catalogue.pos[like_id]] = -np.inf
        _take(pool, catalogue, sims, person.seen, "like", n, positive=True)
    if like_id is not None and not population.empty and population.B is not None:
        scores = population.collab({like_id: 1.0}, population.items)
        for rank, sid in enumerate(population.top(scores, n // 3, person.seen | {like_id})):
            pool.add(sid, catalogue.meta(sid) if catalogue is not None else None, "like", rank)
    crowd = person.crowd.population if person.crowd is not None else None
    if like_id is not None and crowd is not None and crowd.B is not None:
        scores = crowd.collab({like_id: 1.0}, crowd.items)
        for rank, sid in enumerate(crowd.top(scores, n // 3, person.seen | {like_id})):
            pool.add(sid, catalogue.meta(sid) if catalogue is not None else None, "like", rank)



def _take(pool: Pool, catalogue: CatalogueIndex, score: F, seen: set[int], source: str, n: int, *,
          positive: bool = False) -> None:
    """Add the ``n`` best-scoring catalogue shows the person has not seen (``score`` -inf where blocked)."""
    m = min(len(score) - 1, 2 * n)
    top = np.argpartition(-score, m)[: m + 1] if m > 0 else np.arange(len(score))
    order = top[np.argsort(-score[top], kind="stable")]
    vals = score[order]
    ok = np.isfinite(vals) & (vals > 0) if positive else np.isfinite(vals)
    cut = len(ok) if ok.all() else int(np.argmin(ok))      # best first: the first that fails ends the list
    metas = catalogue.metas
    rank = 0
    for sid, i in zip(catalogue.ids[order[:cut]].tolist(), order[:cut].tolist(), strict=True):
        if sid in seen:
            continue
        pool.add(sid, metas[i], source, rank)
        rank += 1
        if rank >= n:
            break
