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
from scipy import sparse
from scipy.optimize import linear_sum_assignment
from sklearn.preprocessing import normalize
from sklearn.utils.extmath import randomized_svd

from engine.taste.features import FeatureSpace, Matrix, what_it_is


@dataclass
class Cluster:
    members: list[int]            # show ids, most central first
    weights: list[float]
    centroid: Matrix
    medoid: int
    share: float                  # of the person's positive engagement
    cohesion: float               # mean cosine of members to the centroid


def _reduce(X: sparse.csr_matrix, dims: int, seed: int) -> Matrix:
    """Project onto the top ``dims`` singular directions (seeded randomized SVD on the sparse rows: linear in the
    rows, deterministic); a small history keeps its rows as they are."""
    if X.shape[0] <= dims:
        small: Matrix = normalize(X.toarray())
        return small
    U, S, _ = randomized_svd(X, dims, n_iter=4, random_state=seed)
    reduced: Matrix = normalize(U * S)
    return reduced


def kmeans(X: Matrix, w: np.ndarray, k: int, rng: np.random.Generator, *, init: Matrix | None = None,
           n_init: int = 3, iters: int = 50) -> tuple[np.ndarray, float]:
    """Weighted spherical k-means (rows of X are unit vectors): k-means++ starts, Lloyd iterations on cosine.
    Returns (labels, inertia). Plain numpy: on one person's small matrix it is far quicker than a general
    implementation, and deterministic for a given generator."""
    n = X.shape[0]
    best: tuple[np.ndarray, float] | None = None
    for _ in range(1 if init is not None else n_init):
        if init is not None:
            C = init.copy()
        else:
            C = np.empty((k, X.shape[1]))
            C[0] = X[rng.choice(n, p=w / w.sum())]
            d = 1.0 - X @ C[0]
            for j in range(1, k):
                p = np.maximum(d, 0) * w
                C[j] = X[rng.choice(n, p=p / p.sum())] if p.sum() > 0 else X[rng.integers(n)]
                d = np.minimum(d, 1.0 - X @ C[j])
        labels = np.full(n, -1)
        for _ in range(iters):
            new = np.argmax(X @ C.T, axis=1)
            if np.array_equal(new, labels):
                break
            labels = new
            onehot = np.zeros((n, k))
            onehot[np.arange(n), labels] = w
            sums = onehot.T @ X
            norms = np.linalg.norm(sums, axis=1)
            filled = norms > 0                      # an emptied cluster keeps its old centre
            C[filled] = sums[filled] / norms[filled, None]
        inertia = float(((1.0 - np.einsum("ij,ij->i", X, C[labels])) * w).sum())
        if best is None or inertia < best[1]:
            best = (labels, inertia)
    assert best is not None
    return best


def silhouette(X: Matrix, labels: np.ndarray) -> float:
    """The mean cosine silhouette, exactly, in O(n·k·d): on unit rows the mean distance from x to a cluster is
    1 - x·(sum of the cluster's rows) / size, so no n x n distance matrix is needed."""
    ks, own, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    if len(ks) < 2:
        return 0.0
    S = np.zeros((len(ks), X.shape[1]))
    np.add.at(S, own, X)
    dots = X @ S.T                                             # n x k: x_i · sum of cluster K
    rows = np.arange(len(labels))
    n_own = sizes[own]
    a = np.where(n_own > 1, 1.0 - (dots[rows, own] - 1.0) / np.maximum(n_own - 1, 1), 0.0)
    mean_other = 1.0 - dots / sizes[None, :]
    mean_other[rows, own] = np.inf
    b = mean_other.min(axis=1)
    s = np.where(n_own > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-12), 0.0)
    return float(s.mean())


# a persona holds at least this share of the person's engagement — a taste, not a handful of shows: a longer history
# of the same tastes makes small clusters possible, not more tastes (without it, MovieLens people with long
# histories hit the cap of 8 and a third of all personas held under a tenth of a history)
MIN_SHARE = 0.05


