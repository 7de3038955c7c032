"""The live recommender: personas -> candidates -> exclusion -> scoring per mode -> diversity -> explanation.

Scores combine persona affinity (cosine of a show's features to a persona's centroid, in one feature space built
over the person's shows and the candidates), collaborative evidence (how many sources and co-watchers proposed
it), quality (Bayesian-averaged rating), lifecycle (airing now, new season, freshly trending) and context (the
personas usually watched at this hour and weekday count more). Modes pick from the same scores.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from .. import adapt
from ..adapt import ArmState, ArmStats
from ..catalogue import Catalogue, norm_title
from ..clock import Clock
from ..errors import MultitudesError
from ..feedback import FeedbackService
from ..filters import passes
from ..llm import LLM
from ..meta import EMPTY, ShowMeta
from ..models import (
    FeedbackKind,
    Filters,
    Mode,
    Persona,
    PersonaReport,
    Recommendation,
    RecommendationList,
    RecommendRequest,
    ShowIds,
)
from ..store import Store
from ..store.records import NewEvent
from ..taste.features import FeatureSpace, build_features
from ..taste.history import PersonHistory
from ..taste.service import PersonaService, load_history
from ..taste.temporal import local
from .candidates import Candidate, CandidateSources
from .explain import ShortItem, pick_and_explain
from .rerank import PersonaVectors, ensure_coverage, persona_vectors

log = logging.getLogger(__name__)

MOODS: dict[str, tuple[str, ...]] = {
    "funny": ("comedy",), "laugh": ("comedy",), "light": ("comedy", "family"), "cozy": ("comedy", "family"),
    "comfort": ("comedy", "family"), "silly": ("comedy",), "dark": ("crime", "thriller"), "gritty": ("crime",),
    "crime": ("crime",), "murder": ("crime", "mystery"), "detective": ("crime", "mystery"),
    "scary": ("horror",), "creepy": ("horror", "mystery"), "spooky": ("horror",), "tense": ("thriller",),
    "thrilling": ("thriller",), "mind": ("science-fiction", "mystery"), "smart": ("science-fiction", "documentary"),
    "cerebral": ("science-fiction", "mystery"), "space": ("science-fiction",), "future": ("science-fiction",),
    "epic": ("fantasy", "adventure"), "magic": ("fantasy",), "dragons": ("fantasy",), "learn": ("documentary",),
    "true": ("documentary",), "real": ("documentary", "reality"), "nature": ("documentary",),
    "romantic": ("romance",), "love": ("romance",), "action": ("action",), "adventure": ("adventure",),
    "anime": ("animation",), "cartoon": ("animation",), "kids": ("children", "family"), "family": ("family",),
    "history": ("history",), "war": ("war",), "western": ("western",), "sad": ("drama",), "cry": ("drama",),
    "drama": ("drama",), "mystery": ("mystery",),
}
SHORT_WORDS = {"short", "quick", "bite-sized", "lunch"}
REPRESENTATIVES = 40


@dataclass
class Scored:
    cand: Candidate
    aff: np.ndarray          # per persona
    base: float              # everything but persona affinity
    lifecycle: str | None


def bayes(meta: ShowMeta, prior: float = 7.0, m: float = 300.0) -> float:
    va, vc = meta.vote_average, meta.vote_count or 0
    if va is None or not vc:
        return prior
    return float((va * vc + prior * m) / (vc + m))


def lifecycle(meta: ShowMeta, now: datetime) -> tuple[float, str | None]:
    nxt = meta.next_episode.at if meta.next_episode else None
    last = meta.last_air_date and datetime.fromisoformat(meta.last_air_date[:10]).replace(tzinfo=now.tzinfo)
    if nxt and now <= nxt <= now + timedelta(days=30):
        ep = meta.next_episode
        if ep is not None and ep.episode == 1:
            return 1.0, f"season {ep.season} starts {nxt:%b %d}"
        return 0.8, "new episodes airing now"
    if last and now - last <= timedelta(days=120) and meta.airing:
        return 0.6, "a new season just aired"
    if meta.ended and (meta.number_of_seasons or 0) >= 1:
        return 0.2, f"complete in {meta.number_of_seasons} season(s): binge-ready"
    return 0.0, None


@dataclass
class Adaptation:
    sources: dict[str, float]       # one Thompson draw per candidate source
    personas: dict[int, float]      # one per persona id
    ignored: dict[int, int]         # show id -> times shown and ignored
    strategies: dict[str, tuple[float, float]] = field(default_factory=dict)   # Beta posterior per strategy


class Recommender:
    def __init__(self, store: Store, clock: Clock, personas: PersonaService, sources: CandidateSources,
                 catalogue: Catalogue, enrich: Callable[[Sequence[int]], Awaitable[int]], llm: LLM | None,
                 feedback: FeedbackService, *,
                 max_watched_episodes: int = 1, recent_days: int = 14, adaptive: bool = True,
                 seed: int | None = None) -> None:
        self.store = store
        self.clock = clock
        self.personas = personas
        self.sources = sources
        self.catalogue = catalogue
        self.enrich = enrich          # async (person_id or None) -> int: fills missing show metadata
        self.llm = llm
        self.feedback = feedback
        self.max_watched_episodes = max_watched_episodes
        self.recent_days = recent_days
        self.adaptive = adaptive          # Thompson sampling over candidate sources (off: the static engine)
        self._rng = np.random.default_rng(seed)
        self._global_arms: tuple[datetime, dict[str, dict[str, ArmStats]]] | None = None

    async def excluded(self, person_id: int) -> set[int]:
        """Internal show ids never to recommend: watched beyond the threshold, rated, hidden or dropped,
        dismissed, or recommended within ``recent_days``."""
        since = self.clock.now() - timedelta(days=self.recent_days)
        async with self.store.read() as uow:
            return await uow.events.excluded(person_id, self.max_watched_episodes, since)

    async def recommend(self, req: RecommendRequest) -> RecommendationList:
        if not 1 <= req.k <= 20:
            raise MultitudesError(f"k={req.k}", user_message="Ask for between 1 and 20 recommendations.")
        report = await self.personas.personas(req.person_id)
        if not report.personas:
            raise MultitudesError("no personas", user_message="I need some history first: run /sync or /import.")
        async with self.store.read() as uow:
            history, metas = await load_history(uow, req.person_id)
            linked = await uow.tokens.exists(req.person_id)
            person = await uow.people.get(req.person_id)
        note = ""
        personas = list(report.personas)
        filters = req.filters
        if req.apply_defaults and person is not None:
            filters = filters.over(person.settings.default_filters)
        like_meta: ShowMeta | None = None
        if req.mode == Mode.PERSONA:
            chosen = self._find_persona(personas, req.persona)
            personas = [chosen]
        elif req.mode == Mode.BRIDGE:
            a, b = req.bridge or (None, None)
            pa = self._find_persona(personas, a) if a else personas[0]
            pb = self._find_persona(personas, b) if b else next((p for p in personas if p.id != pa.id), pa)
            if pa.id == pb.id:
                raise MultitudesError("one persona", user_message="A bridge needs two different personas.")
            personas = [pa, pb]
        elif req.mode == Mode.LIKE:
            like_meta = self._find_show(req.like or "", metas)
        elif req.mode == Mode.MOOD:
            filters, note = self._mood(req.mood or "", filters)
        seeds = await self._seeds(req.person_id, personas, like_meta)
        pool = await self.sources.gather(req.person_id, PersonaReport(report.person_id, tuple(personas),
                                                                      report.periods, report.computed_at),
                                         seeds, linked, like_meta)
        cands = await self._materialise(req.person_id, list(pool.items.values()))
        excluded = await self.excluded(req.person_id)
        cands = [c for c in cands if c.show_id not in excluded and not c.meta.empty and passes(c.meta, filters)]
        if not cands:
            return RecommendationList(uuid.uuid4().hex[:12], req.mode, (), note=(note + " " if note else "")
                                      + "Nothing new matches that right now; try fewer filters.")
        penalties = await self._dismissed_metas(req.person_id)
        adaptation = await self._adaptation(req.person_id, personas) if self.adaptive else None
        scored, space, pv = self._score(cands, report, personas, metas, history, req, like_meta, penalties,
                                        adaptation)
        picks = self._select(scored, pv, personas, req, adaptation)
        items = self._explain(picks, pv, personas, space, metas, bridge=req.mode == Mode.BRIDGE)
        llm_calls = llm_tokens = 0
        llm_used = False
        if self.llm is not None and req.use_llm and items:
            calls_before = self.llm.stats.calls

            def explain_one(s: Scored) -> Recommendation:
                j = int(np.argmax(s.aff)) if len(s.aff) else None
                return self._explain([(s, j, 0.0, "llm")], pv, personas, space, metas)[0]

            items, llm_used, llm_tokens = await self._llm(items, scored, pv, personas, req, explain_one)
            llm_calls = self.llm.stats.calls - calls_before
        request_id = uuid.uuid4().hex[:12]
        items = await self._record(req, request_id, items, llm_used)
        if len(items) < req.k:
            note = (note + " " if note else "") + f"Only {len(items)} new shows fit; the rest would repeat."
        return RecommendationList(request_id, req.mode, tuple(items), note=note.strip(), llm_used=llm_used,
                                  llm_calls=llm_calls, prompt_tokens=llm_tokens)

    async def group_for(self, person_ids: Sequence[int], k: int = 3, *,
                        platform: str | None = None) -> RecommendationList:
        """Least misery over everyone's personas; only people who opted in to group picks take part."""
        ids = list(dict.fromkeys(person_ids))
        if len(ids) < 2:
            raise MultitudesError("group of one", user_message="A group watch needs at least two people.")
        async with self.store.read() as uow:
            people = {p.id: p for p in await uow.people.many(ids)}
        refused = [p for p in ids if p not in people or not people[p].settings.group_opt_in]
        if refused:
            names = [(people[p].display_name if p in people else None) or f"person {p}" for p in refused]
            raise MultitudesError(
                f"not opted in: {refused}",
                user_message=f"Not everyone opted in to group picks: {', '.join(names)}. They can turn it on with "
                             "/settings group:on — until then their history stays private.")
        return await self.group(ids, k, platform=platform)

    async def reroll_group(self, request_id: str, person_id: int, k: int = 3, *,
                           platform: str | None = None) -> RecommendationList:
        async with self.store.read() as uow:
            events = await uow.events.of_request(request_id)
        members = list(dict.fromkeys(e.person_id for e in events if e.mode == Mode.GROUP))
        if person_id not in members:
            raise MultitudesError("not a member", user_message="Only people in that group watch can re-roll it.")
        return await self.group_for(members, k, platform=platform)

    async def group(self, person_ids: Sequence[int], k: int, *, platform: str | None = None) -> RecommendationList:
        """Least-misery group picks: never a show any member has seen, rated, dropped or dismissed."""
        reports = [await self.personas.personas(p) for p in person_ids]
        if any(not r.personas for r in reports):
            raise MultitudesError("member without history",
                                  user_message="Everyone in the group needs some history first (/sync or /import).")
        async with self.store.read() as uow:
            people = {p.id: p for p in await uow.people.many(person_ids)}
        names = {p: (people[p].display_name if p in people and people[p].display_name else f"person {p}")
                 for p in person_ids}
        all_personas = [pp for r in reports for pp in r.personas]
        combined = PersonaReport(person_ids[0], tuple(all_personas), (), self.clock.now())
        seeds = await self._seeds(person_ids[0], all_personas, None)
        pool = await self.sources.gather(person_ids[0], combined, seeds, False)
        cands = await self._materialise(person_ids[0], list(pool.items.values()))
        excluded: set[int] = set()
        metas: dict[int, ShowMeta] = {}
        for p in person_ids:
            excluded |= await self.excluded(p)
            async with self.store.read() as uow:
                excluded |= await uow.history.played_shows(p)      # a group pick nobody has started
                _, person_metas = await load_history(uow, p)
            metas.update(person_metas)
        cands = [c for c in cands if c.show_id not in excluded and not c.meta.empty]
        if not cands:
            return RecommendationList(uuid.uuid4().hex[:12], Mode.GROUP, (),
                                      note="Nothing new fits everyone right now.")
        reps = {m for pp in all_personas for m in pp.member_ids[:REPRESENTATIVES]}
        space_metas: dict[int, ShowMeta] = {m: metas[m] for m in reps if m in metas}
        for c in cands:
            assert c.show_id is not None
            space_metas[c.show_id] = c.meta
        space = build_features(space_metas)
        rows = space.rows([c.show_id for c in cands if c.show_id is not None])
        per_member = []
        for r in reports:
            major = [pp for pp in r.personas if pp.weight >= 0.1] or list(r.personas)
            pv = persona_vectors([pp.member_ids[:REPRESENTATIVES] for pp in major],
                                 [[1.0] * len(pp.member_ids[:REPRESENTATIVES]) for pp in major],
                                 [pp.weight for pp in major], space.index, space.matrix)
            aff = pv.affinity(rows)
            per_member.append((major, aff))
        fits = np.stack([a.max(axis=1) for _, a in per_member], axis=1)          # (candidates, members)
        base = np.array([0.25 * (bayes(c.meta) - 7.0) / 1.5 + 0.1 * math.log1p(len(c.sources)) for c in cands])
        score = fits.min(axis=1) + 0.1 * fits.mean(axis=1) + 0.2 * base           # least misery, then the rest
        order = np.argsort(-score, kind="stable")[:k]
        request_id = uuid.uuid4().hex[:12]
        items: list[Recommendation] = []
        for rank, i in enumerate(order, start=1):
            c = cands[int(i)]
            assert c.show_id is not None
            who = []
            for (major, aff), p in zip(per_member, person_ids, strict=True):
                best = major[int(np.argmax(aff[int(i)]))]
                who.append(f"{names[p]}'s {best.name.lower()} side")
            m = c.meta
            items.append(Recommendation(
                show_id=c.show_id, title=m.title or c.ref.title, year=m.first_year or c.ref.year, persona_id=None,
                persona_name=None, reason="Nobody has seen it; it suits " + ", ".join(who[:-1]) + f" and {who[-1]}.",
                score=round(float(score[int(i)]), 4), sources=tuple(sorted(c.sources)), rank=rank,
                overview=m.overview[:400], genres=m.genres, providers=m.providers, status=m.status,
                tmdb_url=f"https://www.themoviedb.org/tv/{c.ref.ids.tmdb}" if c.ref.ids.tmdb else None))
        first = RecommendRequest(person_ids[0], mode=Mode.GROUP, k=k, platform=platform)
        recorded = await self._record(first, request_id, items, False)
        for p in person_ids[1:]:   # every member gets the event: their feedback and adoption trace back to it
            await self._record(RecommendRequest(p, mode=Mode.GROUP, k=k, platform=platform), request_id, items,
                               False)
        return RecommendationList(request_id, Mode.GROUP, tuple(recorded))

    # -- pieces ------------------------------------------------------------------------------------------------
    @staticmethod
    def _find_persona(personas: Sequence[Persona], key: str | None) -> Persona:
        if key:
            k = key.strip().lower()
            for p in personas:
                if str(p.id) == k or p.name.lower() == k:
                    return p
            hits = [p for p in personas if k in p.name.lower()]
            if len(hits) == 1:
                return hits[0]
        names = ", ".join(p.name for p in personas)
        raise MultitudesError(f"persona {key!r}", user_message=f"I don't know the persona {key!r}. Yours: {names}.")

    def _find_show(self, title: str, metas: Mapping[int, ShowMeta]) -> ShowMeta:
        want = norm_title(title)
        for m in metas.values():
            if norm_title(m.title) == want:
                return m
        for hit in self.catalogue.search(title):
            found = self.catalogue.find(ShowIds(tmdb=hit.tmdb_id))
            if found is not None:
                return found.meta
        raise MultitudesError(f"like {title!r}", user_message=f"I don't know a show called {title!r}.")

    @staticmethod
    def _mood(text: str, f: Filters) -> tuple[Filters, str]:
        words = {w.strip(".,!?'\"").lower() for w in text.split()}
        genres: list[str] = []
        for w in words:
            for g in MOODS.get(w, ()):
                if g not in genres:
                    genres.append(g)
        max_rt = 35 if words & SHORT_WORDS else f.max_runtime
        if not genres and max_rt is None:
            return f, f"I could not read a genre into “{text}”, so here is your usual mix."
        new = Filters(tuple(genres) or f.genres_in, f.genres_out, f.anime, max_rt, f.min_runtime, f.language,
                      f.provider, f.status)
        return new, f"Read “{text}” as: {', '.join(genres) or 'any genre'}" + (
            f", episodes under {max_rt} min" if max_rt else "") + "."

    async def _seeds(self, person_id: int, personas: Sequence[Persona],
                     like: ShowMeta | None) -> list[dict[str, Any]]:
        ids: list[int] = []
        for p in personas:
            ids += [p.medoid.show_id, *[s.show_id for s in p.shows[:2]]]
        async with self.store.read() as uow:
            rows = await uow.shows.many(ids)
        out: list[dict[str, Any]] = [{"show_id": i, "trakt_id": rows[i].ids.trakt, "tmdb_id": rows[i].ids.tmdb}
                                     for i in ids if i in rows]
        if like:
            out.insert(0, {"show_id": None, "trakt_id": None, "tmdb_id": like.tmdb_id})
        return out

    async def _materialise(self, person_id: int, cands: list[Candidate]) -> list[Candidate]:
        """Give every candidate an internal show id and, where the list payload was thin, full metadata."""
        async with self.store.unit() as uow:
            ids = await uow.shows.upsert(c.ref for c in cands)
        for c in cands:
            for k in (("tmdb", c.ref.ids.tmdb), ("trakt", c.ref.ids.trakt), ("imdb", c.ref.ids.imdb)):
                if k in ids:
                    c.show_id = ids[k]
                    break
        thin = [c for c in cands if c.show_id is not None and (c.meta.empty or c.meta.partial)]
        if thin:
            thin.sort(key=lambda c: (-len(c.sources), min(c.sources.values())))
            await self.enrich([c.show_id for c in thin[:80] if c.show_id is not None])
            async with self.store.read() as uow:
                stored = await uow.shows.many(c.show_id for c in thin if c.show_id is not None)
            for c in thin:
                rec = stored.get(c.show_id) if c.show_id is not None else None
                if rec is not None and rec.has_meta and not rec.meta.empty:
                    c.meta = rec.meta
        for c in cands:
            fill: dict[str, Any] = {}
            if not c.meta.title:
                fill["title"] = c.ref.title
            if c.meta.year is None and c.ref.year is not None:
                fill["year"] = c.ref.year
            if fill:
                c.meta = c.meta.with_(**fill)
        # keep what the lists told us about shows we hold no metadata for (feedback on them needs it later)
        known = [(c.show_id, c.meta) for c in cands if c.show_id is not None and not c.meta.partial
                 and not c.meta.empty]
        if known:
            now = self.clock.now()
            async with self.store.unit() as uow:
                await uow.shows.save_missing_metas(known, now, now + timedelta(days=7))
        return [c for c in cands if c.show_id is not None]

    async def _dismissed_metas(self, person_id: int) -> dict[int, ShowMeta]:
        async with self.store.read() as uow:
            shows = await uow.shows.many(await uow.feedback.dismissed(person_id, FeedbackKind.NOT_FOR_ME))
        return {sid: r.meta for sid, r in shows.items() if r.has_meta and not r.meta.empty}

    async def arm_states(self, person_id: int, personas: Sequence[Persona] = (), *,
                         fresh: bool = False) -> list[ArmState]:
        """The bandit's posteriors for this person: one per candidate source, persona and ranking strategy. For
        requests, everyone's statistics (the prior) are recounted at most every ten minutes; ``fresh`` recounts."""
        now = self.clock.now()
        if fresh or self._global_arms is None or now - self._global_arms[0] > timedelta(minutes=10):
            self._global_arms = (now, await self.feedback.arm_stats(None))
        everyone = self._global_arms[1]
        overall = everyone["all"].get("all", ArmStats(0, 0))
        mine = await self.feedback.arm_stats(person_id)
        # a persona with no evidence yet starts from everyone's overall rate, worth PRIOR_WEIGHT picks
        priors = {"source": everyone["source"], "persona": {str(p.id): overall for p in personas},
                  "strategy": {k: v for k, v in everyone["strategy"].items() if k in adapt.STRATEGIES}}
        keep = {"source": None, "persona": set(priors["persona"]), "strategy": set(adapt.STRATEGIES)}
        out = []
        for kind, prior in priors.items():
            allowed = keep[kind]
            out += [ArmState(kind, arm, a, b, *_own(mine[kind], arm))
                    for arm, (a, b) in adapt.posteriors(mine[kind], prior).items() if allowed is None or arm in allowed]
        return out

    async def _adaptation(self, person_id: int, personas: Sequence[Persona]) -> Adaptation:
        states = await self.arm_states(person_id, personas)
        sources = adapt.draw({s.arm: (s.alpha, s.beta) for s in states if s.kind == "source"}, self._rng)
        by_persona = adapt.draw({s.arm: (s.alpha, s.beta) for s in states if s.kind == "persona"}, self._rng)
        before = self.clock.now() - timedelta(days=self.recent_days)
        return Adaptation(sources, {int(k): v for k, v in by_persona.items()},
                          await self.feedback.ignored(person_id, before),
                          {s.arm: (s.alpha, s.beta) for s in states if s.kind == "strategy"})

    def _score(self, cands: list[Candidate], report: PersonaReport, personas: Sequence[Persona],
               metas: Mapping[int, ShowMeta], history: PersonHistory, req: RecommendRequest,
               like: ShowMeta | None, penalties: Mapping[int, ShowMeta] | None = None,
               adaptation: Adaptation | None = None) -> tuple[list[Scored], FeatureSpace, PersonaVectors]:
        now = self.clock.now()
        # each persona is represented by its most central shows: bounded work however long the history
        reps = {m for p in personas for m in p.member_ids[:REPRESENTATIVES]}
        all_metas: dict[int, ShowMeta] = {m: metas[m] for m in reps if m in metas}
        for c in cands:
            assert c.show_id is not None
            all_metas[c.show_id] = c.meta
        if like:
            all_metas[-1] = like
        for sid, m in (penalties or {}).items():
            all_metas.setdefault(sid, m)
        space = build_features(all_metas)
        pv = persona_vectors([p.member_ids[:REPRESENTATIVES] for p in personas],
                             [[1.0] * len(p.member_ids[:REPRESENTATIVES]) for p in personas],
                             [p.weight for p in personas], space.index, space.matrix)
        weights = pv.weights.copy()
        if req.use_context and req.mode in (Mode.AUTO, Mode.MOOD) and len(weights) > 1:
            t = local(now, history.timezone)
            for j, p in enumerate(personas[: len(weights)]):
                hours = p.hours or (0.0,) * 24
                ctx = sum(hours[(t.hour + d) % 24] for d in (-1, 0, 1)) + (p.weekdays or (0.0,) * 7)[t.weekday()]
                weights[j] *= 1.0 + ctx
            weights /= weights.sum()
        if adaptation is not None and len(weights) > 1:       # personas whose picks get watched weigh more
            tilt = adapt.persona_multipliers([adaptation.personas.get(p.id, float("nan"))
                                              for p in personas[: len(weights)]])
            if np.isfinite(tilt).all():
                weights = weights * tilt
                weights /= weights.sum()
        pv = PersonaVectors(weights, pv.centroids)
        rows = space.rows([c.show_id for c in cands if c.show_id is not None])
        aff = pv.affinity(rows)
        like_sim = (rows @ space.rows([-1]).T).ravel() if like else None
        nope = [s for s in (penalties or {}) if s in space.index]
        # "not for me" also lowers its close neighbours
        nope_sim = (rows @ space.rows(nope).T).max(axis=1) if nope else np.zeros(len(cands))
        arms = adaptation.sources if adaptation is not None else {}
        arm_mean = float(np.mean(list(arms.values()))) if arms else 0.0
        out = []
        for i, c in enumerate(cands):
            q = (bayes(c.meta) - 7.0) / 1.5
            life, label = lifecycle(c.meta, now)
            src = len(c.sources)
            trend = 0.3 if any(s in c.sources for s in ("trending", "anticipated", "catalogue_airing")) else 0.0
            collab = 0.4 * math.log1p(src - 1) + (0.3 if "cowatch" in c.sources else 0.0) + (
                0.3 if "trakt_recommendations" in c.sources else 0.0)
            base = 0.25 * q + 0.25 * life + trend + collab + (0.15 if "watchlist" in c.sources else 0.0)
            base -= 1.5 * max(0.0, float(nope_sim[i]) - 0.6)
            if adaptation is not None:
                if arms:
                    base += adapt.source_bonus(c.sources, arms, arm_mean)
                base -= adapt.ignored_penalty(adaptation.ignored.get(c.show_id or 0, 0))
            if like_sim is not None:
                base += 2.0 * float(like_sim[i])
            out.append(Scored(c, aff[i], base, label))
        return out, space, pv

    def _select(self, scored: list[Scored], pv: PersonaVectors, personas: Sequence[Persona],
                req: RecommendRequest, adaptation: Adaptation | None = None
                ) -> list[tuple[Scored, int | None, float, str]]:
        """(candidate, persona index, score, strategy) in order."""
        k = req.k
        if not len(pv.weights):
            by_base = sorted(scored, key=lambda s: -s.base)
            return [(s, None, s.base, "blend") for s in by_base[:k]]
        A = np.array([s.aff for s in scored])
        base = np.array([s.base for s in scored])
        if req.mode == Mode.BRIDGE and A.shape[1] >= 2:
            both = np.minimum(A[:, 0], A[:, 1]) * 2 + 0.5 * (A[:, 0] + A[:, 1])
            rel = both * 2.0 + 0.5 * base
            order = np.argsort(-rel, kind="stable")[:k]
            return [(scored[i], int(np.argmax(A[i])), float(rel[i]), "blend") for i in order]
        if req.mode == Mode.ALL:
            picks: list[tuple[Scored, int | None, float, str]] = []
            used: set[int] = set()
            for j in range(A.shape[1]):
                rel = 2.0 * A[:, j] + 0.5 * base
                for i in np.argsort(-rel, kind="stable"):
                    if i not in used and int(np.argmax(A[i])) == j:
                        used.add(int(i))
                        picks.append((scored[i], j, float(rel[i]), "blend"))
                        break
            return picks
        if req.mode == Mode.PERSONA:
            rel = 2.0 * A[:, 0] + 0.5 * base
            order = np.argsort(-rel, kind="stable")[:k]
            return [(scored[i], 0, float(rel[i]), "blend") for i in order]
        # auto / mood / like: relevance to the weighted personas, then MMR diversity and persona coverage
        fit = np.maximum(A, 0) @ pv.weights
        ranks = {"blend": 2.0 * fit + 0.5 * base, "taste": 3.0 * fit + 0.2 * base, "crowd": 1.0 * fit + 1.0 * base}
        rel = ranks["blend"]
        if req.mode == Mode.LIKE:
            rel = ranks["blend"] = 0.5 * rel + base
        mixing = adaptation is not None and req.mode in ("auto", "mood")
        assign = np.argmax(A, axis=1)
        chosen: list[int] = []
        strategy: dict[int, str] = {}
        pools = {name: list(np.argsort(-r, kind="stable")[: max(60, 6 * k)]) for name, r in ranks.items()}
        while len(chosen) < k:
            # each slot: the strategy the bandit draws for this person (always the blend when not adapting)
            name = adapt.pick_strategy(adaptation.strategies, self._rng) if mixing and adaptation else "blend"
            pool = [i for i in pools[name] if int(i) not in strategy]
            if not pool:
                pool = [i for i in pools["blend"] if int(i) not in strategy]
                name = "blend"
            if not pool:
                break
            r = ranks[name]

            def mmr(i: int, r: np.ndarray = r) -> float:
                same = sum(1 for j in chosen if assign[j] == assign[i])
                return float(r[i]) - 0.35 * same
            best = int(max(pool, key=mmr))
            chosen.append(best)
            strategy[best] = name
        if req.mode == Mode.AUTO:
            chosen = ensure_coverage(chosen, rel, assign.astype(np.int64), pv.weights, k, min_share=0.15)
        return [(scored[i], int(assign[i]), float(rel[i]), strategy.get(i, "blend")) for i in chosen]

    def _explain(self, picks: list[tuple[Scored, int | None, float, str]], pv: PersonaVectors,
                 personas: Sequence[Persona], space: FeatureSpace,
                 metas: Mapping[int, ShowMeta], *, bridge: bool = False) -> list[Recommendation]:
        out = []

        def closest(p: Persona, show_id: int, n: int) -> list[str]:
            members = [m for m in p.member_ids if m in space.index]
            if not members:
                return []
            sims = space.rows(members) @ space.rows([show_id]).T
            best = [members[i] for i in np.argsort(-sims.ravel(), kind="stable")[:n]]
            return [(metas.get(b) or EMPTY).title or "?" for b in best]

        for rank, (s, j, score, strategy) in enumerate(picks, start=1):
            c = s.cand
            assert c.show_id is not None
            persona = personas[j] if j is not None and j < len(personas) else None
            reason = "Popular with people whose viewing overlaps yours."
            if bridge and len(personas) == 2:
                a, b = personas
                ta, tb = closest(a, c.show_id, 1), closest(b, c.show_id, 1)
                if ta and tb:
                    reason = (f"Bridges your {a.name.lower()} and {b.name.lower()} sides: for the fan of {ta[0]} "
                              f"and of {tb[0]}.")
            elif persona is not None:
                titles = closest(persona, c.show_id, 2)
                if titles:
                    reason = f"Because you watched {' and '.join(titles)} — your {persona.name.lower()} side."
            if s.lifecycle:
                reason += f" {s.lifecycle[0].upper()}{s.lifecycle[1:]}."
            m = c.meta
            poster = m.poster_path
            out.append(Recommendation(
                show_id=c.show_id, title=m.title or c.ref.title, year=m.first_year or c.ref.year,
                persona_id=persona.id if persona else None, persona_name=persona.name if persona else None,
                reason=reason, score=round(score, 4), sources=tuple(sorted(c.sources)), rank=rank,
                overview=m.overview[:400], genres=m.genres, network=m.networks[0] if m.networks else None,
                providers=m.providers,
                poster_url=f"https://image.tmdb.org/t/p/w342{poster}" if poster else None,
                trakt_url=f"https://trakt.tv/shows/{c.ref.ids.slug or c.ref.ids.trakt}" if (
                    c.ref.ids.slug or c.ref.ids.trakt) else None,
                tmdb_url=f"https://www.themoviedb.org/tv/{c.ref.ids.tmdb}" if c.ref.ids.tmdb else None,
                status=m.status, lifecycle=s.lifecycle, strategy=strategy,
            ))
        return out

    async def _llm(self, items: list[Recommendation], scored: list[Scored], pv: PersonaVectors,
                   personas: Sequence[Persona], req: RecommendRequest,
                   explain_one: Callable[[Scored], Recommendation]) -> tuple[list[Recommendation], bool, int]:
        """Offer the LLM a shortlist (our picks first, then the next best); keep what validates, backfill."""
        assert self.llm is not None
        by_id = {r.show_id: r for r in items}
        extra = sorted(scored, key=lambda s: -(float(np.maximum(s.aff, 0) @ pv.weights) if len(pv.weights) else 0)
                       - s.base)
        short: list[ShortItem] = []
        seen: set[int] = set()
        for r in items:
            seen.add(r.show_id)
            short.append(ShortItem(r.show_id, f"{r.show_id} | {r.title} ({r.year}) | {', '.join(r.genres[:3])} | "
                                              f"{r.persona_name or '-'} | {r.lifecycle or ''}"))
        for s in extra:
            sid = s.cand.show_id
            if sid is None or sid in seen or len(short) >= max(3 * req.k, 15):
                continue
            seen.add(sid)
            m = s.cand.meta
            short.append(ShortItem(sid, f"{sid} | {m.title} ({m.first_year}) | "
                                        f"{', '.join(m.genres[:3])} | | {s.lifecycle or ''}"))
        lines = [f"{p.id}: {p.name} ({p.weight:.0%}) — e.g. {p.medoid.title}, "
                 + ", ".join(x.title for x in p.shows[:2]) for p in personas]
        task = {"all": "One pick per persona.", "bridge": "Shows that suit both personas at once.",
                "persona": "Picks for this one persona.", "like": f"Shows like {req.like}.",
                "mood": f"The person's mood: {req.mood!r}."}.get(req.mode, "A varied list across the personas.")
        choice = await pick_and_explain(self.llm, lines, short, len(items), task)
        if choice is None or not choice.picks:
            return items, False, 0
        persona_by_id = {p.id: p for p in personas}
        extra_by_id = {s.cand.show_id: s for s in scored}
        out: list[Recommendation] = []
        for p in choice.picks:
            base = by_id.get(p.id) or explain_one(extra_by_id[p.id])
            persona = persona_by_id.get(p.persona_id) if p.persona_id is not None else None
            out.append(_replace(base, reason=p.reason.strip(), persona_id=persona.id if persona else base.persona_id,
                                persona_name=persona.name if persona else base.persona_name))
        for r in items:                                     # backfill what the LLM dropped or invented
            if len(out) >= len(items):
                break
            if r.show_id not in {o.show_id for o in out}:
                out.append(r)
        return [_replace(r, rank=i + 1) for i, r in enumerate(out)], True, choice.prompt_tokens

    async def _record(self, req: RecommendRequest, request_id: str, items: list[Recommendation],
                      llm_used: bool) -> list[Recommendation]:
        events = [NewEvent(req.person_id, r.show_id, request_id, "group" if req.mode == Mode.GROUP else r.strategy,
                           r.persona_id, tuple(r.sources), r.rank, req.mode, r.score, r.reason, llm_used, req.platform)
                  for r in items]
        async with self.store.unit() as uow:
            ids = await uow.events.record(events, self.clock.now())
        return [_replace(r, event_id=e) for r, e in zip(items, ids, strict=True)]


def _own(stats: Mapping[str, ArmStats], arm: str) -> tuple[int, int]:
    st = stats.get(arm)
    return (round(st.shown), round(st.adopted)) if st else (0, 0)


def _replace(r: Recommendation, **kw: Any) -> Recommendation:
    from dataclasses import replace
    return replace(r, **kw)
