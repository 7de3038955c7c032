"""The engine as an offline strategy: blended signals with weights fitted on a validation split of the
training data, then persona-aware calibrated re-ranking (engine/recommend/rerank.py)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..meta import from_dict
from ..recommend.rerank import PersonaVectors, calibrated, ensure_coverage, persona_vectors
from ..taste.build import build_personas
from ..taste.features import build_features, cowatch_embeddings
from .datasets import Interaction
from .people import ItemIndex, person_history
from .strategies import Base, Ease, F, ItemKNN, TrainData, Trending, bayes_quality, log_scale, top_k, zscore

SIGNALS = ("ease", "ease_recent", "knn", "trend", "recent", "pop", "quality", "persona")
GRID = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0)


@dataclass
class Parts:
    data: TrainData
    ease: Ease
    knn: ItemKNN
    trend: F
    pop: F
    quality: F
    times: F            # interaction times, sorted
    items_by_time: np.ndarray
    window: float

    def recent_popularity(self, t: float) -> F:
        """What was popular in the window before ``t`` (what was airing when this person was last active)."""
        lo, hi = np.searchsorted(self.times, [t - self.window, t], side="right")
        return np.bincount(self.items_by_time[lo:hi], minlength=len(self.pop)).astype(float)


class PersonaOracle:
    """Item features (with co-watching from the training data) and each person's personas as vectors there."""

    def __init__(self, data: TrainData, *, ordinal: bool, seed: int = 0) -> None:
        self.ordinal = ordinal
        self.seed = seed
        self.item_ids = data.item_ids
        self.metas = {i: from_dict(data.items.get(it) or {}) for i, it in enumerate(data.item_ids)}
        inter = {u: [data.iix[r.item] for r in rows] for u, rows in data.by_user.items()}
        self.space = build_features(self.metas, cf=cowatch_embeddings(inter, 24, seed), seed=seed)
        vocab = sorted({g for m in self.metas.values() for g in m.genres})
        self.genres: F | None = None
        if vocab:
            G = np.zeros((len(data.item_ids), len(vocab)))
            gi = {g: j for j, g in enumerate(vocab)}
            for i, m in self.metas.items():
                gs = m.genres
                for g in gs:
                    G[i, gi[g]] = 1.0 / len(gs)
            self.genres = G
        self._cache: dict[tuple[int, str], PersonaVectors] = {}

    def vectors(self, data: TrainData, user: str) -> PersonaVectors:
        key = (id(data), user)
        if key not in self._cache:
            rows = data.by_user.get(user, [])
            empty = PersonaVectors(np.zeros(0), np.zeros((0, self.space.matrix.shape[1])))
            if not rows:
                self._cache[key] = empty
            else:
                h = person_history(rows, ItemIndex(self.item_ids), ordinal=self.ordinal, episodic=self.ordinal)
                now = h.all_watches()[-1][1].at
                b = build_personas(h, self.metas, now, space=self.space, seed=self.seed)
                self._cache[key] = persona_vectors(
                    [d.cluster.members for d in b.personas], [d.cluster.weights for d in b.personas],
                    [d.cluster.share for d in b.personas], self.space.index, self.space.matrix)
        return self._cache[key]