def stability(X: Matrix, w: np.ndarray, labels: np.ndarray, k: int, seed: int, rounds: int = 2) -> float:
    """How well ``labels`` survive resampling: k-means on random halves of the shows, every show assigned to the
    nearest centre of each; the mean adjusted Rand index against ``labels``."""
    from sklearn.metrics import adjusted_rand_score
    rng = np.random.default_rng(seed + 1000 * k)
    n = X.shape[0]
    out = []
    for _ in range(rounds):
        half = rng.choice(n, size=n // 2, replace=False)
        sub, _ = kmeans(X[half], w[half], k, rng, n_init=1)
        C = np.zeros((k, X.shape[1]))
        np.add.at(C, sub, X[half] * w[half, None])
        C /= np.maximum(np.linalg.norm(C, axis=1, keepdims=True), 1e-12)
        out.append(adjusted_rand_score(labels, np.argmax(X @ C.T, axis=1)))
    return float(np.mean(out))


def choose_k(X: Matrix, w: np.ndarray, max_k: int, seed: int, tolerance: float = 0.03,
             min_silhouette: float = 0.08, min_stability: float = 0.5) -> tuple[int, np.ndarray, float]:
    """(k, labels, silhouette): among the k whose clusters survive resampling (``stability``), the smallest
    whose cosine silhouette is within ``tolerance`` of the best. Without the resampling test k grew with the
    length of a history: more shows let finer, accidental structure look separated."""
    n = X.shape[0]
    if n < 4 or max_k < 2:
        return 1, np.zeros(n, dtype=int), 0.0
    scores: dict[int, tuple[float, np.ndarray]] = {}
    for k in range(2, min(max_k, n - 1) + 1):
        labels, _ = kmeans(X, w, k, np.random.default_rng(seed + k))
        if len(set(labels.tolist())) < 2:
            continue
        if n >= 4 * k and stability(X, w, labels, k, seed) < min_stability:
            continue                      # a split that half the history would not make is not a taste
        scores[k] = (silhouette(X, labels), labels)
    if not scores:
        return 1, np.zeros(n, dtype=int), 0.0
    top = max(s for s, _ in scores.values())
    if top < min_silhouette:
        return 1, np.zeros(n, dtype=int), 0.0
    k = min(k for k, (s, _) in scores.items() if s >= top - tolerance)
    return k, scores[k][1], scores[k][0]


def refine(X: Matrix, w: np.ndarray, labels: np.ndarray, max_k: int, seed: int, threshold: float = 0.3,
           min_members: int = 3, min_share: float = 0.08) -> np.ndarray:
    """Split a persona in two where its own shows clearly separate (silhouette of the split >= ``threshold``)
    and each side holds ``min_share`` of the person's weight: a global silhouette favours the few largest splits
    and would leave crime and sci-fi fans in one persona."""
    labels = labels.copy()
    total = float(w.sum()) or 1.0
    changed = True
    while changed and len(set(labels.tolist())) < max_k:
        changed = False
        sizes = {int(g): int((labels == g).sum()) for g in set(labels.tolist())}
        for g in sorted(sizes, key=lambda g: -sizes[g]):
            ix = np.flatnonzero(labels == g)
            if len(ix) < 2 * min_members:
                continue
            sub_labels, _ = kmeans(X[ix], w[ix], 2, np.random.default_rng(seed + 100 + g))
            if min(int((sub_labels == 0).sum()), int((sub_labels == 1).sum())) < min_members:
                continue
            if min(float(w[ix][sub_labels == h].sum()) for h in (0, 1)) / total < min_share:
                continue
            score = silhouette(X[ix], sub_labels)
            if score >= threshold:
                labels[ix[sub_labels == 1]] = int(labels.max()) + 1
                changed = True
                break
    return labels


def warm_labels(X: Matrix, w: np.ndarray, ids: Sequence[int], previous: Sequence[Mapping[int, float]],
                seed: int) -> tuple[np.ndarray, float] | None:
    """Carry the previous personas over: shows keep their persona, new shows join the nearest one (by the
    centroid of its current members). Stable by design; the caller re-clusters only when that is clearly better."""
    pos = {s: i for i, s in enumerate(ids)}
    labels = np.full(len(ids), -1)
    for j, members in enumerate(previous):
        for s in members:
            if s in pos and labels[pos[s]] < 0:
                labels[pos[s]] = j
    kept = sorted(set(labels[labels >= 0].tolist()))
    if len(kept) < 2:
        return None
    C = []
    for j in kept:
        m = labels == j
        c = (X[m] * w[m, None]).sum(axis=0)
        C.append(c / (np.linalg.norm(c) or 1.0))
    free = np.flatnonzero(labels < 0)
    if len(free):
        labels[free] = np.array(kept)[np.argmax(X[free] @ np.array(C).T, axis=1)]
    labels = np.searchsorted(np.array(kept), labels)
    return labels, silhouette(X, labels)


def cluster_personas(space: FeatureSpace, weights: Mapping[int, float], *, max_k: int = 8,
                     min_members: int = 2, seed: int = 0, reduce_dims: int = 64,
                     previous: Sequence[Mapping[int, float]] | None = None,
                     hysteresis: float = 0.05) -> list[Cluster]:
    """``previous``: the memberships of the person's current personas; when given, the clustering starts from
    them and changes shape only if a fresh clustering is clearly better (silhouette + ``hysteresis``)."""
    norms = np.sqrt(np.asarray(space.matrix.multiply(space.matrix).sum(axis=1)).ravel())
    # shows with no feature at all (no metadata, too rare for co-watching) cannot be placed: left out
    ids = sorted(i for i, wt in weights.items() if wt > 0 and i in space.index and norms[space.index[i]] > 0)
    if not ids:
        return []
    w = np.array([weights[i] for i in ids], dtype=float)
    X_full = space.rows(ids)
    X = _reduce(what_it_is(X_full), reduce_dims, seed)
    k_max = max(1, min(max_k, len(ids) // max(2, min_members)))
    _k, labels, _ = choose_k(X, w, k_max, seed)
    labels = refine(X, w, labels, k_max, seed)
    fresh = silhouette(X, labels) if len(set(labels.tolist())) > 1 else 0.0
    warm = warm_labels(X, w, ids, previous, seed) if previous else None
    if warm is not None and warm[1] + hysteresis >= fresh:
        labels = warm[0]
    groups: dict[int, list[int]] = {}
    for i, lab in enumerate(labels):
        groups.setdefault(int(lab), []).append(i)
    # a group below min_members or MIN_SHARE is not a taste yet: fold it into the nearest group
    cents = {g: normalize(np.average(X[ix], axis=0, weights=w[ix]).reshape(1, -1))[0] for g, ix in groups.items()}
    total_w = float(w.sum()) or 1.0
    for g in sorted(groups, key=lambda g: float(w[groups[g]].sum())):
        if len(groups) > 1 and (len(groups[g]) < min_members or float(w[groups[g]].sum()) / total_w < MIN_SHARE):
            others = [h for h in groups if h != g]
            nearest = max(others, key=lambda h: float(cents[g] @ cents[h]))
            groups[nearest].extend(groups.pop(g))
    total = float(w.sum())
    out = []
    for ix in groups.values():
        Xg, wg = X_full[ix], w[ix]
        mean = np.asarray(Xg.T @ wg).ravel()                  # the weighted sum of the members' rows
        centroid = mean / (np.linalg.norm(mean) or 1.0)
        centrality = np.asarray(Xg @ mean).ravel()            # x_i · sum_j w_j x_j: linear, not pairwise
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
