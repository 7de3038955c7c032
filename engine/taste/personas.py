"""Persona clustering: several tastes per person instead of one flat profile.

Shows with positive engagement are clustered (k-means on L2-normalised features, i.e. spherical, weighted by
engagement) for k = 1..K; k is the smallest whose cosine silhouette is within ``tolerance`` of the best, so
personas split only where the data really separates, and a small but coherent interest (a comedy habit among
crime dramas) gets its own persona because separating it raises the silhouette. Each persona gets a medoid (the
most typical show) and representatives. Identities are kept across recomputations by matching memberships.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import normalize

from .features import FeatureSpace, Matrix


@dataclass
class Cluster:
    members: list[int]            # show ids, most central first
    weights: list[float]
    centroid: Matrix
    medoid: int
    share: float                  # of the person's positive engagement
    cohesion: float               # mean cosine of members to the centroid


def _reduce(X: Matrix, dims: int, seed: int) -> Matrix:
    if X.shape[1] <= dims or X.shape[0] <= dims:
        return X
    reduced: Matrix = normalize(TruncatedSVD(dims, random_state=seed).fit_transform(X))
    return reduced


def choose_k(X: Matrix, w: np.ndarray, max_k: int, seed: int, tolerance: float = 0.03,
             min_silhouette: float = 0.08) -> tuple[int, np.ndarray, float]:
    """(k, labels, silhouette): the smallest k whose silhouette is within ``tolerance`` of the best."""
    n = X.shape[0]
    best_labels = np.zeros(n, dtype=int)
    if n < 4 or max_k < 2:
        return 1, best_labels, 0.0
    scores: dict[int, tuple[float, np.ndarray]] = {}
    sample = min(n, 1500)
    for k in range(2, min(max_k, n - 1) + 1):
        km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(X, sample_weight=w)
        labels = km.labels_
        if len(set(labels)) < 2:
            continue
        s = silhouette_score(X, labels, metric="cosine", sample_size=sample if sample < n else None,
                             random_state=seed)
        scores[k] = (float(s), labels)
    if not scores:
        return 1, best_labels, 0.0
    top = max(s for s, _ in scores.values())
    if top < min_silhouette:
        return 1, best_labels, 0.0
    k = min(k for k, (s, _) in scores.items() if s >= top - tolerance)
    return k, scores[k][1], scores[k][0]


def warm_labels(X: Matrix, w: np.ndarray, ids: Sequence[int], previous: Sequence[Mapping[int, float]],
                seed: int) -> tuple[np.ndarray, float] | None:
    """k-means started from the previous personas (their members' current feature rows): stable by design."""
    pos = {s: i for i, s in enumerate(ids)}
    inits = []
    for members in previous:
        ix = [pos[s] for s in members if s in pos]
        if ix:
            inits.append(np.average(X[ix], axis=0, weights=[max(1e-6, members[ids[i]]) for i in ix]))
    if len(inits) < 2 or len(inits) >= X.shape[0]:
        return None
    km = KMeans(n_clusters=len(inits), init=np.array(inits), n_init=1, random_state=seed).fit(X, sample_weight=w)
    if len(set(km.labels_)) < 2:
        return None
    sample = min(X.shape[0], 1500)
    s = silhouette_score(X, km.labels_, metric="cosine", sample_size=sample if sample < X.shape[0] else None,
                         random_state=seed)
    return km.labels_, float(s)


def cluster_personas(space: FeatureSpace, weights: Mapping[int, float], *, max_k: int = 8,
                     min_members: int = 2, seed: int = 0, reduce_dims: int = 64,
                     previous: Sequence[Mapping[int, float]] | None = None,
                     hysteresis: float = 0.05) -> list[Cluster]:
    """``previous``: the memberships of the person's current personas; when given, the clustering starts from
    them and changes shape only if a fresh clustering is clearly better (silhouette + ``hysteresis``)."""
    ids = [i for i, wt in weights.items() if wt > 0 and i in space.index]
    if not ids:
        return []
    ids.sort()
    w = np.array([weights[i] for i in ids], dtype=float)
    X_full = space.rows(ids)
    X = _reduce(X_full, reduce_dims, seed)
    k_max = max(1, min(max_k, len(ids) // max(2, min_members)))
    _k, labels, fresh = choose_k(X, w, k_max, seed)
    warm = warm_labels(X, w, ids, previous, seed) if previous else None
    if warm is not None and warm[1] + hysteresis >= fresh:
        labels = warm[0]
    groups: dict[int, list[int]] = {}
    for i, lab in enumerate(labels):
        groups.setdefault(int(lab), []).append(i)
    # a group below min_members is not a taste yet: fold it into the nearest group
    cents = {g: normalize(np.average(X[ix], axis=0, weights=w[ix]).reshape(1, -1))[0] for g, ix in groups.items()}
    for g in sorted(groups, key=lambda g: len(groups[g])):
        if len(groups) > 1 and len(groups[g]) < min_members:
            others = [h for h in groups if h != g]
            nearest = max(others, key=lambda h: float(cents[g] @ cents[h]))
            groups[nearest].extend(groups.pop(g))
    total = float(w.sum())
    out = []
    for ix in groups.values():
        Xg, wg = X_full[ix], w[ix]
        centroid = normalize(np.average(Xg, axis=0, weights=wg).reshape(1, -1))[0]
        sims = Xg @ Xg.T
        centrality = sims @ wg
        order = np.argsort(-(centrality * np.sqrt(wg)), kind="stable")
        members = [ids[ix[j]] for j in order]
        out.append(Cluster(
            members=members, weights=[float(wg[j]) for j in order], centroid=centroid,
            medoid=ids[ix[int(np.argmax(centrality))]], share=float(wg.sum()) / total,
            cohesion=float(np.mean(Xg @ centroid)),
        ))
    out.sort(key=lambda c: -c.share)
    return out


def match_identities(previous: Sequence[tuple[int, Mapping[int, float]]], current: Sequence[Cluster],
                     threshold: float = 0.25) -> list[int | None]:
    """For each current cluster, the id of the previous persona it continues (weighted Jaccard of members,
    Hungarian assignment), or None for a new persona."""
    if not previous or not current:
        return [None] * len(current)
    sim = np.zeros((len(current), len(previous)))
    for i, c in enumerate(current):
        cw = dict(zip(c.members, c.weights, strict=True))
        for j, (_, pw) in enumerate(previous):
            keys = set(cw) | set(pw)
            inter = sum(min(cw.get(s, 0.0), pw.get(s, 0.0)) for s in keys)
            union = sum(max(cw.get(s, 0.0), pw.get(s, 0.0)) for s in keys)
            sim[i, j] = inter / union if union else 0.0
    rows, cols = linear_sum_assignment(-sim)
    out: list[int | None] = [None] * len(current)
    for r, c in zip(rows, cols, strict=True):
        if sim[r, c] >= threshold:
            out[r] = previous[c][0]
    return out
