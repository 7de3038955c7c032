"""The recommendation pipeline every list goes through — live, in ``multitudes eval`` and in the feedback
simulation alike:

    candidate sources -> exclusion -> scorers -> a selector per mode -> explanation (-> recorder, live only)

Everything here is synchronous numpy on plain values, so callers run it off the event loop. Data reaches it
through small ports: a ``RowSource`` (feature rows of shows), the ``CatalogueIndex`` (shows that can be proposed
without an outside list) and the ``Population`` model (co-watching, popularity over time, ratings). Live they are
fed by the store, Trakt and TMDB; in the evaluation by a dataset.

Scorers (``SIGNALS``, each a column, standardised over the candidates, weighted by the ``Profile``):
  persona       fit to the person's personas (cosine to each centroid), weights tilted by taste evolution
                (emerging personas gain, fading ones lose), time of day and weekday, and what the bandit learned
  collab        co-watching: EASE scores from the population (the dataset's other people; the bot's people), and
                from the person's crowd (Trakt members whose ratings overlap theirs, ``engine.recommend.crowd``)
  popular_now   popularity around now, each watch halving in weight every ``half_life_days`` (learned)
  popular_then  popularity around the person's own last activity (what was airing when they last watched)
  popular_all   all-time popularity (the population's counts; TMDB vote counts)
  quality       Bayesian mean rating (the population's ratings; TMDB votes and critic scores when present)
  lifecycle     a new season soon, airing now, a season just finished (binge-ready)
  evidence      the outside lists that proposed it (Trakt related / recommendations / trending, TMDB …)
  tone          LLM tone tags shared with the person's personas
Penalties on top: close to a show they said "not for me" to, shown and ignored before (adaptation).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from ..adapt import ignored_penalty, persona_multipliers, source_bonus
from ..catalogue import norm_title
from ..meta import EMPTY, ShowMeta
from ..models import Filters, Mode
from ..taste.features import LAYOUT, genres_of
from .crowd import Crowd
from .population import Population, history_weights
from .weights import SIGNALS, Profile

F = NDArray[np.float64]
Ints = NDArray[np.int64]
RowSource = Callable[[Sequence[int]], sparse.csr_matrix]

# the pipeline's own sources (the indexes) — they say nothing beyond the scorers, so they carry no evidence
INDEX_SOURCES = ("persona", "bridge", "like", "popular_here", "cowatch", "crowd")
# outside lists and the watchlist: being proposed by one is evidence in itself (``evidence`` scorer)
EVIDENCE = {"trakt_related": 1.0, "trakt_recommendations": 1.2, "tmdb_recommendations": 1.0, "tmdb_similar": 0.7,
            "trending": 0.8, "anticipated": 0.5, "popular": 0.3, "watchlist": 1.5}
TREND = {"emerging": 1.3, "new": 1.2, "steady": 1.0, "fading": 0.75, "dormant": 0.6}
REPRESENTATIVES = 30               # a persona's most central shows stand for it when a pick is placed
_PERSONA, _COLLAB = SIGNALS.index("persona"), SIGNALS.index("collab")
MAJOR = 0.1                       # a persona with this share of the weight is served in every mixed list


@dataclass
class PersonaVec:
    id: int
    name: str
    weight: float
    centroid: F                          # unit row in the feature layout
    members: list[int]                   # the most central shows first (representatives)
    trend: str = "steady"
    hours: tuple[float, ...] = ()
    weekdays: tuple[float, ...] = ()
    genres: tuple[str, ...] = ()


@dataclass
class PersonView:
    """What the pipeline knows of the person a list is for."""
    personas: list[PersonaVec]
    seen: set[int]                        # never to be proposed (watched, rated, hidden, dismissed, recently shown)
    watched: dict[int, float]             # show -> when they last watched it (seconds): co-watching input
    last_active: float | None = None      # when they last watched (seconds)
    local_time: datetime | None = None    # now, in their time zone (time-of-day context); None: no context
    nope: list[int] = field(default_factory=list)       # shows they said "not for me" to
    genres: dict[str, float] = field(default_factory=dict)   # their genre distribution (calibration target)
    crowd: Crowd | None = None            # Trakt members whose ratings overlap theirs (public graph)


@dataclass
class Adaptation:
    """What the feedback loop adds to one request (``engine.adapt``)."""
    sources: dict[str, float] = field(default_factory=dict)     # one Thompson draw per candidate source
    personas: dict[int, float] = field(default_factory=dict)    # one per persona id
    ignored: dict[int, int] = field(default_factory=dict)       # show -> times shown and ignored
    strategies: dict[str, tuple[float, float]] = field(default_factory=dict)
    draw_strategy: Callable[[], str] | None = None              # one Thompson draw per list slot


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
    signals: F = field(default_factory=lambda: np.zeros((0, 3)))   # per show: meta_signals (built once)

    def __post_init__(self) -> None:
        self.pos = {int(i): n for n, i in enumerate(self.ids)}
        if len(self.signals) != len(self.ids):
            self.signals = meta_signals(self.metas)

    def meta(self, sid: int) -> ShowMeta | None:
        n = self.pos.get(sid)
        return self.metas[n] if n is not None else None

    def matching(self, f: Filters, genres: Sequence[str] = (), short: float | None = None) -> NDArray[np.bool_]:
        """A mask of the shows passing filters ``f`` (as ``engine.filters.passes`` reads them), having one of
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

    def titled(self, title: str) -> list[int]:
        """Positions of the shows with this title (normalised: case, accents and punctuation aside)."""
        if self._titles is None:
            titles: dict[str, list[int]] = {}
            for i, m in enumerate(self.metas):
                titles.setdefault(norm_title(m.display_title), []).append(i)
            self._titles = titles
        return self._titles.get(norm_title(title), [])

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


