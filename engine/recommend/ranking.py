"""What a request hands its worker (``Job``) and what the worker does with it: sources, exclusion, every scorer,
the mode's selector and template reasons (``rank``) — in a worker thread, on plain values."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from engine.recommend.candidates import Candidate
from engine.recommend.deployment import Deployment
from engine.recommend.mood import SHORT_MINUTES, Mood
from engine.recommend.pipeline import (
    REPRESENTATIVES,
    Adaptation,
    PersonView,
    Pick,
    Pool,
    Scored,
    explain,
    index_sources,
    like_sources,
    score,
    select,
)
from engine.recommend.weights import SIGNALS, Profile
from engine.values.filters import passes
from engine.values.meta import ShowMeta
from engine.values.models import Filters, Mode, Persona, RecommendRequest

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


@dataclass
class Job:
    """Everything one request hands to the worker: plain values only."""
    req: RecommendRequest
    dep: Deployment
    person: PersonView
    mode: Mode
    persona: int | None = None
    bridge: tuple[int, int] | None = None
    like: tuple[int | None, ShowMeta] | None = None
    ok: Callable[[ShowMeta], bool] | None = None
    filters: Filters = field(default_factory=Filters)
    mood: Mood | None = None
    live: list[Candidate] = field(default_factory=list)
    watchlist: list[tuple[int, ShowMeta | None]] = field(default_factory=list)
    adaptation: Adaptation | None = None
    titles: dict[int, str] = field(default_factory=dict)
    now: datetime | None = None
    group: list[tuple[str, list[int]]] = field(default_factory=list)   # (member name, their persona indexes)
    group_weights: list[float] = field(default_factory=list)    # the ledger: >1 for whoever was served worst last
    served: list[Persona] = field(default_factory=list)    # the personas behind ``person.personas``, in that order
    sims: NDArray[np.float32] | None = None     # the index's cosine to each persona (kept with the personas)
    only: frozenset[int] | None = None          # ``recommend library``: the shows the person's server has


@dataclass
class Ranked:
    scored: Scored
    picks: list[Pick]
    reasons: list[str]
    shortlist: list[int]                       # pool indexes, best first (the LLM's choice)


def scored_job(job: Job, profile: Profile, *, genre_columns: bool | None = None
               ) -> tuple[Scored, PersonView, dict[int, ShowMeta]]:
    """Sources, exclusion and every scorer for one request (in a worker thread): the candidates as ``select``
    sees them, the person as scored (a ``like:`` show counts as seen) and the candidates' metadata."""
    dep, person = job.dep, job.person
    now = job.now or datetime.now().astimezone()
    now_ts = now.timestamp()
    pool = Pool()
    for c in job.live:
        assert c.show_id is not None
        for src, r in c.sources.items():
            pool.add(c.show_id, c.meta, src, r)
    for r, (sid, meta) in enumerate(job.watchlist):
        pool.add(sid, meta, "watchlist", r)
    allowed = None
    if job.ok is not None:
        mood = job.mood
        allowed = dep.catalogue.matching(job.filters, mood.genres if mood else (),
                                         SHORT_MINUTES if mood is not None and mood.short else None)
    if job.only is not None:
        only = job.only
        there = np.fromiter((sid in only for sid in dep.catalogue.ids), dtype=bool, count=len(dep.catalogue.ids))
        allowed = there if allowed is None else allowed & there
    like_row = None
    if job.like is not None:
        lid, lmeta = job.like
        like_row = dep.rows([lid]) if lid is not None and lid in dep.catalogue.pos else dep.row_of(lmeta)
        like_sources(pool, person, dep.catalogue, dep.population, like_row, lid, allowed=allowed)
    # what continues the person's shows: proposed by the sources and scored, computed once for both
    continued = dep.catalogue.continuations(person.recency(profile.history_decay))
    index_sources(pool, person, dep.catalogue, dep.population, profile, now_ts, allowed=allowed, bridge=job.bridge,
                  sims=job.sims, continued=continued)
    if job.like is not None and job.like[0] is not None:
        person = replace(person, seen=person.seen | {job.like[0]})
    metas = dict(zip(pool.ids, pool.metas, strict=True))
    pool = pool.keep(lambda sid, m: sid not in person.seen and not m.empty and (job.ok is None or job.ok(m))
                     and (job.only is None or sid in job.only))
    if job.like is not None:
        target, before = job.like[1], pool
        pool = pool.keep(lambda sid, m: related(m, target, before.sources[before.index(sid)]))
    if job.mode == Mode.CROWD:                  # only what the person's crowd proposes
        backed = {sid for sid, src in zip(pool.ids, pool.sources, strict=True) if "crowd" in src}
        pool = pool.keep(lambda sid, m: sid in backed)
    scored = score(pool, person, lambda ids: dep.rows(ids, metas), dep.population, profile, now=now, now_ts=now_ts,
                   adaptation=job.adaptation, like=like_row, focus=job.mood.genres if job.mood else (),
                   catalogue=dep.catalogue, genre_columns=genre_columns, continued=continued)
    if job.mood is not None and job.mood.genres:
        scored = replace(scored, weights=mood_weights(scored.weights, person, dep, job.mood))
    return scored, person, metas