class Multitudes(Base):
    name = "multitudes"

    def __init__(self, *, protocol: str = "last-n", ordinal: bool = False, seed: int = 0, tune_users: int = 300,
                 k: int = 10, rerank: bool = True, oracle: PersonaOracle | None = None,
                 calibration_tolerance: float = 0.95) -> None:
        super().__init__(seed)
        self.oracle = oracle
        self.calibration_tolerance = calibration_tolerance   # recall kept when calibrating (validation)
        self.protocol = protocol
        self.ordinal = ordinal
        self.tune_users = tune_users
        self.k = k
        self.rerank = rerank
        self.weights = {"ease": 1.0}
        self.lam = 0.0
        self.tuning: dict[str, Any] = {}

    # -- fitting -----------------------------------------------------------------------------------------------
    def _parts(self, data: TrainData) -> Parts:
        ease, knn, tr = Ease(seed=self.seed), ItemKNN(seed=self.seed), Trending(seed=self.seed)
        for m in (ease, knn, tr):
            m.fit(data)
        pop = np.asarray(data.X.sum(axis=0)).ravel().astype(float)
        trend = tr.scores("")
        order = sorted(data.interactions, key=lambda it: it.ts)
        times = np.array([it.ts for it in order], dtype=float)
        span = float(times[-1] - times[0]) if len(times) else 0.0
        window = 30 * 86400.0 if not self.ordinal else span * 0.03
        return Parts(data, ease, knn, trend if trend is not None else np.zeros(len(pop)), pop, bayes_quality(data),
                     times, np.array([data.iix[it.item] for it in order], dtype=np.int64), window)

    def fit(self, data: TrainData) -> None:
        super().fit(data)
        if self.oracle is None or self.oracle.item_ids != data.item_ids:
            self.oracle = PersonaOracle(data, ordinal=self.ordinal, seed=self.seed)
        split = self._validation(data)
        if split is not None:
            vtrain, holdout = split
            vdata = TrainData.build(vtrain, data.items)
            self._tune(vdata, self._parts(vdata), holdout)
        self.parts = self._parts(data)

    def _validation(self, data: TrainData) -> tuple[list[Interaction], dict[str, set[str]]] | None:
        rng = random.Random(self.seed)
        if self.protocol == "last-n":
            users = [u for u, rows in data.by_user.items() if len(rows) >= 8]
            users = sorted(rng.sample(users, min(self.tune_users, len(users))))
            hold: dict[str, set[str]] = {}
            for u in users:
                rows = data.by_user[u]
                n = max(1, min(5, len(rows) // 10))
                hold[u] = {r.item for r in rows[-n:]}
            held = {(u, i) for u, items in hold.items() for i in items}
            train = [it for it in data.interactions if (it.user, it.item) not in held]
        else:   # time-cut: the last 10% of the training rows play the test
            rows = sorted(data.interactions, key=lambda it: (it.ts, it.user, it.item))
            cut = int(len(rows) * 0.9)
            train, late = rows[:cut], rows[cut:]
            seen = {(it.user, it.item) for it in train}
            known_items = {it.item for it in train}
            counts: dict[str, int] = {}
            for it in train:
                counts[it.user] = counts.get(it.user, 0) + 1
            hold = {}
            for it in late:
                if (it.user, it.item) not in seen and counts.get(it.user, 0) >= 5 and it.item in known_items:
                    hold.setdefault(it.user, set()).add(it.item)
            keep = sorted(hold)
            if len(keep) > self.tune_users:
                keep = sorted(rng.sample(keep, self.tune_users))
            hold = {u: hold[u] for u in keep}
        return (train, hold) if hold else None

    def _signals(self, parts: Parts, user: str) -> F | None:
        d = parts.data
        u = d.uix.get(user)
        if u is None:
            return None
        rows = d.by_user[user]
        # the person's recent plays count more: a decayed history vector through the same EASE model
        decay = 0.5 ** (np.arange(len(rows))[::-1] / 10.0)
        x = np.zeros(len(d.item_ids), dtype=np.float32)
        for r, wgt in zip(rows, decay, strict=True):
            j = d.iix[r.item]
            x[j] = max(x[j], wgt)
        ease_recent = np.zeros(len(d.item_ids))
        if parts.ease.B is not None:
            ease_recent[parts.ease.keep] = x[parts.ease.keep] @ parts.ease.B
        cols = {
            "ease": parts.ease.scores(user), "ease_recent": ease_recent, "knn": parts.knn.scores(user),
            "trend": log_scale(parts.trend), "recent": log_scale(parts.recent_popularity(rows[-1].ts)),
            "pop": log_scale(parts.pop), "quality": parts.quality,
        }
        pv = self.persona_vectors(d, user)
        assert self.oracle is not None
        aff = pv.affinity(self.oracle.space.matrix)
        cols["persona"] = (np.maximum(aff, 0) @ pv.weights) if aff.shape[1] else np.zeros(len(d.item_ids))
        return np.stack([zscore(np.asarray(cols[s], dtype=float)) for s in SIGNALS], axis=1)

    def _tune(self, vdata: TrainData, parts: Parts, hold: dict[str, set[str]]) -> None:
        users = [u for u in hold if u in vdata.uix]
        S = {u: self._signals(parts, u) for u in users}
        excl = {u: vdata.seen(u) for u in users}
        pop = parts.pop

        def recall(w: dict[str, float], lam: float = 0.0) -> float:
            vec = np.array([w.get(s, 0.0) for s in SIGNALS])
            tot = 0.0
            for u in users:
                sig = S[u]
                if sig is None:
                    continue
                recs = self._rank(vdata, u, sig @ vec, pop, excl[u], lam) if lam else top_k(
                    vdata, sig @ vec, pop, self.k, excl[u])
                tot += len(set(recs) & hold[u]) / len(hold[u])
            return tot / max(1, len(users))

        best_w: dict[str, float] = {"ease": 1.0}
        best = recall(best_w)
        for _ in range(2):                                  # coordinate ascent over the grid
            for s in SIGNALS:
                for v in GRID:
                    cand = dict(best_w, **{s: v})
                    if not any(cand.values()):
                        continue
                    r = recall(cand)
                    if r > best + 1e-9:
                        best, best_w = r, cand
        lam = 0.0
        if self.rerank and self.oracle is not None and self.oracle.genres is not None:
            base = recall(best_w, 0.0)
            for cand_lam in (0.1, 0.2, 0.3, 0.5, 0.7, 0.9):
                if recall(best_w, cand_lam) >= self.calibration_tolerance * base:
                    lam = cand_lam
        self.weights, self.lam = best_w, lam
        self.tuning = {"validation_users": len(users), "validation_recall": round(best, 4),
                       "weights": best_w, "lambda": lam}

    # -- personas and ranking ----------------------------------------------------------------------------------
    def persona_vectors(self, data: TrainData, user: str) -> PersonaVectors:
        assert self.oracle is not None
        return self.oracle.vectors(data, user)

    def _rank(self, data: TrainData, user: str, blend: F, pop: F, exclude: set[str], lam: float) -> list[str]:
        assert self.oracle is not None
        genres, space = self.oracle.genres, self.oracle.space
        pool_ids = top_k(data, blend, pop, 100, exclude)
        if not pool_ids:
            return []
        ix = np.array([data.iix[i] for i in pool_ids])
        rel = blend[ix]
        target = None
        if genres is not None:
            seen = [data.iix[r.item] for r in data.by_user.get(user, [])]
            target = genres[seen].sum(axis=0) if seen else None
            if target is not None and target.sum() > 0:
                target = target / target.sum()
        chosen = calibrated(rel, genres[ix] if genres is not None else None, target, self.k, lam)
        pv = self.persona_vectors(data, user)
        if len(pv.weights):
            chosen = ensure_coverage(chosen, rel, pv.assign(space.matrix[ix]), pv.weights, self.k)
        return [pool_ids[i] for i in chosen]

    def scores(self, user: str) -> F | None:
        sig = self._signals(self.parts, user)
        if sig is None:
            return None
        return np.asarray(sig @ np.array([self.weights.get(s, 0.0) for s in SIGNALS]))

    def recommend(self, user: str, k: int, exclude: set[str]) -> list[str]:
        assert self.data is not None
        s = self.scores(user)
        if s is None or not self.rerank:
            return top_k(self.data, s, self._pop, k, exclude)
        saved, self.k = self.k, k
        try:
            recs = self._rank(self.data, user, s, self._pop, exclude, self.lam)
        finally:
            self.k = saved
        if len(recs) < k:                                  # backfill beyond the re-ranking pool
            recs += [i for i in top_k(self.data, s, self._pop, k + len(recs), exclude | set(recs))][: k - len(recs)]
        return recs[:k]