@dataclass
class Pool:
    """The candidates of one request: show ids, their metadata and which sources proposed them (best rank)."""
    ids: list[int] = field(default_factory=list)
    metas: list[ShowMeta] = field(default_factory=list)
    sources: list[dict[str, int]] = field(default_factory=list)
    _pos: dict[int, int] = field(default_factory=dict)

    def add(self, sid: int, meta: ShowMeta | None, source: str, rank: int) -> None:
        n = self._pos.get(sid)
        if n is None:
            self._pos[sid] = len(self.ids)
            self.ids.append(sid)
            self.metas.append(meta or EMPTY)
            self.sources.append({source: rank})
            return
        self.sources[n][source] = min(rank, self.sources[n].get(source, rank))
        if meta is not None and not meta.empty and (self.metas[n].empty or (self.metas[n].partial and
                                                                            not meta.partial)):
            self.metas[n] = meta

    def keep(self, ok: Callable[[int, ShowMeta], bool]) -> Pool:
        out = Pool()
        for sid, m, src in zip(self.ids, self.metas, self.sources, strict=True):
            if ok(sid, m):
                out._pos[sid] = len(out.ids)
                out.ids.append(sid)
                out.metas.append(m)
                out.sources.append(dict(src))
        return out

    def index(self, sid: int) -> int:
        return self._pos[sid]

    def __len__(self) -> int:
        return len(self.ids)


# -- 1. candidate sources over the indexes ---------------------------------------------------------------------
def index_sources(pool: Pool, person: PersonView, catalogue: CatalogueIndex | None, population: Population,
                  profile: Profile, now: float, *, allowed: NDArray[np.bool_] | None = None, per_persona: int = 100,
                  popular: int = 150, cowatch: int = 200, bridge: tuple[int, int] | None = None,
                  sims: NDArray[np.float32] | None = None) -> None:
    """Propose from the indexes: the catalogue shows closest to each persona (with ``bridge``, to both of two
    personas at once), what is popular now, and what the population — and the person's crowd — co-watches with
    the person's shows.
    ``allowed``: a mask over the catalogue (filters, a mood); ``sims``: the catalogue's cosine to each persona
    when the caller keeps it (it changes only with the personas)."""
    if catalogue is not None and len(catalogue.ids):
        blocked = catalogue.blocked(person.seen, allowed)
        if person.personas:
            sims = (catalogue.affinity(person.personas) if sims is None else sims).astype(float)
            sims[blocked] = -np.inf
            for j in range(sims.shape[1]):
                _take(pool, catalogue, np.asarray(sims[:, j], dtype=float), person.seen, "persona", per_persona,
                      positive=True)
            if bridge is not None:
                both = np.minimum(sims[:, bridge[0]], sims[:, bridge[1]])
                _take(pool, catalogue, np.asarray(both, dtype=float), person.seen, "bridge", per_persona,
                      positive=True)
        pop = catalogue.prior.copy()
        if not population.empty:
            now_pop = population.popular_at(now, profile.half_life_days * 86400, list(catalogue.ids))
            if now_pop.any():
                pop = _z(now_pop) + 0.25 * _z(pop)
        pop[blocked] = -np.inf
        _take(pool, catalogue, pop, person.seen, "popular_here", popular)
    if not population.empty and person.watched and population.B is not None:
        history = history_weights(person.watched, decay_items=profile.history_decay)
        scores = population.collab(history, population.items)
        for rank, sid in enumerate(population.top(scores, cowatch, person.seen)):
            pool.add(sid, catalogue.meta(sid) if catalogue is not None else None, "cowatch", rank)
    crowd = person.crowd.population if person.crowd is not None else None
    if crowd is not None and person.watched and crowd.B is not None:
        history = history_weights(person.watched, decay_items=profile.history_decay)
        scores = crowd.collab(history, crowd.items)
        for rank, sid in enumerate(crowd.top(scores, cowatch, person.seen)):
            if allowed is None or catalogue is None or sid not in catalogue.pos or allowed[catalogue.pos[sid]]:
                pool.add(sid, catalogue.meta(sid) if catalogue is not None else None, "crowd", rank)


