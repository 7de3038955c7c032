"""What a population of viewers says: co-watching (EASE, Steck 2019), collaborative item embeddings, popularity
over time, and quality from their ratings.

Built from interactions — the bot's own people (those who allow it) live, a dataset's training data in the
evaluation — off the event loop, once per population version, then read per request: a person's collaborative
scores are one vector-matrix product over the model's items.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from engine.taste.features import cowatch_embeddings

F = NDArray[np.float64]
PRIOR_PEOPLE = 30
NEIGHBOURS = 50               # people who vote in ``Population.neighbours``


@dataclass(frozen=True, slots=True)
class Event:
    person: int
    item: int
    at: float                      # seconds (or a row ordinal, for datasets without times)
    rating: float | None = None    # on a 0-10 scale


@dataclass
class Population:
    items: NDArray[np.int64]                      # item ids the model knows, sorted
    pos: dict[int, int]
    B: NDArray[np.float32] | None                 # EASE item-item weights over ``items[keep]``
    keep: NDArray[np.int64]                       # positions (into ``items``) EASE covers
    at: F                                         # every event's time, sorted
    event_items: NDArray[np.int64]                # and the position of its item
    counts: F                                     # all-time distinct people per item
    quality: F                                    # Bayesian mean rating per item (0-10), NaN when unrated
    end: float                                    # the latest event
    cf: dict[int, F] = field(default_factory=dict)   # item id -> co-watching embedding
    people: int = 0
    _keep_index: NDArray[np.int64] | None = field(default=None, repr=False)
    # people x items: unit rows of who watched what (similarity), and when each pair was last watched (seconds)
    Xn: sparse.csr_matrix | None = field(default=None, repr=False)
    last: sparse.csr_matrix | None = field(default=None, repr=False)
    person_ids: NDArray[np.int64] | None = field(default=None, repr=False)     # the rows' people
    # one entry per (person, item) pair: the item's position, the pair's first and last play (seconds)
    pair_item: NDArray[np.int64] | None = field(default=None, repr=False)
    pair_first: F | None = field(default=None, repr=False)
    pair_last: F | None = field(default=None, repr=False)

    @property
    def empty(self) -> bool:
        return self.people == 0

    @property
    def confidence(self) -> float:
        """How much the population's signals can be trusted: people / (people + PRIOR_PEOPLE). Six people's
        co-watching and "popular now" are mostly their own quirks; a few hundred speak for a taste."""
        return self.people / (self.people + PRIOR_PEOPLE)

    def positions(self, ids: Sequence[int] | NDArray[np.int64]) -> NDArray[np.int64]:
        """Positions of ``ids`` in the model (-1 for items it does not know): one binary search over the sorted
        item ids."""
        q = np.asarray(ids, dtype=np.int64)
        if not len(self.items) or not len(q):
            return np.full(len(q), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.items, q), len(self.items) - 1)
        return np.where(self.items[at] == q, at, -1).astype(np.int64)

    def collab(self, history: dict[int, float], ids: Sequence[int] | NDArray[np.int64]) -> F:
        """EASE scores of ``ids`` for a person whose history weights are ``history`` (item -> weight)."""
        out = np.zeros(len(ids))
        if self.B is None or not history:
            return out
        kix = self.keep_index
        hp = self.positions(list(history))
        hk = np.where(hp >= 0, kix[np.maximum(hp, 0)], -1)
        ok = hk >= 0
        if not ok.any():
            return out
        x = np.zeros(len(self.keep), dtype=np.float32)
        np.maximum.at(x, hk[ok], np.fromiter(history.values(), dtype=np.float32, count=len(history))[ok])
        scores = x @ self.B
        p = self.positions(ids)
        k = np.where(p >= 0, kix[np.maximum(p, 0)], -1)
        out[k >= 0] = scores[k[k >= 0]]
        return out

    @property
    def keep_index(self) -> NDArray[np.int64]:
        """For every item position, its row in the EASE matrix (-1: not covered)."""
        if self._keep_index is None:
            kix = np.full(len(self.items), -1, dtype=np.int64)
            kix[self.keep] = np.arange(len(self.keep))
            self._keep_index = kix
        return self._keep_index

    def popular_at(self, t: float, half_life: float, ids: Sequence[int]) -> F:
        """How many people were watching each item around time ``t`` (log1p): someone whose plays of it span
        ``t`` counts 1, someone who last played it before ``t`` counts half for every ``half_life`` since, someone
        who started it later nothing. People, not plays: a long-running show's loyal viewers log many episodes
        each, and what matters is how many people it holds (Trakt's trending counts watchers the same way)."""
        out = np.zeros(len(ids))
        if self.pair_item is None or not len(self.pair_item) or half_life <= 0:
            return out
        first, last = self.pair_first, self.pair_last
        assert first is not None and last is not None
        w = np.where(last < t, np.exp2(-np.maximum(t - last, 0.0) / half_life), (first <= t).astype(float))
        counts = np.bincount(self.pair_item, weights=w, minlength=len(self.items))
        pos = self.positions(ids)
        ok = pos >= 0
        out[ok] = np.log1p(counts[pos[ok]])
        return out

    def all_time(self, ids: Sequence[int]) -> F:
        pos = self.positions(ids)
        out = np.zeros(len(ids))
        ok = pos >= 0
        out[ok] = np.log1p(self.counts[pos[ok]])
        return out

    def rated(self, ids: Sequence[int]) -> F:
        pos = self.positions(ids)
        out = np.full(len(ids), np.nan)
        ok = pos >= 0
        out[ok] = self.quality[pos[ok]]
        return out

    def neighbours(self, history: dict[int, float], ids: Sequence[int] | NDArray[np.int64], t: float,
                   half_life: float, k: int = NEIGHBOURS, exclude: int | None = None) -> F:
        """What the people most like this person watched around time ``t``: the ``k`` people whose histories are
        closest to ``history`` (item -> weight; cosine) vote for the shows they watched, each vote halving every
        ``half_life`` seconds before ``t`` (log1p of the sum). On a service where people follow what airs, this is
        "people like you are watching it now"; with ``t`` at a person's last activity, what their peers watched
        then."""
        out = np.zeros(len(ids))
        if self.Xn is None or self.last is None or not history or half_life <= 0:
            return out
        hp = self.positions(list(history))
        ok = hp >= 0
        if not ok.any():
            return out
        x = np.zeros(len(self.items))
        x[hp[ok]] = np.fromiter(history.values(), dtype=float, count=len(history))[ok]
        sims = np.asarray(self.Xn @ x).ravel() / (float(np.linalg.norm(x)) or 1.0)
        if exclude is not None and self.person_ids is not None:
            sims[self.person_ids == exclude] = 0.0          # the person themself is no neighbour
        top = np.argpartition(-sims, k - 1)[:k] if len(sims) > k else np.arange(len(sims))
        top = top[sims[top] > 0]
        if not len(top):
            return out
        sub = self.last[top].tocoo()
        w = np.where(sub.data <= t, np.exp2(-(t - sub.data) / half_life), 0.0) * sims[top][sub.row]
        votes = np.bincount(sub.col, weights=w, minlength=len(self.items))
        pos = self.positions(ids)
        good = pos >= 0
        out[good] = np.log1p(votes[pos[good]])
        return out

    def top(self, scores: F, n: int, exclude: set[int]) -> list[int]:
        """The ``n`` best item ids by ``scores`` (over the model's items), none of ``exclude``."""
        order = np.argsort(-scores, kind="stable")
        out: list[int] = []
        for j in order:
            if scores[j] <= 0 and out:
                break
            item = int(self.items[j])
            if item not in exclude:
                out.append(item)
                if len(out) >= n:
                    break
        return out


EMPTY = Population(np.zeros(0, dtype=np.int64), {}, None, np.zeros(0, dtype=np.int64), np.zeros(0),
                   np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0), 0.0)