def rank(job: Job, profile: Profile) -> Ranked:
    """Sources, exclusion, scorers, the mode's selector and template reasons (in a worker thread)."""
    dep = job.dep
    scored, person, metas = scored_job(job, profile)
    if job.mode == Mode.GROUP:
        picks = group_picks(scored, job, profile)
    else:
        picks = select(scored, Mode.AUTO if job.mode == Mode.CROWD else job.mode, job.req.k, profile,
                       persona=job.persona, bridge=job.bridge,
                       adaptation=job.adaptation, genres=person.genres)
        if job.mood is not None and job.mood.genres:    # the side that holds such shows speaks first
            picks.sort(key=lambda p: -float(scored.weights[p.persona]) if p.persona >= 0 else 0.0)
    reasons = explain(scored, picks, person, lambda ids: dep.rows(ids, metas), lambda s: job.titles.get(s, "?"),
                      mode=job.mode, bridge=job.bridge, like=job.like[1] if job.like else None,
                      group=job.group)
    rel = scored.relevance(profile)
    shortlist = [int(i) for i in np.argsort(-rel, kind="stable")[:60] if np.isfinite(rel[i])]
    return Ranked(scored, picks, reasons, shortlist)


def mood_weights(weights: NDArray[np.float64], person: PersonView, dep: Deployment, mood: Mood) -> NDArray[np.float64]:
    """A mood's list leans on the personas that already hold such shows: "something funny" is served mostly by a
    comedies side, not by whichever side is largest. Each persona's weight is scaled by the share of its
    representatives in the mood's genres (a floor keeps the others in reach)."""
    cat = dep.catalogue
    wanted = set(mood.genres)
    fit = np.zeros(len(person.personas))
    for j, p in enumerate(person.personas):
        ms = [cat.metas[n] for m in p.members[:REPRESENTATIVES] if (n := cat.pos.get(m)) is not None]
        fit[j] = sum(bool(wanted & set(m.genres)) for m in ms) / len(ms) if ms else 0.0
    if len(fit) != len(weights) or not fit.any():
        return weights
    w = weights * (0.1 + fit)
    return np.asarray(w / w.sum() * weights.sum(), dtype=np.float64)


def related(m: ShowMeta, like: ShowMeta, sources: Mapping[str, int]) -> bool:
    """A ``like:`` pick is related to the show asked for: a list relates them, or they share a genre other than
    the catch-all drama, or a keyword."""
    if {"like", "trakt_related", "tmdb_recommendations", "tmdb_similar"} & set(sources) and (
            set(m.genres) & set(like.genres)):
        return True
    specific = (set(m.genres) & set(like.genres)) - {"drama"}
    return bool(specific) or bool({k.lower() for k in m.keywords} & {k.lower() for k in like.keywords})


def group_picks(scored: Scored, job: Job, profile: Profile) -> list[Pick]:
    """Least misery: each member's fit is their best persona's affinity; the pick maximises the worst fit, then
    the mean, then everything else the profile weighs."""
    if not len(scored.pool) or not job.group:
        return []
    A = scored.affinity
    fits = np.stack([A[:, cols].max(axis=1) for _, cols in job.group], axis=1)
    w = np.array([0.0 if s in ("persona", "tone") else profile.weight(s) for s in SIGNALS])
    rel = scored.Z @ w
    rel = (rel - rel.mean()) / (rel.std() or 1.0)
    ledger = np.array(job.group_weights if len(job.group_weights) == len(job.group) else [1.0] * len(job.group))
    # whoever the last group night served worst weighs more tonight: in the mean, and in a bonus for their fit
    # (all weights 1: the plain least misery)
    weighted = fits @ ledger / ledger.sum()
    total = 3.0 * fits.min(axis=1) + 0.5 * weighted + 1.0 * fits @ (ledger - 1.0) + 0.3 * rel - scored.penalty
    order = [int(i) for i in np.argsort(-total, kind="stable") if np.isfinite(total[i])][: job.req.k]
    return [Pick(i, int(scored.assign[i]), float(total[i]), "group") for i in order]


def fits(filters: Filters, mood: Mood | None) -> Callable[[ShowMeta], bool] | None:
    if mood is None and filters == Filters():
        return None

    def ok(m: ShowMeta) -> bool:
        return passes(m, filters) and (mood is None or mood.fits(m))
    return ok
