"""The catalogue index: every show that can be proposed without an outside list, its feature row and static priors."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from engine.recommend.franchise import Franchises
from engine.recommend.values import F, Ints, PersonaVec
from engine.values.meta import ShowMeta
from engine.values.models import Filters
from engine.values.vocabulary import norm_title


@dataclass
class CatalogueIndex:
    """Shows that can be proposed without an outside list, with their rows and static priors; built once."""
    ids: Ints
    metas: list[ShowMeta]
    rows: sparse.csr_matrix               # full unit rows
    prior: F                              # log1p(votes) or counts: all-time popularity as the metadata says
    pos: dict[int, int] = field(default_factory=dict)
    _cols: dict[str, Any] | None = field(default=None, repr=False)
    _titles: dict[str, list[int]] | None = field(default=None, repr=False)
    _services: dict[str, int] | None = field(default=None, repr=False)
    _streaming: tuple[str, ...] | None = field(default=None, repr=False)
    _known: dict[str, bool] = field(default_factory=dict, repr=False)
    _years: list[int | None] | None = field(default=None, repr=False)
    _franchises: Franchises | None = field(default=None, repr=False)
    signals: F = field(default_factory=lambda: np.zeros((0, 3)))   # per show: meta_signals (built once)

    def __post_init__(self) -> None:
        self.pos = {int(i): n for n, i in enumerate(self.ids)}
        if len(self.signals) != len(self.ids):
            self.signals = meta_signals(self.metas)

    def meta(self, sid: int) -> ShowMeta | None:
        n = self.pos.get(sid)
        return self.metas[n] if n is not None else None

    def matching(self, f: Filters, genres: Sequence[str] = (), short: float | None = None) -> NDArray[np.bool_]:
        """A mask of the shows passing filters ``f`` (as ``engine.values.filters.passes`` reads them), having one of
        ``genres`` and, with ``short``, a known runtime of at most ``short`` minutes; vectorised over columns
        built once per index."""
        c = self._columns()
        n = len(self.ids)
        out = np.ones(n, dtype=bool)

        def any_of(gs: Sequence[str]) -> NDArray[np.bool_]:
            hit = np.zeros(n, dtype=bool)
            for g in gs:
                if g in c["genre"]:
                    hit |= c["genre"][g]
            return hit

        rt = c["runtime"]
        if f.genres_in:
            out &= any_of(f.genres_in)
        if f.genres_out:
            out &= ~any_of(f.genres_out)
        if f.anime is not None:
            out &= c["anime"] == f.anime
        if f.max_runtime is not None:
            out &= np.isnan(rt) | (rt <= f.max_runtime)
        if f.min_runtime is not None:
            out &= np.isnan(rt) | (rt >= f.min_runtime)
        if f.language:
            lang = c["language"]
            out &= (lang == "") | (lang == f.language)
        if f.provider:
            want = f.provider.lower()
            out &= np.array([any(want in p.lower() for p in (*m.providers_in(f.region), *m.networks))
                             for m in self.metas], dtype=bool)
        if f.status == "airing":
            out &= c["airing"]
        elif f.status == "ended":
            out &= c["ended"]
        if genres:
            out &= any_of(genres)
        if short is not None:
            out &= ~np.isnan(rt) & (rt > 0) & (rt <= short)
        return out

    def _columns(self) -> dict[str, Any]:
        if self._cols is None:
            genre: dict[str, NDArray[np.bool_]] = {}
            for i, m in enumerate(self.metas):
                for g in m.genres:
                    genre.setdefault(g, np.zeros(len(self.ids), dtype=bool))[i] = True
            self._cols = {
                "genre": genre,
                "runtime": np.array([m.runtime if m.runtime is not None else np.nan for m in self.metas], dtype=float),
                "anime": np.array([m.is_anime for m in self.metas], dtype=bool),
                "language": np.array([m.original_language or "" for m in self.metas], dtype=object),
                "airing": np.array([m.airing for m in self.metas], dtype=bool),
                "ended": np.array([m.ended for m in self.metas], dtype=bool),
            }
        return self._cols

    def services(self) -> dict[str, int]:
        """Every streaming service and network the indexed shows name (any region), with how many shows."""
        if self._services is None:
            counts: dict[str, int] = {}
            for m in self.metas:
                names = {*m.providers, *m.networks, *(p for _, ps in m.regional_providers for p in ps)}
                for name in names:
                    counts[name] = counts.get(name, 0) + 1
            self._services = dict(sorted(counts.items(), key=lambda kv: -kv[1]))
        return self._services

    def streaming(self) -> tuple[str, ...]:
        """The streaming services (not the broadcast networks) the indexed shows stream on, most shows first."""
        if self._streaming is None:
            names = {p for m in self.metas for p in (*m.providers, *(p for _, ps in m.regional_providers for p in ps))}
            self._streaming = tuple(n for n in self.services() if n in names)
        return self._streaming

    def knows(self, field_name: str) -> bool:
        """Whether any indexed show has this field from a real source (the bundled demo data invents statuses)."""
        if field_name not in self._known:
            self._known[field_name] = any(not m.made_up(field_name) for m in self.metas)
        return self._known[field_name]

    def titled(self, title: str) -> list[int]:
        """Positions of the shows with this title (normalised: case, accents and punctuation aside)."""
        if self._titles is None:
            titles: dict[str, list[int]] = {}
            for i, m in enumerate(self.metas):
                titles.setdefault(norm_title(m.display_title), []).append(i)
            self._titles = titles
        return self._titles.get(norm_title(title), [])

    @property
    def franchises(self) -> Franchises:
        """The index's shows by franchise key (``engine.recommend.franchise``), built once."""
        if self._franchises is None:
            self._franchises = Franchises([m.display_title for m in self.metas])
        return self._franchises

    def warm_franchises(self) -> None:
        """Build what ``continuations`` reads (the deployment's worker calls it, so no request pays for it)."""
        if self._years is None:
            self._years = [m.first_year for m in self.metas]
        self._franchises = self._franchises or Franchises([m.display_title for m in self.metas])

    def continuations(self, recent: Mapping[int, float], limit: int = 60) -> dict[int, float]:
        """Show id -> how strongly it continues what the person watched (sequels, new seasons filed as shows,
        spin-offs sharing the name), the most recently watched counting most (``recent``: ``history_weights``)."""
        if not recent:
            return {}
        at = {n: w for sid, w in recent.items() if (n := self.pos.get(sid)) is not None}
        if self._years is None:
            self._years = [m.first_year for m in self.metas]
        got = self.franchises.continuations(at, self._years, limit) if at else {}
        return {int(self.ids[n]): v for n, v in got.items()}

    def affinity(self, personas: Sequence[PersonaVec]) -> NDArray[np.float32]:
        """Every show's cosine to each persona's centroid (shows x personas)."""
        C = np.stack([p.centroid for p in personas])
        out: NDArray[np.float32] = np.asarray(self.rows @ C.T, dtype=np.float32)
        return out

    def blocked(self, seen: set[int], allowed: NDArray[np.bool_] | None = None) -> NDArray[np.bool_]:
        """A mask over the index: shows the person has seen, and shows ``allowed`` leaves out."""
        out = np.zeros(len(self.ids), dtype=bool) if allowed is None else ~allowed
        at = [n for s in seen if (n := self.pos.get(s)) is not None]
        out[at] = True
        return out



