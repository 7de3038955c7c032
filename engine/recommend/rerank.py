"""Persona-aware, calibrated re-ranking shared by the live recommender and the offline `multitudes` strategy.

1. Calibration (Steck 2018): greedily pick items maximising (1 - lam) * relevance + lam * -KL(p || q), where p is
   the genre distribution of the person's history and q that of the list so far.
2. Persona coverage: every persona with at least ``min_share`` of the person's weight gets at least one pick; a
   missing persona's best candidate replaces the weakest pick of an over-represented persona.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

F = NDArray[np.float64]


@dataclass
class PersonaVectors:
    weights: F            # (P,) shares summing to 1
    centroids: F          # (P, d) unit rows in the item feature space

    def affinity(self, feats: F) -> F:
        """(n, P) cosine of items to each persona."""
        if len(self.weights) == 0:
            return np.zeros((feats.shape[0], 0))
        return np.asarray(feats @ self.centroids.T)

    def assign(self, feats: F) -> NDArray[np.int64]:
        aff = self.affinity(feats)
        if aff.shape[1] == 0:
            return np.full(feats.shape[0], -1, dtype=np.int64)
        out: NDArray[np.int64] = np.argmax(aff, axis=1).astype(np.int64)
        out[aff.max(axis=1) <= 0] = -1
        return out


def persona_vectors(members: Sequence[Sequence[int]], member_weights: Sequence[Sequence[float]],
                    shares: Sequence[float], rows_of: dict[int, int], matrix: F) -> PersonaVectors:
    cents, ws = [], []
    for mem, mw, share in zip(members, member_weights, shares, strict=True):
        ix = [rows_of[m] for m in mem if m in rows_of]
        if not ix:
            continue
        wts = np.array([w for m, w in zip(mem, mw, strict=True) if m in rows_of])
        c = (matrix[ix] * wts[:, None]).sum(axis=0)
        n = float(np.linalg.norm(c))
        if n > 0:
            cents.append(c / n)
            ws.append(share)
    if not cents:
        return PersonaVectors(np.zeros(0), np.zeros((0, matrix.shape[1])))
    w = np.array(ws, dtype=float)
    return PersonaVectors(w / w.sum(), np.array(cents))


def calibrated(rel: F, genres: F | None, target: F | None, k: int, lam: float) -> list[int]:
    """Indices (into ``rel``) of a calibrated top-k. ``genres``: (n, G) rows summing to 1 (or 0)."""
    order = list(np.argsort(-rel, kind="stable"))
    if lam <= 0 or genres is None or target is None or target.sum() == 0:
        return order[:k]
    r = (rel - rel.min()) / (np.ptp(rel) or 1.0)
    chosen: list[int] = []
    acc = np.zeros(genres.shape[1])
    pool = order[: max(k * 10, 100)]
    for _ in range(min(k, len(pool))):
        best, best_val = -1, -np.inf
        for i in pool:
            if i in chosen:
                continue
            q = (acc + genres[i]) / (len(chosen) + 1)
            qt = 0.99 * q + 0.01 * target
            m = target > 0
            klv = float((target[m] * np.log(target[m] / np.maximum(qt[m], 1e-12))).sum())
            val = (1 - lam) * r[i] - lam * klv
            if val > best_val:
                best, best_val = i, val
        chosen.append(best)
        acc += genres[best]
    return chosen


def ensure_coverage(chosen: list[int], rel: F, assign: NDArray[np.int64], weights: F, k: int,
                    min_share: float = 0.1) -> list[int]:
    """Make every persona with weight >= ``min_share`` appear at least once, replacing the weakest picks of
    over-represented personas."""
    chosen = list(chosen[:k])
    if len(weights) == 0:
        return chosen
    need = [p for p in np.argsort(-weights) if weights[p] >= min_share]
    for p in need:
        if any(assign[i] == p for i in chosen):
            continue
        cands = [i for i in np.argsort(-rel, kind="stable") if assign[i] == p and i not in chosen]
        if not cands:
            continue
        counts = {q: sum(1 for i in chosen if assign[i] == q) for q in set(assign[chosen].tolist())}
        victims = [i for i in reversed(chosen) if counts.get(int(assign[i]), 0) > 1 or assign[i] < 0]
        if not victims:
            if len(chosen) < k:
                chosen.append(cands[0])
            continue
        chosen[chosen.index(victims[0])] = cands[0]
    return chosen
