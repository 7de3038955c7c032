"""Show features for persona clustering and recommendation.

Every block is optional, so personas still form when metadata is thin: genres, keywords (TF-IDF), overview text
embeddings (LSA: TF-IDF + truncated SVD, a model that runs offline), era, runtime, origin, language, type,
networks/providers, critic and user scores, LLM tone tags when cached, and collaborative item embeddings from
co-watching across everyone in the store or dataset. Each block is L2-normalised per show and weighted; the final
row is L2-normalised, so a dot product is a cosine similarity.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from ..meta import ShowMeta

Matrix = NDArray[np.float64]

BLOCK_WEIGHTS: dict[str, float] = {
    "genres": 1.0, "keywords": 0.6, "text": 0.45, "tone": 0.5, "era": 0.25, "runtime": 0.2, "origin": 0.3,
    "language": 0.2, "type": 0.2, "network": 0.15, "scores": 0.1, "cf": 1.0,
}


@dataclass
class FeatureSpace:
    """Feature rows for a set of shows (row i is ``ids[i]``)."""

    ids: list[int]
    matrix: Matrix
    blocks: dict[str, tuple[int, int]] = field(default_factory=dict)   # block -> column range
    genre_names: list[str] = field(default_factory=list)
    index: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = {sid: i for i, sid in enumerate(self.ids)}

    def rows(self, ids: Iterable[int]) -> Matrix:
        return self.matrix[[self.index[i] for i in ids]]

    def genre_block(self, ids: Sequence[int]) -> Matrix:
        a, b = self.blocks.get("genres", (0, 0))
        return self.matrix[[self.index[i] for i in ids], a:b]


def _era(year: int | None) -> str | None:
    if not year:
        return None
    return f"{(year // 10) * 10}s" if year >= 1970 else "classic"


def _runtime(rt: Any) -> str | None:
    try:
        r = float(rt)
    except (TypeError, ValueError):
        return None
    if r <= 0:
        return None
    return "short" if r <= 32 else ("medium" if r <= 50 else "long")


def _score_bucket(meta: ShowMeta) -> list[str]:
    out = []
    va, vc = meta.vote_average, meta.vote_count or 0
    if va is not None and vc:
        out.append("acclaimed" if va >= 8 else ("liked" if va >= 7 else "mixed"))
    ir = meta.imdb_rating
    if ir is not None:
        out.append("imdb-high" if ir >= 8 else "imdb-mid")
    if vc:
        out.append("popular" if vc >= 5000 else "niche")
    return out


def _onehot(values: list[list[str]]) -> tuple[sparse.csr_matrix, list[str]]:
    vocab: dict[str, int] = {}
    rows, cols = [], []
    for i, vs in enumerate(values):
        for v in vs:
            j = vocab.setdefault(v, len(vocab))
            rows.append(i)
            cols.append(j)
    m = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(values), max(1, len(vocab))))
    m.data[:] = 1.0   # duplicates count once
    names = [""] * len(vocab)
    for k, j in vocab.items():
        names[j] = k
    return m, names


def _idf(m: sparse.csr_matrix) -> sparse.csr_matrix:
    df = np.asarray((m > 0).sum(axis=0)).ravel()
    idf = np.log((1 + m.shape[0]) / (1 + df)) + 1.0
    out: sparse.csr_matrix = sparse.csr_matrix(m @ sparse.diags(idf))
    return out


def build_features(metas: Mapping[int, ShowMeta], *, cf: Mapping[int, Matrix] | None = None,
                   text_dims: int = 32, seed: int = 0) -> FeatureSpace:
    """Feature rows for every show in ``metas`` (id -> normalised metadata, possibly empty)."""
    ids = sorted(metas)
    n = len(ids)
    if n == 0:
        return FeatureSpace([], np.zeros((0, 1)))
    M = [metas[i] for i in ids]
    blocks: list[tuple[str, Any]] = []
    genres, genre_names = _onehot([list(m.genres) for m in M])
    blocks.append(("genres", _idf(genres)))   # "drama" on half the shows says less than "documentary"
    kw_docs = [" ".join(k.replace(" ", "_") for k in m.keywords) for m in M]
    if sum(1 for d in kw_docs if d) >= 2:
        try:
            kw = TfidfVectorizer(token_pattern=r"[^ ]+", min_df=2, sublinear_tf=True).fit_transform(kw_docs)
            blocks.append(("keywords", kw))
        except ValueError:
            pass   # no keyword shared by two shows
    overviews = [m.overview for m in M]
    if sum(1 for o in overviews if len(o) > 40) >= 50:
        tf = TfidfVectorizer(stop_words="english", min_df=2, max_df=0.5, sublinear_tf=True).fit_transform(overviews)
        dims = min(text_dims, tf.shape[1] - 1, n - 1)
        if dims >= 2:
            blocks.append(("text", TruncatedSVD(dims, random_state=seed).fit_transform(tf)))
    tone = [list(m.tone or ()) for m in M]
    if any(tone):
        blocks.append(("tone", _onehot(tone)[0]))
    for name, values in (
        ("era", [[e] if (e := _era(m.first_year)) else [] for m in M]),
        ("runtime", [[r] if (r := _runtime(m.runtime)) else [] for m in M]),
        ("origin", [list(m.origin_country)[:2] for m in M]),
        ("language", [[m.original_language] if m.original_language else [] for m in M]),
        ("type", [[m.type] if m.type else [] for m in M]),
        ("network", [list(m.networks)[:2] + list(m.providers)[:3] for m in M]),
        ("scores", [_score_bucket(m) for m in M]),
    ):
        if any(values):
            blocks.append((name, _onehot(values)[0]))
    if cf:
        dim = len(next(iter(cf.values())))
        emb = np.zeros((n, dim))
        for i, sid in enumerate(ids):
            v = cf.get(sid)
            if v is not None:
                emb[i] = v
        blocks.append(("cf", emb))
    parts, ranges, col = [], {}, 0
    for name, block in blocks:
        dense = block.toarray() if sparse.issparse(block) else np.asarray(block, dtype=float)
        dense = normalize(dense) * BLOCK_WEIGHTS[name]
        parts.append(dense)
        ranges[name] = (col, col + dense.shape[1])
        col += dense.shape[1]
    matrix = normalize(np.hstack(parts)) if parts else np.zeros((n, 1))
    return FeatureSpace(ids, matrix, ranges, genre_names)


def cowatch_embeddings(interactions: Mapping[Any, Iterable[int]], dims: int = 24, seed: int = 0,
                       min_people: int = 20) -> dict[int, Matrix]:
    """Collaborative item embeddings: truncated SVD of the person x show matrix (BM25-like damping of heavy
    users and popular shows). ``interactions``: person -> shows. Empty when too few people to say anything."""
    people = [p for p, shows in interactions.items() if shows]
    if len(people) < min_people:
        return {}
    item_ix: dict[int, int] = {}
    rows, cols = [], []
    for r, p in enumerate(people):
        for s in set(interactions[p]):
            rows.append(r)
            cols.append(item_ix.setdefault(s, len(item_ix)))
    X = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(people), len(item_ix)))
    pop = np.asarray(X.sum(axis=0)).ravel()
    X = X @ sparse.diags(1.0 / np.sqrt(pop))                     # popular shows say less about taste
    X = sparse.diags(1.0 / np.sqrt(np.maximum(1, X.getnnz(axis=1)))) @ X
    k = max(2, min(dims, min(X.shape) - 1))
    svd = TruncatedSVD(k, random_state=seed)
    svd.fit(X)
    items = (svd.components_.T * np.sqrt(svd.singular_values_))   # item factors
    items = normalize(items)
    inv = {j: s for s, j in item_ix.items()}
    return {inv[j]: items[j] for j in range(items.shape[0]) if pop[j] >= 2}


def cosine(a: Matrix, b: Matrix) -> Matrix:
    return np.asarray(a @ b.T)


def safe_log(x: float) -> float:
    return math.log(max(x, 1e-12))