def meta_signals(metas: Sequence[ShowMeta]) -> F:
    """What the metadata alone says of each show: log TMDB popularity (attention now), log vote count (all-time
    popularity) and the Bayesian rating (NaN when unrated)."""
    out = np.empty((len(metas), 3))
    for i, m in enumerate(metas):
        q = bayes(m)
        out[i] = (math.log1p(m.popularity or 0.0), math.log1p(m.vote_count) if m.vote_count else 0.0,
                  np.nan if q is None else q)
    return out



def bayes(meta: ShowMeta, prior: float = 7.0, m: float = 300.0) -> float | None:
    """TMDB's vote average shrunk toward 7.0 by 300 pseudo-votes; with critic scores when OMDb has them."""
    parts = []
    if meta.vote_average is not None and meta.vote_count:
        parts.append((meta.vote_average * meta.vote_count + prior * m) / (meta.vote_count + m))
    if meta.imdb_rating is not None and meta.imdb_votes:
        parts.append((meta.imdb_rating * meta.imdb_votes + prior * m * 10) / (meta.imdb_votes + m * 10))
    if meta.metacritic is not None:
        parts.append(meta.metacritic / 10.0)
    if meta.rotten_tomatoes is not None:
        parts.append(meta.rotten_tomatoes / 10.0)
    return sum(parts) / len(parts) if parts else None
