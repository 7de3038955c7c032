"""A person's crowd: the Trakt members found through the public graph (``engine.usecases.public_graph``) whose ratings
overlap the person's recent shows, as a small co-watching model of their own, and, per persona, the members closest
to that side. Pure and CPU-bound (a worker builds it); the live bot (``engine.usecases.crowd_refresh``) and
``multitudes eval --strategies lone`` both build it with this code, so what is measured is what people get.

    seeds          the shows to look for people around: the last watched first (measured better than the personas'
                   medoids on MovieLens and Annict), then each persona's most typical
    population     EASE over the members' ratings (every rated show was watched): the ``crowd`` candidate source
                   and, with a cosine user-kNN vote among the members (``Crowd.vote``), the crowd's part of the
                   ``collab`` scorer
    by persona     each member's overlap with a persona: the persona's engagement weights times the member's
                   centred ratings of its shows, shrunk by ``n / (n + SHRINK)`` for an overlap of ``n`` shows;
                   a persona's neighbours say which picks "people who share your X side" rate highly, and what
                   they rated lately

Strangers are never named: a member is a row of ratings here, nothing more.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from engine.recommend.population import Event, Population, build_population

BUDGET = 60          # requests per person and refresh (the bot's default ``crowd.budget``)
SEEDS = 7            # shows to look for people around (one comments page each)
PEOPLE = 53          # members read (their ratings): what the budget leaves after finding them
RECENT = 6           # seeds taken from the last watched shows, then the most typical show of the largest persona
                     # they miss (MovieLens last-5, Recall@10 of lone: 4 last + every missed persona 0.0672,
                     # 6 last 0.0761, 6 last + one missed persona 0.0721 — kept: every large side gets people)
LAM = 300.0          # EASE's ridge over the members' ratings
SHRINK = 3.0         # an overlap of n shows counts n / (n + SHRINK)
NEIGHBOURS = 12      # a persona's closest members (its "people who share this side")
LIKED = 8            # a rating (1-10) that counts as rating a show highly
PRIOR = 3.0          # the crowd's co-watching counts people / (people + PRIOR): members chosen for their overlap
                     # with this person speak for the taste far sooner than as many random people (the
                     # population's prior is 30); 55 members count 0.95 (measured: with 30, 0.65, Recall@10 fell
                     # 6% on MovieLens and 10% on Annict)


@dataclass(frozen=True, slots=True)
class Rating:
    show: int                      # an internal show id (the dataset's item in an evaluation)
    rating: int                    # 1-10
    at: float | None = None        # when (epoch seconds), if known


@dataclass(frozen=True, slots=True)
class Side:
    """A persona as the crowd sees it: its id, its shows and their engagement weights."""
    id: int
    members: Sequence[int]
    weights: Sequence[float] = ()


@dataclass
class Crowd:
    population: Population
    people: int
    support: dict[int, dict[int, float]] = field(default_factory=dict)   # persona id -> show -> neighbours' say
    lately: dict[int, list[int]] = field(default_factory=dict)           # persona id -> shows, latest first
    M: sparse.csr_matrix | None = None    # members × the population's items: who rated what (cosine rows)

    def vote(self, watched: Mapping[int, float], ids: Sequence[int] | NDArray[np.int64]) -> NDArray[np.float64]:
        """User-kNN within the crowd: each member's cosine to the person's shows, summed over the members who
        rated each of ``ids``."""
        out = np.zeros(len(ids))
        if self.M is None or not watched:
            return out
        pos = self.population.positions(list(watched))
        mine = np.zeros(self.M.shape[1])
        mine[pos[pos >= 0]] = 1.0
        if not mine.any():
            return out
        sims = np.asarray(self.M @ mine).ravel() / math.sqrt(len(watched))
        scores = np.asarray(self.M.T @ sims).ravel()
        p = self.population.positions(ids)
        out[p >= 0] = scores[p[p >= 0]]
        return out

    @property
    def confidence(self) -> float:
        return self.people / (self.people + PRIOR) if self.population.B is not None else 0.0


def seeds(sides: Sequence[Side], watched: Mapping[int, float], *, n: int = SEEDS, recent: int = RECENT) -> list[int]:
    """The ``recent`` last watched shows, then the most typical show of each persona none of them belongs to
    (largest first: every side gets people of its own), then more of the last watched; ``n`` at most."""
    last = sorted(watched, key=lambda i: (-watched[i], i))
    out = last[:recent]
    covered = {s.id for s in sides if set(out) & set(s.members)}
    out += [s.members[0] for s in sides if s.id not in covered and s.members]
    return list(dict.fromkeys(out + last))[:n]


def build(members: Sequence[Sequence[Rating]], sides: Sequence[Side], end: float, *, seed: int = 0,
          seen: set[int] | None = None) -> Crowd | None:
    """The crowd's model (None with nobody in it). ``end``: the time the population's events are stamped with
    (their ratings' order, not their dates, is what EASE reads); ``seen``: the person's shows, never "lately"."""
    events = [Event(n, r.show, end, float(r.rating)) for n, m in enumerate(members) for r in m]
    if not events:
        return None
    population = build_population(events, seed=seed, min_count=2, lam=LAM)
    rows = [(n, population.pos[r.show]) for n, m in enumerate(members) for r in m]
    r_, c_ = zip(*rows, strict=True)
    M = sparse.csr_matrix((np.ones(len(r_)), (r_, c_)), shape=(len(members), len(population.items)))
    M.data[:] = 1.0                                                    # a member who rated a show twice: once
    norms = np.sqrt(np.asarray(M.sum(axis=1)).ravel())
    M = sparse.csr_matrix(sparse.diags(1.0 / np.maximum(norms, 1e-12)) @ M)
    crowd = Crowd(population, len(members), {}, {}, M)
    seen = seen or set()
    for side in sides:
        sims = _overlap(side, members)
        near = [j for j in np.argsort(-sims, kind="stable")[:NEIGHBOURS] if sims[j] > 0]
        say: dict[int, float] = {}
        recent: dict[int, float] = {}
        count: dict[int, int] = {}
        for j in near:
            for r in members[j]:
                if r.rating >= LIKED and r.show not in seen:
                    say[r.show] = say.get(r.show, 0.0) + float(sims[j])
                    recent[r.show] = max(recent.get(r.show, 0.0), r.at or 0.0)
                    count[r.show] = count.get(r.show, 0) + 1
        # a show counts when at least two of the side's neighbours rate it highly (one stranger is an anecdote)
        crowd.support[side.id] = {s: v for s, v in say.items() if count[s] >= 2}
        crowd.lately[side.id] = sorted(crowd.support[side.id], key=lambda s: (-recent[s], -say[s], s))
    return crowd


def _overlap(side: Side, members: Sequence[Sequence[Rating]]) -> NDArray[np.float64]:
    w = dict(zip(side.members, side.weights or (1.0,) * len(side.members), strict=False))
    total = sum(max(v, 0.0) for v in w.values()) or 1.0
    out = np.zeros(len(members))
    for j, m in enumerate(members):
        hits = [(max(w[r.show], 0.0), (r.rating - 5.5) / 4.5) for r in m if r.show in w]
        if hits:
            n = len(hits)
            out[j] = sum(a * b for a, b in hits) / total * n / (n + SHRINK)
    return out


__all__ = ["BUDGET", "PEOPLE", "SEEDS", "Crowd", "Rating", "Side", "build", "seeds"]
