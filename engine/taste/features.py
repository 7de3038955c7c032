"""Show features for persona clustering and recommendation: one fixed layout for every show.

A show's row depends only on its metadata (never on whose history it is in), so rows are computed once and
cached, persona centroids live in the same space, and scoring candidates is a sparse matrix product. Open
vocabularies (keywords, networks, countries) are hashed; overview text is hashed TF-IDF (document frequencies
from the bundled catalogue) projected onto 256 fixed random directions, which keeps cosines close (Johnson–
Lindenstrauss) at a size a centroid can be stored in. Each block is L2-normalised per show and weighted; the row
is L2-normalised, so a dot product is a cosine. Collaborative item embeddings (co-watching) are an optional last
block from the population model.
"""

from __future__ import annotations

import gzip
import json
import math
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction import FeatureHasher
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize

from engine.taste.audience import AUDIENCES, audience_row
from engine.values.meta import ShowMeta

Matrix: TypeAlias = NDArray[np.float64]
Rows: TypeAlias = sparse.csr_matrix

GENRES = ("action", "adventure", "animation", "anime", "children", "comedy", "crime", "documentary", "drama",
          "family", "fantasy", "game-show", "history", "holiday", "horror", "home-and-garden", "music", "musical",
          "mystery", "news", "reality", "romance", "science-fiction", "soap", "sporting-event", "superhero",
          "suspense", "talk-show", "thriller", "war", "western", "biography", "sport", "film-noir")
TONES = ("dark", "light", "cerebral", "comforting", "fast-paced", "slow-burn", "complex", "easy-going",
         "emotional", "violent", "funny", "epic", "quirky", "tense", "romantic", "whimsical")
ERAS = ("classic", "1970s", "1980s", "1990s", "2000s", "2010s", "2020s")
SCORES = ("acclaimed", "liked", "mixed", "imdb-high", "imdb-mid", "popular", "niche")

BLOCK_WEIGHTS: dict[str, float] = {
    "genres": 1.0, "keywords": 0.6, "text": 0.45, "tone": 0.5, "era": 0.25, "runtime": 0.2, "origin": 0.3,
    "language": 0.2, "type": 0.2, "network": 0.15, "scores": 0.1, "audience": 0.45, "cf": 1.0,
}
SIZES = {"genres": len(GENRES) + 16, "keywords": 1024, "text": 256, "tone": len(TONES), "era": len(ERAS),
         "runtime": 3, "origin": 64, "language": 32, "type": 16, "network": 128, "scores": len(SCORES),
         "audience": len(AUDIENCES)}
TEXT_BUCKETS = 2 ** 14
CF_DIMS = 24


def _layout() -> dict[str, tuple[int, int]]:
    out, col = {}, 0
    for name, size in SIZES.items():
        out[name] = (col, col + size)
        col += size
    return out


LAYOUT = _layout()
CONTENT_DIMS = max(b for _, b in LAYOUT.values())
DIMS = CONTENT_DIMS + CF_DIMS                         # with the collaborative block


def _era(year: int | None) -> str | None:
    if not year:
        return None
    return f"{(year // 10) * 10}s" if year >= 1970 else "classic"


def _runtime(rt: float | None) -> int | None:
    if rt is None or rt <= 0:
        return None
    return 0 if rt <= 32 else (1 if rt <= 50 else 2)


def _scores(meta: ShowMeta) -> list[str]:
    out = []
    va, vc = meta.vote_average, meta.vote_count or 0
    if va is not None and vc:
        out.append("acclaimed" if va >= 8 else ("liked" if va >= 7 else "mixed"))
    if meta.imdb_rating is not None:
        out.append("imdb-high" if meta.imdb_rating >= 8 else "imdb-mid")
    if vc:
        out.append("popular" if vc >= 5000 else "niche")
    return out


def genres_of(meta: ShowMeta) -> tuple[str, ...]:
    """Genres, with 'anime' for Japanese animation."""
    if meta.is_anime and "anime" not in meta.genres:
        return (*meta.genres, "anime")
    return meta.genres


