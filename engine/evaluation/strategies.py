"""Recommender strategies behind one contract, for `multitudes eval` and the contract test.

Every strategy is fitted on training interactions and answers ``recommend(user, k, exclude)`` with item ids:
never an excluded item (the caller excludes everything the person has seen, rated, dropped or dismissed),
backfilled by popularity to ``k`` when the catalogue allows, popular items for unknown people, deterministic.

- popular: all-time interaction counts.
- trending: counts over the most recent window of the training data (TV viewing follows what is airing).
- itemknn: item-item cosine on co-occurrence, top neighbours.
- ease: EASE^R (Steck 2019), a closed-form linear item-item model.
- multitudes: the engine's own blend: collaborative (EASE, item-kNN), recency (trending), popularity, quality and
  persona affinity, with weights fitted on a validation split of the training data only, then a persona-aware,
  calibrated re-ranking so that a list spans a person's personas.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from engine.evaluation.datasets import Interaction

F = NDArray[np.float64]


@dataclass
class TrainData:
    interactions: list[Interaction]
    items: dict[str, dict[str, Any]]
    users: list[str] = field(default_factory=list)
    item_ids: list[str] = field(default_factory=list)
    uix: dict[str, int] = field(default_factory=dict)
    iix: dict[str, int] = field(default_factory=dict)
    X: sparse.csr_matrix = field(default_factory=lambda: sparse.csr_matrix((0, 0)))
    by_user: dict[str, list[Interaction]] = field(default_factory=dict)

    @classmethod
    def build(cls, interactions: Sequence[Interaction], items: dict[str, dict[str, Any]]) -> TrainData:
        by_user: dict[str, list[Interaction]] = defaultdict(list)
        for it in interactions:
            by_user[it.user].append(it)
        for v in by_user.values():
            v.sort(key=lambda x: (x.ts, x.item))
        users = sorted(by_user)
        item_ids = sorted({it.item for it in interactions} | set(items))
        uix = {u: i for i, u in enumerate(users)}
        iix = {it: i for i, it in enumerate(item_ids)}
        pairs = {(uix[it.user], iix[it.item]) for it in interactions}
        rows, cols = zip(*pairs, strict=True) if pairs else ((), ())
        X = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(users), len(item_ids)))
        return cls(list(interactions), items, users, item_ids, uix, iix, X, dict(by_user))

    def seen(self, user: str) -> set[str]:
        return {it.item for it in self.by_user.get(user, [])}


class Strategy(Protocol):
    name: str

    def fit(self, data: TrainData) -> None: ...

    def scores(self, user: str) -> F | None:
        """Relevance of every item (in ``data.item_ids`` order), or None for a person it knows nothing of."""
        ...

    def recommend(self, user: str, k: int, exclude: set[str]) -> list[str]: ...


class Base:
    name = "base"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.data: TrainData | None = None
        self._pop: F = np.zeros(0)

    def fit(self, data: TrainData) -> None:
        self.data = data
        self._pop = np.asarray(data.X.sum(axis=0)).ravel().astype(float)

    def scores(self, user: str) -> F | None:
        return None

    def recommend(self, user: str, k: int, exclude: set[str]) -> list[str]:
        assert self.data is not None, "fit first"
        s = self.scores(user)
        return top_k(self.data, s, self._pop, k, exclude)


def top_k(data: TrainData, scores: F | None, pop: F, k: int, exclude: set[str]) -> list[str]:
    """Best ``k`` by score, ties and unknown people broken by popularity then id; excluded items never."""
    n = len(data.item_ids)
    if n == 0 or k <= 0:
        return []
    s = np.zeros(n) if scores is None else np.nan_to_num(np.asarray(scores, dtype=float), nan=-np.inf)
    # score desc, then popularity desc, then id; only the head needs sorting
    m = min(n, k + len(exclude) + 1)
    combined = s + 1e-9 * (pop / (pop.max() or 1.0)) if len(pop) == n else s
    head = np.argpartition(-combined, m - 1)[:m] if m < n else np.arange(n)
    key = head[np.lexsort((head, -pop[head] if len(pop) == n else head * 0, -s[head]))]
    out = []
    for j in key:
        it = data.item_ids[j]
        if it in exclude:
            continue
        out.append(it)
        if len(out) == k:
            break
    return out


class Popular(Base):
    name = "popular"

    def scores(self, user: str) -> F | None:
        return self._pop


class Trending(Base):
    """Popularity over the most recent ``window`` share of the training time."""

    name = "trending"

    def __init__(self, window: float = 0.1, seed: int = 0) -> None:
        super().__init__(seed)
        self.window = window
        self._trend: F = np.zeros(0)

    def fit(self, data: TrainData) -> None:
        super().fit(data)
        ts = [it.ts for it in data.interactions]
        lo, hi = (min(ts), max(ts)) if ts else (0.0, 0.0)
        cut = hi - self.window * (hi - lo)
        trend = np.zeros(len(data.item_ids))
        seen: set[tuple[str, str]] = set()
        for it in data.interactions:
            if it.ts >= cut and (it.user, it.item) not in seen:
                seen.add((it.user, it.item))
                trend[data.iix[it.item]] += 1
        self._trend = trend + self._pop * 1e-6      # break ties by all-time popularity

    def scores(self, user: str) -> F | None:
        return self._trend


class ItemKNN(Base):
    name = "itemknn"

    def __init__(self, neighbours: int = 100, shrink: float = 10.0, seed: int = 0) -> None:
        super().__init__(seed)
        self.neighbours = neighbours
        self.shrink = shrink
        self.S: sparse.csr_matrix | None = None

    def fit(self, data: TrainData) -> None:
        super().fit(data)
        X = data.X.tocsc()
        co = (X.T @ X).tocsr().astype(float)
        norms = np.sqrt(self._pop)
        co.setdiag(0)
        co.eliminate_zeros()
        co = co.tocoo()
        vals = co.data / (norms[co.row] * norms[co.col] + self.shrink)
        S = sparse.csr_matrix((vals, (co.row, co.col)), shape=co.shape)
        # keep the top neighbours of each item
        rows, cols, data_ = [], [], []
        for i in range(S.shape[0]):
            start, end = S.indptr[i], S.indptr[i + 1]
            if end == start:
                continue
            idx, v = S.indices[start:end], S.data[start:end]
            keep = np.argsort(-v, kind="stable")[: self.neighbours]
            rows += [i] * len(keep)
            cols += idx[keep].tolist()
            data_ += v[keep].tolist()
        self.S = sparse.csr_matrix((data_, (rows, cols)), shape=S.shape)

    def scores(self, user: str) -> F | None:
        assert self.data is not None and self.S is not None
        u = self.data.uix.get(user)
        if u is None:
            return None
        return np.asarray((self.data.X[u] @ self.S).todense()).ravel()


class UserKNN(Base):
    """User-based kNN over everyone's histories: cosine between people's (binary) rows, the ``neighbours`` most
    similar people vote for their items with their similarity. The full-population reference a lone person's
    neighbourhood is compared with (``lone-naive``, ``lone``)."""

    name = "userknn"

    def __init__(self, neighbours: int = 50, seed: int = 0) -> None:
        super().__init__(seed)
        self.neighbours = neighbours
        self.Xn: sparse.csr_matrix | None = None

    def fit(self, data: TrainData) -> None:
        super().fit(data)
        norms = np.sqrt(np.asarray(data.X.multiply(data.X).sum(axis=1)).ravel())
        self.Xn = sparse.csr_matrix(sparse.diags(1.0 / np.maximum(norms, 1e-12)) @ data.X)

    def scores(self, user: str) -> F | None:
        assert self.data is not None and self.Xn is not None
        u = self.data.uix.get(user)
        if u is None:
            return None
        sims = np.asarray((self.Xn @ self.Xn[u].T).todense()).ravel()
        sims[u] = 0.0
        return knn_vote(sims, self.data.X, self.neighbours)


def knn_vote(sims: F, X: sparse.csr_matrix, k: int) -> F:
    """The ``k`` most similar rows (positive similarity only) vote for their items with their similarity."""
    top = np.argpartition(-sims, min(k, len(sims) - 1))[:k] if len(sims) > k else np.arange(len(sims))
    top = top[sims[top] > 0]
    out: F = np.asarray(X[top].T @ sims[top]).ravel() if len(top) else np.zeros(X.shape[1])
    return out


class Ease(Base):
    """EASE^R on items with at least ``min_count`` interactions (others score 0)."""

    name = "ease"

    def __init__(self, lam: float = 300.0, min_count: int = 3, seed: int = 0) -> None:
        super().__init__(seed)
        self.lam = lam
        self.min_count = min_count
        self.B: NDArray[np.float32] | None = None
        self.keep: NDArray[np.int64] = np.zeros(0, dtype=np.int64)

    def fit(self, data: TrainData) -> None:
        super().fit(data)
        self.keep = np.flatnonzero(self._pop >= self.min_count)
        Xk = data.X[:, self.keep].astype(np.float32)
        G = (Xk.T @ Xk).toarray().astype(np.float32)
        G[np.diag_indices_from(G)] += self.lam
        P = np.linalg.inv(G)
        B = P / (-np.diag(P))
        B[np.diag_indices_from(B)] = 0
        self.B = B.astype(np.float32)

    def scores(self, user: str) -> F | None:
        assert self.data is not None and self.B is not None
        u = self.data.uix.get(user)
        if u is None:
            return None
        x = np.asarray(self.data.X[u, self.keep].todense()).ravel().astype(np.float32)
        out = np.zeros(len(self.data.item_ids))
        out[self.keep] = x @ self.B
        return out


def zscore(v: F) -> F:
    sd = float(v.std())
    return (v - v.mean()) / sd if sd > 0 else v * 0.0


def log_scale(v: F) -> F:
    return np.log1p(np.maximum(v, 0))


def bayes_quality(data: TrainData) -> F:
    """Bayesian-averaged rating per item (shrunk towards the global mean by ``m`` pseudo-ratings)."""
    sums = np.zeros(len(data.item_ids))
    cnt = np.zeros(len(data.item_ids))
    for it in data.interactions:
        if it.rating is not None:
            j = data.iix[it.item]
            sums[j] += it.rating
            cnt[j] += 1
    if cnt.sum() == 0:
        return np.zeros(len(data.item_ids))
    mean = sums.sum() / cnt.sum()
    m = max(5.0, float(np.median(cnt[cnt > 0])))
    out: F = (sums + m * mean) / (cnt + m)
    return out


def recency_weights(rows: Iterable[Interaction], half_life: float) -> dict[str, float]:
    rows = list(rows)
    if not rows:
        return {}
    last = rows[-1].ts
    return {r.item: 0.5 ** ((last - r.ts) / half_life) if half_life > 0 else 1.0 for r in rows}


def entropy(p: F) -> float:
    q = p[p > 0]
    return float(-(q * np.log(q)).sum())


def kl(p: F, q: F, alpha: float = 0.01) -> float:
    """KL(p || q~) with q~ = (1 - alpha) q + alpha p (Steck 2018), over genres."""
    qt = (1 - alpha) * q + alpha * p
    m = p > 0
    return float((p[m] * np.log(p[m] / np.maximum(qt[m], 1e-12))).sum())


def safe_log(x: float) -> float:
    return math.log(max(x, 1e-12))