def like_sources(pool: Pool, person: PersonView, catalogue: CatalogueIndex | None, population: Population,
                 like_row: sparse.csr_matrix, like_id: int | None, *, allowed: NDArray[np.bool_] | None = None,
                 n: int = 150) -> None:
    """``like:X``: the catalogue shows closest to X, and what the population and the crowd co-watch with X."""
    if catalogue is not None and len(catalogue.ids):
        sims = np.asarray(catalogue.rows @ dense(like_row).ravel(), dtype=float)
        sims[catalogue.blocked(person.seen, allowed)] = -np.inf
        if like_id is not None and like_id in catalogue.pos:
            sims[catalogue.pos[like_id]] = -np.inf
        _take(pool, catalogue, sims, person.seen, "like", n, positive=True)
    if like_id is not None and not population.empty and population.B is not None:
        scores = population.collab({like_id: 1.0}, population.items)
        for rank, sid in enumerate(population.top(scores, n // 3, person.seen | {like_id})):
            pool.add(sid, catalogue.meta(sid) if catalogue is not None else None, "like", rank)
    crowd = person.crowd.population if person.crowd is not None else None
    if like_id is not None and crowd is not None and crowd.B is not None:
        scores = crowd.collab({like_id: 1.0}, crowd.items)
        for rank, sid in enumerate(crowd.top(scores, n // 3, person.seen | {like_id})):
            pool.add(sid, catalogue.meta(sid) if catalogue is not None else None, "like", rank)


def _take(pool: Pool, catalogue: CatalogueIndex, score: F, seen: set[int], source: str, n: int, *,
          positive: bool = False) -> None:
    """Add the ``n`` best-scoring catalogue shows the person has not seen (``score`` -inf where blocked)."""
    m = min(len(score) - 1, 2 * n)
    top = np.argpartition(-score, m)[: m + 1] if m > 0 else np.arange(len(score))
    rank = 0
    for i in top[np.argsort(-score[top], kind="stable")]:
        if not np.isfinite(score[i]) or (positive and score[i] <= 0):
            break
        sid = int(catalogue.ids[i])
        if sid in seen:
            continue
        pool.add(sid, catalogue.metas[i], source, rank)
        rank += 1
        if rank >= n:
            break


# -- 2. exclusion ------------------------------------------------------------------------------------------------
def exclude(pool: Pool, person: PersonView, ok: Callable[[ShowMeta], bool] | None = None) -> Pool:
    """Never a show the person has seen, rated, dropped, dismissed or was just shown; never a show without
    metadata; only shows passing ``ok`` (filters, a mood)."""
    return pool.keep(lambda sid, m: sid not in person.seen and not m.empty and (ok is None or ok(m)))


# -- 3. scorers --------------------------------------------------------------------------------------------------
@dataclass
class Scored:
    pool: Pool
    rows: sparse.csr_matrix
    Z: F                                  # candidates x SIGNALS, standardised
    affinity: F                           # candidates x personas: cosine to each centroid
    nearest: F                            # candidates x personas: closeness to the persona's own shows
    assign: Ints                           # the persona each candidate serves (-1: none)
    weights: F                            # persona weights after trend, context and adaptation
    shares: F                             # each persona's share of the history (before any tilt)
    penalty: F                            # subtracted from every strategy's relevance
    lifecycle_label: list[str | None]
    genres: F | None = None               # candidates x genres (rows sum to 1), for calibration
    genre_names: list[str] = field(default_factory=list)
    trust: float = 1.0                    # the population's confidence (``Population.confidence``)

    def relevance(self, profile: Profile, strategy: str = "blend") -> F:
        """The weighted sum of the scorers minus the penalties. Co-watching's weight moves to persona fit as
        far as the population is too small to speak for anyone's taste: alone, a person's own shows are the
        only evidence of it."""
        w = np.array(profile.vector(strategy))
        w[_PERSONA] += w[_COLLAB] * (1.0 - self.trust)
        out: F = self.Z @ w - self.penalty
        return out


def _z(v: F, clip: float = 3.0) -> F:
    """Standardised over the candidates, clipped at ``clip`` deviations: a signal only a few candidates have (the
    watchlist, one list's top) must not outweigh everything else by itself."""
    v = np.asarray(v, dtype=float)
    fin = np.isfinite(v)                 # NaN (unknown) and excluded (-inf) entries score 0 and count for nothing
    if not fin.any():
        return np.zeros_like(v)
    mu, sd = float(v[fin].mean()), float(v[fin].std())
    out: F = np.where(fin, np.clip((v - mu) / sd, -clip, clip), 0.0) if sd > 1e-12 else np.zeros_like(v)
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


def lifecycle(meta: ShowMeta, now: datetime) -> tuple[float, str | None]:
    """Where the show is in its life, as a score and the words for it (only what is true now)."""
    nxt = meta.next_episode
    nxt_at = nxt.at if nxt is not None else None
    if nxt is not None and nxt_at is not None and now <= nxt_at <= now + timedelta(days=30):
        if nxt.episode == 1:
            return 1.0, f"season {nxt.season} starts {nxt_at:%b %d}"
        return 0.8, "new episodes airing now"
    last = meta.last_episode
    last_at = last.at if last is not None else None
    if last_at is not None and now - timedelta(days=120) <= last_at <= now:
        if last is not None and (last.is_finale or meta.ended):
            season = f"season {last.season} " if last.season else "the latest season "
            return 0.7, f"{season}finished {last_at:%b %d}: binge-ready"
        if meta.airing:
            return 0.6, "new episodes lately"
    return 0.0, None


def context_weights(person: PersonView) -> F:
    """Persona weights, tilted by taste evolution and by what the person usually watches at this hour and day."""
    w = np.array([p.weight * TREND.get(p.trend, 1.0) for p in person.personas], dtype=float)
    t = person.local_time
    if t is not None and len(w) > 1:
        for j, p in enumerate(person.personas):
            hours = p.hours or (0.0,) * 24
            days = p.weekdays or (0.0,) * 7
            ctx = sum(hours[(t.hour + d) % 24] for d in (-1, 0, 1)) + days[t.weekday()]
            w[j] *= 1.0 + ctx
    return w / w.sum() if w.sum() > 0 else w


def score(pool: Pool, person: PersonView, rows_of: RowSource, population: Population, profile: Profile, *,
          now: datetime, now_ts: float, adaptation: Adaptation | None = None, like: sparse.csr_matrix | None = None,
          focus: Sequence[str] = (), metadata: bool = True, catalogue: CatalogueIndex | None = None,
          genre_columns: bool | None = None) -> Scored:
    """Every scorer's column for every candidate (then ``adapted`` when the feedback loop has a say). ``like``
    (the row of the show asked for) and ``focus`` (a mood's genres) make what the request asked for lead."""
    ids = pool.ids
    n = len(ids)
    rows = rows_of(ids)
    D = dense(rows)                      # one dense copy: every product below is a single BLAS call
    P = len(person.personas)
    if P:
        C = np.stack([p.centroid for p in person.personas]).astype(np.float32)
        affinity = (D @ C.T).astype(float)
        nearest = closeness(D, person.personas, rows_of)
    else:
        affinity = nearest = np.zeros((n, 0))
    weights = context_weights(person) if P else np.zeros(0)
    assign = np.argmax(nearest, axis=1).astype(np.int64) if P else np.full(n, -1, dtype=np.int64)
    if P:
        assign[nearest.max(axis=1) <= 0] = -1
    cols: dict[str, F] = {}
    cols["persona"] = _z(np.maximum(affinity, 0) @ weights) if P else np.zeros(n)
    # every column is standardised where it is made (so a column can also be scaled by its trust)
    # what the population says counts as much as the population is large (``Population.confidence``); the
    # metadata's own measures (TMDB popularity, vote counts, ratings) stand in for it in a small deployment
    trust = population.confidence if not population.empty else 0.0
    history = history_weights(person.watched, decay_items=profile.history_decay)
    cols["collab"] = np.zeros(n)
    if trust and population.B is not None:
        cols["collab"] = trust * _z(population.collab(history, ids))
    crowd = person.crowd
    if crowd is not None and crowd.population.B is not None:       # the person's own neighbours, beside everyone's
        cols["collab"] = cols["collab"] + crowd.confidence * (_z(crowd.population.collab(history, ids))
                                                              + _z(crowd.vote(person.watched, ids)))
    hl = profile.half_life_days * 86400
    cols["popular_now"] = trust * _z(population.popular_at(now_ts, hl, ids)) if trust else np.zeros(n)
    then = person.last_active
    cols["popular_then"] = (trust * _z(population.popular_at(then, hl, ids)) if then is not None and trust
                            else np.zeros(n))
    cols["popular_all"] = trust * _z(population.all_time(ids)) if trust else np.zeros(n)
    rated = population.rated(ids) if trust else np.full(n, np.nan)
    cols["quality"] = trust * _z(rated)
    if metadata:
        ms = _pool_signals(pool, catalogue)
        cols["popular_now"] = cols["popular_now"] + (1 - trust) * _z(ms[:, 0])      # TMDB: attention now
        cols["popular_all"] = cols["popular_all"] + (1 - trust) * _z(ms[:, 1])
        cols["quality"] = cols["quality"] + _z(ms[:, 2])
    life = [lifecycle(m, now) for m in pool.metas]
    cols["lifecycle"] = _z(np.array([x for x, _ in life]))
    cols["evidence"] = _z(np.array([sum(EVIDENCE.get(s, 0.0) / math.log2(r + 2) for s, r in src.items())
                                 for src in pool.sources]))
    cols["tone"] = _z(_tone(rows, person.personas, weights))
    Z = np.stack([cols[s] for s in SIGNALS], axis=1) if n else np.zeros((0, len(SIGNALS)))
    penalty = np.zeros(n)
    if person.nope:
        nope_rows = rows_of(person.nope)
        sim = (D @ dense(nope_rows).T).max(axis=1)
        penalty += 1.5 * np.maximum(0.0, sim - 0.6)                  # "not for me" lowers its close neighbours
    if like is not None:                 # like:X — closeness to X leads, the other signals order what is close
        penalty -= 2.0 * _z((D @ dense(like).T).ravel().astype(float))
    if focus:                            # a mood: a show that is mostly comedy fits "funny" better than one of six
        want = set(focus)
        penalty -= 1.5 * _z(np.array([len(want & set(m.genres)) / max(1, len(m.genres)) for m in pool.metas]))
    wanted = profile.calibration > 0 if genre_columns is None else genre_columns     # only calibration reads them
    genres, names = _genre_matrix(pool.metas) if wanted else (None, [])
    shares = np.array([p.weight for p in person.personas], dtype=float)
    scored = Scored(pool, rows, Z, affinity, nearest, assign, weights, shares, penalty, [lab for _, lab in life],
                    genres, names, trust)
    return adapted(scored, person, adaptation) if adaptation is not None else scored


def dense(rows: sparse.csr_matrix | NDArray[np.float32]) -> NDArray[np.float32]:
    """Rows as a dense float32 array: a few hundred rows by ~1,650 columns multiply far faster dense (BLAS)
    than sparse (a show's text block alone fills 256 columns)."""
    arr = rows.toarray() if isinstance(rows, sparse.spmatrix | sparse.sparray) else np.asarray(rows)
    out: NDArray[np.float32] = arr.astype(np.float32)
    return out


def closeness(rows: sparse.csr_matrix | NDArray[np.float32], personas: Sequence[PersonaVec], rows_of: RowSource,
              top: int = 3) -> F:
    """How close each row is to each persona's own shows: the mean cosine to its ``top`` most similar
    representatives (a vote of the nearest shows: one odd neighbour does not decide a pick's persona)."""
    D = dense(rows)
    n = D.shape[0]
    rep_ids = sorted({m for p in personas for m in p.members[:REPRESENTATIVES]})
    out = np.zeros((n, len(personas)))
    if not rep_ids or not n:
        return out
    rep_sim = D @ dense(rows_of(rep_ids)).T
    rep_ix = {s: j for j, s in enumerate(rep_ids)}
    for j, p in enumerate(personas):
        cols = [rep_ix[m] for m in p.members[:REPRESENTATIVES] if m in rep_ix]
        if cols:
            sims = rep_sim[:, cols]
            t = min(top, len(cols))
            out[:, j] = np.partition(sims, len(cols) - t, axis=1)[:, len(cols) - t:].mean(axis=1)
    return out


def _pool_signals(pool: Pool, catalogue: CatalogueIndex | None) -> F:
    """``meta_signals`` of the candidates: read from the index where it holds them."""
    if catalogue is None:
        return meta_signals(pool.metas)
    at = np.array([catalogue.pos.get(i, -1) for i in pool.ids], dtype=np.int64)
    out = np.empty((len(pool.ids), 3))
    known = at >= 0
    out[known] = catalogue.signals[at[known]]
    if (~known).any():
        out[~known] = meta_signals([m for m, k in zip(pool.metas, known, strict=True) if not k])
    return out


def _tone(rows: sparse.csr_matrix, personas: Sequence[PersonaVec], weights: F) -> F:
    if not personas:
        return np.zeros(rows.shape[0])
    a, b = LAYOUT["tone"]
    tone_c = rows[:, a:b]
    if not tone_c.nnz:
        return np.zeros(rows.shape[0])
    tc = np.stack([p.centroid[a:b] for p in personas])
    out: F = np.asarray(tone_c @ tc.T) @ weights
    return out


def adapted(scored: Scored, person: PersonView, adaptation: Adaptation) -> Scored:
    """What the feedback loop adds to a scored pool (a copy; the scores stay): persona weights tilted by one
    Thompson draw per persona, a bonus for candidates of promising sources and personas, and a penalty for shows
    shown and ignored before."""
    weights, Z, penalty = scored.weights, scored.Z, scored.penalty.copy()
    P = len(person.personas)
    if P > 1 and adaptation.personas:
        got = [adaptation.personas.get(p.id) for p in person.personas]
        known = [d for d in got if d is not None]
        neutral = float(np.mean(known)) if known else 0.0      # a persona without a draw stays where it is
        tilt = persona_multipliers([d if d is not None else neutral for d in got])
        if known and np.isfinite(tilt).all():
            weights = weights * tilt
            weights = weights / weights.sum()
            Z = Z.copy()
            Z[:, SIGNALS.index("persona")] = _z(np.maximum(scored.affinity, 0) @ weights)
            Z[:, SIGNALS.index("tone")] = _z(_tone(scored.rows, person.personas, weights))
            penalty -= np.where(scored.assign >= 0, np.log(tilt[np.maximum(scored.assign, 0)]), 0.0)
    if adaptation.sources:
        mean = float(np.mean(list(adaptation.sources.values())))
        penalty -= np.array([source_bonus(src, adaptation.sources, mean) for src in scored.pool.sources])
    if adaptation.ignored:
        penalty += np.array([ignored_penalty(adaptation.ignored.get(sid, 0)) for sid in scored.pool.ids])
    return replace(scored, Z=Z, weights=weights, penalty=penalty)


def _genre_matrix(metas: Sequence[ShowMeta]) -> tuple[F | None, list[str]]:
    names = sorted({g for m in metas for g in genres_of(m)})
    if not names:
        return None, []
    ix = {g: j for j, g in enumerate(names)}
    G = np.zeros((len(metas), len(names)))
    for i, m in enumerate(metas):
        gs = genres_of(m)
        for g in gs:
            G[i, ix[g]] = 1.0 / len(gs)
    return G, names


# -- 4. selectors ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Pick:
    index: int                 # into the pool
    persona: int               # persona index (-1: none)
    score: float
    strategy: str


def quotas(weights: F, k: int, min_share: float = 0.1) -> Ints:
    """Slots per persona, in proportion to their weights (largest remainder); every persona with at least
    ``min_share`` of the weight gets one when there is room."""
    P = len(weights)
    if P == 0:
        return np.zeros(0, dtype=np.int64)
    raw = weights * k
    q = np.floor(raw).astype(np.int64)
    for j in np.argsort(-(raw - q), kind="stable")[: k - int(q.sum())]:
        q[j] += 1
    need = [j for j in np.argsort(-weights, kind="stable") if weights[j] >= min_share and q[j] == 0]
    for j in need:
        donors = [d for d in np.argsort(weights, kind="stable") if q[d] > 1]
        if not donors:
            break
        q[donors[0]] -= 1
        q[j] += 1
    return q


def select(scored: Scored, mode: Mode, k: int, profile: Profile, *, persona: int | None = None,
           bridge: tuple[int, int] | None = None, adaptation: Adaptation | None = None,
           genres: Mapping[str, float] | None = None, allowed: NDArray[np.bool_] | None = None) -> list[Pick]:
    """The list for a mode: indexes into the pool, the persona each serves, its score, the strategy that chose
    it. ``allowed`` (per candidate) leaves some out without scoring the pool again."""
    n = len(scored.pool)
    if n == 0:
        return []
    if allowed is not None:
        scored = replace(scored, penalty=np.where(allowed, scored.penalty, np.inf))
    rel = scored.relevance(profile)
    P = scored.affinity.shape[1]
    if mode == Mode.ALL and P:
        return _one_per_persona(scored, rel, profile, per=per_persona(k, P))
    if mode == Mode.PERSONA and persona is not None:
        aff = _z(scored.affinity[:, persona])
        r = rel + profile.weight("persona") * (2.0 * aff - scored.Z[:, 0])
        mine = scored.assign == persona
        order = [int(i) for i in np.argsort(-(r + 10.0 * mine), kind="stable") if np.isfinite(r[i])][:k]
        return [Pick(i, persona, float(r[i]), "blend") for i in order]
    if mode == Mode.BRIDGE and bridge is not None:
        a, b = bridge
        # cosine to the nearer of the two personas: a show both sides would watch beats a great show of one
        both = np.minimum(scored.affinity[:, a], scored.affinity[:, b])
        r = 5.0 * both + 0.3 * _z(rel, clip=np.inf) - np.where(np.isfinite(rel), 0.0, np.inf)
        order = [int(i) for i in np.argsort(-r, kind="stable") if np.isfinite(r[i])][:k]
        return [Pick(i, a if scored.affinity[i, a] >= scored.affinity[i, b] else b, float(r[i]), "blend")
                for i in order]
    if mode == Mode.LIKE:
        order = [int(i) for i in np.argsort(-rel, kind="stable") if np.isfinite(rel[i])][:k]
        return [Pick(i, int(scored.assign[i]), float(rel[i]), "blend") for i in order]
    return _across(scored, rel, k, profile, mode, adaptation, target_for(scored, genres or {}))


def per_persona(k: int, personas: int) -> int:
    """Mode ``all``: one pick per persona, or ``k // personas`` each when more are asked (``all k:20``)."""
    return max(1, k // max(1, personas))


def _one_per_persona(scored: Scored, rel: F, profile: Profile, per: int = 1) -> list[Pick]:
    """``per`` picks for each persona, in rounds (every persona's best first, then every persona's second…)."""
    used: set[int] = set()
    ranked: list[list[Pick]] = []
    for j in range(scored.affinity.shape[1]):
        r = rel + profile.weight("persona") * _z(scored.affinity[:, j])
        mine: list[Pick] = []
        for i in np.argsort(-r, kind="stable"):
            if int(i) not in used and scored.assign[i] == j and np.isfinite(r[i]):
                used.add(int(i))
                mine.append(Pick(int(i), j, float(r[i]), "blend"))
                if len(mine) >= per:
                    break
        ranked.append(mine)
    return [picks[n] for n in range(per) for picks in ranked if n < len(picks)]


def _across(scored: Scored, rel: F, k: int, profile: Profile, mode: Mode, adaptation: Adaptation | None,
            genre_target: F | None) -> list[Pick]:
    """Greedy: each slot takes the best candidate of the strategy drawn for it, minus a quota penalty (persona
    slots follow the persona weights) and, with ``profile.calibration``, the genre calibration term (Steck)."""
    n = len(scored.pool)
    P = scored.affinity.shape[1]
    mixing = adaptation is not None and adaptation.draw_strategy is not None and mode in (Mode.AUTO, Mode.MOOD)
    ranks = {name: scored.relevance(profile, name) for name in ("blend", "taste", "crowd")} if mixing else {
        "blend": rel}
    q = quotas(scored.weights, k) if P else np.zeros(0, dtype=np.int64)
    count = np.zeros(max(P, 1), dtype=np.int64)
    assign = scored.assign
    chosen: list[Pick] = []
    taken = np.zeros(n, dtype=bool)
    G = scored.genres
    target = genre_target
    lam = profile.calibration if (G is not None and target is not None) else 0.0
    acc = np.zeros(G.shape[1]) if G is not None else None
    pool_n = min(n, max(300, 20 * k))
    # every persona holding at least MAJOR of the weight gets a slot: once the open slots only just cover the
    # personas still without a pick, each slot goes to one of them
    major = [j for j in np.argsort(-scored.shares, kind="stable") if scored.shares[j] >= MAJOR
             and (assign == j).any()] if P and mode == Mode.AUTO else []
    for slot in range(min(k, n)):
        name = adaptation.draw_strategy() if mixing and adaptation is not None and adaptation.draw_strategy else "blend"
        r = ranks.get(name, rel)
        missing = [j for j in major if count[j] == 0]
        open_r = np.where(taken, -np.inf, r)
        if missing and len(missing) >= min(k, n) - slot:
            open_r = np.where(np.isin(assign, missing), open_r, -np.inf)
        cand = np.argpartition(-open_r, min(pool_n, n - 1))[:pool_n]
        cand = cand[np.isfinite(open_r[cand])]
        if not len(cand):
            break
        val = r[cand].copy()
        if P and mode == Mode.AUTO:          # a mood or a filter narrows the list: no persona owns slots there
            a = assign[cand]
            over = (a >= 0) & (count[np.maximum(a, 0)] >= q[np.maximum(a, 0)])
            val -= profile.quota * 3.0 * over + profile.diversity * count[np.maximum(a, 0)] * (a >= 0)
        if lam and target is not None and G is not None and acc is not None:
            rn = (val - val.min()) / (np.ptp(val) or 1.0)
            qd = (acc[None, :] + G[cand]) / (slot + 1)
            qt = 0.99 * qd + 0.01 * target[None, :]
            m = target > 0
            kl = (target[m][None, :] * np.log(target[m][None, :] / np.maximum(qt[:, m], 1e-12))).sum(axis=1)
            val = (1 - lam) * rn - lam * kl
        best = int(cand[int(np.argmax(val))])
        taken[best] = True
        if P and assign[best] >= 0:
            count[assign[best]] += 1
        if acc is not None and G is not None:
            acc += G[best]
        chosen.append(Pick(best, int(assign[best]), float(r[best]), name))
    return chosen


def genre_distribution(metas: Sequence[ShowMeta], weights: Sequence[float] | None = None) -> dict[str, float]:
    """The share of each genre in a set of shows (a show's weight split over its genres)."""
    ws = list(weights) if weights is not None else [1.0] * len(metas)
    out: dict[str, float] = {}
    for m, w in zip(metas, ws, strict=True):
        gs = genres_of(m)
        for g in gs:
            out[g] = out.get(g, 0.0) + w / len(gs)
    total = sum(out.values())
    return {g: v / total for g, v in out.items()} if total > 0 else {}


def target_for(scored: Scored, person_genres: Mapping[str, float]) -> F | None:
    """The person's genre distribution over the candidates' genre columns."""
    if scored.genres is None or not person_genres:
        return None
    v = np.array([person_genres.get(g, 0.0) for g in scored.genre_names])
    return v / v.sum() if v.sum() > 0 else None


# -- 5. explanation (templates) --------------------------------------------------------------------------------
def closest_members(scored: Scored, i: int, persona: PersonaVec, rows_of: RowSource, n: int,
                    exclude: set[int]) -> list[int]:
    members = [m for m in persona.members[:REPRESENTATIVES] if m not in exclude]
    if not members:
        return []
    sims = (dense(rows_of(members)) @ dense(scored.rows[i]).ravel()).astype(float)
    return [members[j] for j in np.argsort(-sims, kind="stable")[:n] if sims[j] > 0]


def explain(scored: Scored, picks: Sequence[Pick], person: PersonView, rows_of: RowSource,
            title_of: Callable[[int], str], *, mode: Mode, bridge: tuple[int, int] | None = None,
            like: ShowMeta | None = None, group: Sequence[tuple[str, Sequence[int]]] = ()) -> list[str]:
    """One reason per pick, in words a fan would use: the persona's own shows it is closest to (never the pick
    itself), the show asked for, or, for a group, whose side of the taste it suits."""
    out = []
    for p in picks:
        sid = scored.pool.ids[p.index]
        meta = scored.pool.metas[p.index]
        reason = ""
        if mode == Mode.BRIDGE and bridge is not None:
            a, b = (person.personas[bridge[0]], person.personas[bridge[1]])
            ta = closest_members(scored, p.index, a, rows_of, 1, {sid})
            tb = closest_members(scored, p.index, b, rows_of, 1, {sid})
            if ta and tb:
                reason = (f"Bridges your {a.name.lower()} and {b.name.lower()} sides: for the fan of "
                          f"{title_of(ta[0])} and of {title_of(tb[0])}.")
        elif mode == Mode.LIKE and like is not None:
            reason = f"Like {like.display_title}: {shared_traits(meta, like)}."
        elif mode == Mode.GROUP and group:
            who = []
            for name, cols in group:
                best = max(cols, key=lambda j: scored.affinity[p.index, j])
                who.append(f"{name}'s {person.personas[best].name.lower()} side")
            reason = "Nobody has seen it; it suits " + (", ".join(who[:-1]) + f" and {who[-1]}"
                                                         if len(who) > 1 else who[0]) + "."
        elif 0 <= p.persona < len(person.personas):
            persona = person.personas[p.persona]
            titles = [title_of(m) for m in closest_members(scored, p.index, persona, rows_of, 2, {sid})]
            if titles:
                reason = f"Because you watched {' and '.join(titles)} — your {persona.name.lower()} side."
            if crowd_backs(person, persona.id, sid):
                reason += (" People on Trakt who share that side rate it highly." if reason else
                           f"People on Trakt who share your {persona.name.lower()} side rate it highly.")
        if not reason:
            src = scored.pool.sources[p.index]
            reason = ("What people are watching now." if {"trending", "popular", "popular_here"} & set(src)
                      else "Rated highly by Trakt members whose ratings overlap yours." if "crowd" in src
                      else "Popular with people whose viewing overlaps yours.")
        label = scored.lifecycle_label[p.index]
        if label:
            reason += f" {label[0].upper()}{label[1:]}."
        out.append(reason)
    return out


def crowd_backs(person: PersonView, persona_id: int, sid: int) -> bool:
    """At least two of the Trakt members closest to this persona rate the show highly."""
    return person.crowd is not None and sid in person.crowd.support.get(persona_id, {})


def _words(xs: Sequence[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    return xs[0] if len(xs) == 1 else ", ".join(xs[:-1]) + f" and {xs[-1]}"


def shared_traits(meta: ShowMeta, like: ShowMeta) -> str:
    """What a show has in common with the one asked for, in words."""
    parts = []
    genres = [g for g in genres_of(meta) if g in set(genres_of(like))]
    if genres:
        parts.append("also " + _words([g.replace("-", " ") for g in genres[:3]]))
    kws = [k for k in meta.keywords if k.lower() in {x.lower() for x in like.keywords}]
    if kws:
        parts.append("with " + _words(kws[:3]))
    nets = [x for x in meta.networks if x in like.networks]
    if nets:
        parts.append(f"from {nets[0]}")
    tones = [t for t in (meta.tone or ()) if t in set(like.tone or ())]
    if tones:
        parts.append(" and ".join(tones[:2]))
    return ", ".join(parts) if parts else "close to it in tone and style"


# -- cold start -------------------------------------------------------------------------------------------------
def cold_start(catalogue: CatalogueIndex, population: Population, seen: set[int],
               ok: Callable[[ShowMeta], bool] | None, now: datetime, k: int, half_life_days: float,
               ) -> list[tuple[int, str, str, str | None]]:
    """For a person with no history: well-rated shows people watch now, airing ones first, at most two per main
    genre. Returns (catalogue position, reason, source, lifecycle words) in order."""
    n = len(catalogue.ids)
    if n == 0:
        return []
    sig = catalogue.signals
    rating = np.where(np.isnan(sig[:, 2]), np.nan, sig[:, 2])
    rated = ~np.isnan(rating)
    trust = population.confidence if not population.empty else 0.0
    here = population.popular_at(now.timestamp(), half_life_days * 86400, list(catalogue.ids)) if trust \
        else np.zeros(n)
    life = [lifecycle(m, now) for m in catalogue.metas]
    score = _z(sig[:, 0]) + _z(np.where(rated, rating, np.nanmean(rating) if rated.any() else 0.0)) \
        + trust * _z(here) + np.array([v for v, _ in life])
    order = np.argsort(-score, kind="stable")
    per_genre: Counter[str] = Counter()
    out: list[tuple[int, str, str, str | None]] = []
    for i in order:
        sid, m = int(catalogue.ids[i]), catalogue.metas[i]
        if sid in seen or not rated[i] or (ok is not None and not ok(m)):
            continue
        main = m.genres[0] if m.genres else ""
        if per_genre[main] >= 2:
            continue
        per_genre[main] += 1
        words = life[i][1]
        score_words = f"rated {m.vote_average:.1f}/10" if m.vote_average is not None else "well rated"
        if words:
            reason, source = f"{words[0].upper()}{words[1:]}, and {score_words}.", "airing"
        elif trust and here[i] > 0:
            reason, source = f"Popular with people here right now, and {score_words}.", "popular_here"
        else:
            reason, source = f"Widely watched right now, and {score_words}.", "popular"
        out.append((int(i), reason, source, words))
        if len(out) >= k:
            break
    return out