def build_population(events: Iterable[Event], *, lam: float = 300.0, min_count: int = 3, max_items: int = 6000,
                     cf_dims: int = 24, seed: int = 0) -> Population:
    """Fit the model (seconds for a dataset, milliseconds for a small bot). EASE covers the ``max_items`` most
    watched items with ``min_count`` or more people (its cost is cubic in them)."""
    evs = sorted(events, key=lambda e: (e.at, e.person, e.item))
    if not evs:
        return EMPTY
    items = np.array(sorted({e.item for e in evs}), dtype=np.int64)
    pos = {int(i): n for n, i in enumerate(items)}
    people = sorted({e.person for e in evs})
    ppos = {p: n for n, p in enumerate(people)}
    pairs = {(ppos[e.person], pos[e.item]) for e in evs}
    r, c = zip(*pairs, strict=True)
    X = sparse.csr_matrix((np.ones(len(r)), (r, c)), shape=(len(people), len(items)))
    counts = np.asarray(X.sum(axis=0)).ravel().astype(float)
    # quality: Bayesian mean of the ratings people gave (shrunk toward everyone's mean)
    sums = np.zeros(len(items))
    cnt = np.zeros(len(items))
    for e in evs:
        if e.rating is not None:
            sums[pos[e.item]] += e.rating
            cnt[pos[e.item]] += 1
    quality = np.full(len(items), np.nan)
    if cnt.sum():
        mean = sums.sum() / cnt.sum()
        m = max(5.0, float(np.median(cnt[cnt > 0])))
        quality = (sums + m * mean) / (cnt + m)
    B = None
    keep = np.flatnonzero(counts >= min_count)
    if len(keep) > max_items:
        keep = np.sort(keep[np.argsort(-counts[keep], kind="stable")[:max_items]])
    if len(people) >= 5 and len(keep) >= 2:
        Xk = X[:, keep].astype(np.float32)
        G = (Xk.T @ Xk).toarray().astype(np.float32)
        G[np.diag_indices_from(G)] += lam
        P = np.linalg.inv(G)
        B = (P / (-np.diag(P))).astype(np.float32)
        B[np.diag_indices_from(B)] = 0
    by_person: dict[int, list[int]] = {}
    for e in evs:
        by_person.setdefault(e.person, []).append(e.item)
    cf = cowatch_embeddings(by_person, cf_dims, seed)
    first: dict[tuple[int, int], float] = {}
    last: dict[tuple[int, int], float] = {}
    for e in evs:                                   # sorted by time: the first play of a pair stays, the last wins
        key = (ppos[e.person], pos[e.item])
        first.setdefault(key, e.at)
        last[key] = e.at
    lr, lc = zip(*last, strict=True)
    last_at = np.fromiter(last.values(), dtype=float, count=len(last))
    L = sparse.csr_matrix((last_at, (lr, lc)), shape=(len(people), len(items)))
    norms = np.sqrt(np.asarray(X.sum(axis=1)).ravel())
    Xn = sparse.csr_matrix(sparse.diags(1.0 / np.maximum(norms, 1e-12)) @ X)
    return Population(items, pos, B, keep.astype(np.int64), np.array([e.at for e in evs], dtype=float),
                      np.array([pos[e.item] for e in evs], dtype=np.int64), counts, quality, float(evs[-1].at), cf,
                      len(people), Xn=Xn, last=L, person_ids=np.array(people, dtype=np.int64),
                      pair_item=np.array(lc, dtype=np.int64),
                      pair_first=np.fromiter((first[k] for k in last), dtype=float, count=len(last)),
                      pair_last=last_at)


def history_weights(times: dict[int, float], *, decay_items: float = 10.0) -> dict[int, float]:
    """A person's items weighted by recency of their last watch: the latest counts 1, the tenth most recent 1/2."""
    n = len(times)
    if not n:
        return {}
    items = np.fromiter(times.keys(), dtype=np.int64, count=n)
    order = np.lexsort((items, np.fromiter(times.values(), dtype=np.float64, count=n)))   # by time, then item
    return dict(zip(items[order].tolist(), [math.pow(0.5, (n - 1 - k) / decay_items) for k in range(n)], strict=True))