@lru_cache(maxsize=1)
def _text_model() -> tuple[HashingVectorizer, NDArray[np.float64], sparse.csr_matrix]:
    """Hashing vectoriser, document frequencies from the bundled catalogue's overviews, and the fixed projection."""
    vec = HashingVectorizer(n_features=TEXT_BUCKETS, stop_words="english", alternate_sign=False, norm=None,
                            token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b")
    raw = resources.files("engine.sample").joinpath("catalogue.json.gz").read_bytes()
    docs = [str(e.get("overview") or "") for e in json.loads(gzip.decompress(raw))]
    counts = vec.transform(docs)
    df = np.asarray((counts > 0).sum(axis=0)).ravel()
    idf = np.log((1 + len(docs)) / (1 + df)) + 1.0
    rng = np.random.default_rng(20261201)             # fixed: every process projects the same way
    density = 1 / 16
    nnz = int(TEXT_BUCKETS * SIZES["text"] * density)
    rows = rng.integers(0, TEXT_BUCKETS, nnz)
    cols = rng.integers(0, SIZES["text"], nnz)
    vals = rng.choice([-1.0, 1.0], nnz) / math.sqrt(SIZES["text"] * density)
    proj = sparse.csr_matrix((vals, (rows, cols)), shape=(TEXT_BUCKETS, SIZES["text"]))
    return vec, idf, proj


@lru_cache(maxsize=1)
def _genre_idf() -> dict[str, float]:
    """"Drama" on half the shows says less than "documentary": inverse frequency over the bundled catalogue."""
    raw = resources.files("engine.sample").joinpath("catalogue.json.gz").read_bytes()
    entries = json.loads(gzip.decompress(raw))
    n = len(entries)
    df: dict[str, int] = {}
    for e in entries:
        for g in set(e.get("genres") or []):
            df[g] = df.get(g, 0) + 1
    return {g: math.log((1 + n) / (1 + df.get(g, 0))) + 1.0 for g in GENRES}


_GENRE_IX = {g: i for i, g in enumerate(GENRES)}
_hash = {name: FeatureHasher(n_features=SIZES[name], input_type="string", alternate_sign=False)
         for name in ("keywords", "origin", "language", "type", "network")}


def _fixed(values: list[list[str]], vocab: Sequence[str]) -> sparse.csr_matrix:
    ix = {v: i for i, v in enumerate(vocab)}
    r, c = [], []
    for i, vs in enumerate(values):
        for v in vs:
            j = ix.get(v)
            if j is not None:
                r.append(i)
                c.append(j)
    m = sparse.csr_matrix((np.ones(len(r)), (r, c)), shape=(len(values), len(vocab)))
    m.data[:] = 1.0
    return m


def encode(metas: Sequence[ShowMeta]) -> Rows:
    """Content rows (n x CONTENT_DIMS): each block normalised and weighted; rows are not yet normalised (the
    collaborative block may join them, see ``rows_with``)."""
    n = len(metas)
    if n == 0:
        return sparse.csr_matrix((0, CONTENT_DIMS))
    blocks: dict[str, sparse.csr_matrix] = {}
    gidf = _genre_idf()
    r, c, v = [], [], []
    extra = LAYOUT["genres"][1] - LAYOUT["genres"][0] - len(GENRES)
    for i, m in enumerate(metas):
        for g in set(genres_of(m)):
            j = _GENRE_IX.get(g)
            if j is None:
                j = len(GENRES) + (zlib.crc32(g.encode()) % extra)   # an unknown genre groups with itself
            r.append(i)
            c.append(j)
            v.append(gidf.get(g, 2.0))
    blocks["genres"] = sparse.csr_matrix((v, (r, c)), shape=(n, SIZES["genres"]))
    blocks["keywords"] = _hash["keywords"].transform([[k.lower() for k in m.keywords] for m in metas])
    vec, idf, proj = _text_model()
    tf = vec.transform([m.overview or "" for m in metas]).tocsr()
    tf.data = np.log1p(tf.data)
    tfidf = normalize(tf @ sparse.diags(idf))
    blocks["text"] = sparse.csr_matrix(tfidf @ proj)
    blocks["tone"] = _fixed([list(m.tone or ()) for m in metas], TONES)
    blocks["era"] = _fixed([[e] if (e := _era(m.first_year)) else [] for m in metas], ERAS)
    blocks["runtime"] = _fixed([[str(rt)] if (rt := _runtime(m.runtime)) is not None else [] for m in metas],
                               ("0", "1", "2"))
    blocks["origin"] = _hash["origin"].transform([list(m.origin_country[:2]) for m in metas])
    blocks["language"] = _hash["language"].transform([[m.original_language] if m.original_language else []
                                                      for m in metas])
    blocks["type"] = _hash["type"].transform([[m.type] if m.type else [] for m in metas])
    blocks["network"] = _hash["network"].transform([list(m.networks[:2]) + list(m.providers[:3]) for m in metas])
    blocks["scores"] = _fixed([_scores(m) for m in metas], SCORES)
    blocks["audience"] = sparse.csr_matrix(np.array([audience_row(m.certification) for m in metas]))
    parts = []
    for name in SIZES:
        b = sparse.csr_matrix(blocks[name], dtype=np.float64)
        b.data[:] = np.where(np.isfinite(b.data), b.data, 0.0)
        parts.append(normalize(b) * BLOCK_WEIGHTS[name])
    out: sparse.csr_matrix = sparse.hstack(parts, format="csr")
    return out


def what_it_is(rows: Rows) -> Rows:
    """Rows without the blocks that say whom a show is for rather than what it is (the audience): personas group
    shows by kind, and a taste's audience then shows in its centroid. Grouped with it, a viewer's anime and their
    American dramas (both for grown-ups) ran together into one side of the bundled sample."""
    a, b = LAYOUT["audience"]
    keep = np.ones(rows.shape[1])
    keep[a:b] = 0.0
    out: Rows = sparse.csr_matrix(rows @ sparse.diags(keep))
    return out


def rows_with(content: Rows, cf: Matrix | None = None) -> Rows:
    """Full, unit rows: content rows (from ``encode``) joined by the collaborative block (zeros where a show has
    no co-watching embedding)."""
    n = content.shape[0]
    if n == 0:                       # a person with no shows yet: no rows (scikit-learn refuses empty input)
        return sparse.csr_matrix((0, content.shape[1] + CF_DIMS))
    cfb = sparse.csr_matrix((n, CF_DIMS)) if cf is None else sparse.csr_matrix(normalize(cf) * BLOCK_WEIGHTS["cf"])
    full: sparse.csr_matrix = normalize(sparse.hstack([content, cfb], format="csr"))
    return full


@dataclass
class FeatureSpace:
    """Feature rows for a set of shows (row i is ``ids[i]``), in the one global layout."""

    ids: list[int]
    matrix: Rows
    index: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = {sid: i for i, sid in enumerate(self.ids)}

    @property
    def blocks(self) -> dict[str, tuple[int, int]]:
        """The blocks that hold anything for these shows (e.g. only genres and co-watching for Annict)."""
        present = {}
        nz = np.asarray(abs(self.matrix).sum(axis=0)).ravel() if self.matrix.shape[0] else np.zeros(DIMS)
        for name, (a, b) in {**LAYOUT, "cf": (CONTENT_DIMS, DIMS)}.items():
            if nz[a:b].any():
                present[name] = (a, b)
        return present

    def rows(self, ids: Iterable[int]) -> Rows:
        return self.matrix[[self.index[i] for i in ids]]


def build_features(metas: Mapping[int, ShowMeta], *, cf: Mapping[int, Matrix] | None = None,
                   seed: int = 0) -> FeatureSpace:
    """Full rows for every show in ``metas`` (``cf``: co-watching embeddings by show, when a population has any)."""
    ids = sorted(metas)
    content = encode([metas[i] for i in ids])
    emb = None
    if cf:
        emb = np.zeros((len(ids), CF_DIMS))
        for i, sid in enumerate(ids):
            vec = cf.get(sid)
            if vec is not None:
                emb[i, :len(vec)] = vec[:CF_DIMS]
    return FeatureSpace(ids, rows_with(content, emb))


def cowatch_embeddings(interactions: Mapping[Any, Iterable[int]], dims: int = CF_DIMS, seed: int = 0,
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
