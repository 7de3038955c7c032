"""The live recommender: personas -> candidates -> exclusion -> scoring per mode -> diversity -> explanation.

Scores combine persona affinity (cosine of a show's features to a persona's centroid, in one feature space built
over the person's shows and the candidates), collaborative evidence (how many sources and co-watchers proposed
it), quality (Bayesian-averaged rating), lifecycle (airing now, new season, freshly trending) and context (the
personas usually watched at this hour and weekday count more). Modes pick from the same scores.
"""

from __future__ import annotations

import json
import logging
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from .. import adapt
from ..adapt import ArmState, ArmStats
from ..catalogue import Catalogue, norm_title
from ..clock import Clock, iso, parse_ts
from ..errors import MultitudesError
from ..feedback import arm_stats, ignored_counts
from ..llm import LLM
from ..models import Filters, Persona, PersonaReport, Recommendation, RecommendationList, RecommendRequest
from ..store import Store
from ..taste.features import FeatureSpace, build_features
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


def passes(meta: Mapping[str, Any], f: Filters) -> bool:
    genres = set(meta.get("genres") or [])
    anime = "animation" in genres and ("JP" in (meta.get("origin_country") or []) or meta.get("original_language")
                                       == "ja")
    if f.genres_in and not genres & set(f.genres_in):
        return False
    if f.genres_out and genres & set(f.genres_out):
        return False
    if f.anime is True and not anime:
        return False
    if f.anime is False and anime:
        return False
    rt = meta.get("runtime")
    if f.max_runtime is not None and isinstance(rt, int | float) and rt > f.max_runtime:
        return False
    if f.min_runtime is not None and isinstance(rt, int | float) and rt < f.min_runtime:
        return False
    if f.language and meta.get("original_language") and meta["original_language"] != f.language:
        return False
    if f.provider:
        provs = [p.lower() for p in (meta.get("providers") or []) + (meta.get("networks") or [])]
        if not any(f.provider.lower() in p for p in provs):
            return False
    if f.status == "airing" and meta.get("status") not in ("Returning Series", "In Production"):
        return False
    return not (f.status == "ended" and meta.get("status") not in ("Ended", "Canceled"))


def bayes(meta: Mapping[str, Any], prior: float = 7.0, m: float = 300.0) -> float:
    va, vc = meta.get("vote_average"), meta.get("vote_count") or 0
    if not isinstance(va, int | float) or not vc:
        return prior
    return float((va * vc + prior * m) / (vc + m))


def lifecycle(meta: Mapping[str, Any], now: datetime) -> tuple[float, str | None]:
    nxt = parse_ts((meta.get("next_episode") or {}).get("air_date"))
    last = parse_ts(meta.get("last_air_date"))
    status = meta.get("status")
    if nxt and now <= nxt <= now + timedelta(days=30):
        ep = meta.get("next_episode") or {}
        if ep.get("episode") == 1:
            return 1.0, f"season {ep.get('season')} starts {nxt:%b %d}"
        return 0.8, "new episodes airing now"
    if last and now - last <= timedelta(days=120) and status in ("Returning Series", "In Production"):
        return 0.6, "a new season just aired"
    if status in ("Ended", "Canceled") and (meta.get("number_of_seasons") or 0) >= 1:
        return 0.2, f"complete in {meta.get('number_of_seasons')} season(s): binge-ready"
    return 0.0, None


@dataclass
class Adaptation:
    sources: dict[str, float]       # one Thompson draw per candidate source
    personas: dict[int, float]      # one per persona id
    ignored: dict[int, int]         # show id -> times shown and ignored
    strategies: dict[str, tuple[float, float]] = field(default_factory=dict)   # Beta posterior per strategy


class Recommender:
    def __init__(self, store: Store, clock: Clock, personas: PersonaService, sources: CandidateSources,
                 catalogue: Catalogue, enrich: Any, llm: LLM | None, *, max_watched_episodes: int = 1,
                 recent_days: int = 14, adaptive: bool = True, seed: int | None = None) -> None:
        self.store = store
        self.clock = clock
        self.personas = personas
        self.sources = sources
        self.catalogue = catalogue
        self.enrich = enrich          # async (person_id or None) -> int: fills missing show metadata
        self.llm = llm
        self.max_watched_episodes = max_watched_episodes
        self.recent_days = recent_days
        self.adaptive = adaptive          # Thompson sampling over candidate sources (off: the static engine)
        self._rng = np.random.default_rng(seed)
        self._global_arms: tuple[datetime, dict[str, dict[str, ArmStats]]] | None = None

    async def excluded(self, person_id: int) -> set[int]:
        """Internal show ids never to recommend: watched beyond the threshold, rated, hidden or dropped,
        dismissed, or recommended within ``recent_days``."""
        since = iso(self.clock.now() - timedelta(days=self.recent_days))
        rows = await self.store.all(
            "SELECT show_id FROM plays WHERE person_id=:p GROUP BY show_id "
            "HAVING COUNT(DISTINCT season || ':' || COALESCE(episode, episode_title)) > :t "
            "UNION SELECT show_id FROM ratings WHERE person_id=:p UNION SELECT show_id FROM hidden WHERE person_id=:p "
            "UNION SELECT show_id FROM dismissed WHERE person_id=:p "
            "UNION SELECT show_id FROM rec_events WHERE person_id=:p AND shown_at >= :since",
            {"p": person_id, "t": self.max_watched_episodes, "since": since})
        return {int(r[0]) for r in rows}

    async def recommend(self, req: RecommendRequest) -> RecommendationList:
        if not 1 <= req.k <= 20:
            raise MultitudesError(f"k={req.k}", user_message="Ask for between 1 and 20 recommendations.")
        report = await self.personas.personas(req.person_id)
        if not report.personas:
            raise MultitudesError("no personas", user_message="I need some history first: run /sync or /import.")
        history, metas = await load_history(self.store, req.person_id)
        note = ""
        personas = list(report.personas)
        filters = req.filters
        like_meta: dict[str, Any] | None = None
        if req.mode == "persona":
            chosen = self._find_persona(personas, req.persona)
            personas = [chosen]
        elif req.mode == "bridge":
            a, b = req.bridge or (None, None)
            pa = self._find_persona(personas, a) if a else personas[0]
            pb = self._find_persona(personas, b) if b else next((p for p in personas if p.id != pa.id), pa)
            if pa.id == pb.id:
                raise MultitudesError("one persona", user_message="A bridge needs two different personas.")
            personas = [pa, pb]
        elif req.mode == "like":
            like_meta = self._find_show(req.like or "", metas)
        elif req.mode == "mood":
            filters, note = self._mood(req.mood or "", filters)
        seeds = await self._seeds(req.person_id, personas, like_meta)
        linked = bool(await self.store.load_tokens(req.person_id))
        pool = await self.sources.gather(req.person_id, PersonaReport(report.person_id, tuple(personas),
                                                                      report.periods, report.computed_at),
                                         seeds, linked, like_meta)
        cands = await self._materialise(req.person_id, list(pool.items.values()))
        excluded = await self.excluded(req.person_id)
        cands = [c for c in cands if c.show_id not in excluded and c.meta and passes(c.meta, filters)]
        if not cands:
            return RecommendationList(uuid.uuid4().hex[:12], req.mode, (), note=(note + " " if note else "")
                                      + "Nothing new matches that right now; try fewer filters.")
        penalties = await self._dismissed_metas(req.person_id)
        adaptation = await self._adaptation(req.person_id, personas) if self.adaptive else None
        scored, space, pv = self._score(cands, report, personas, metas, history, req, like_meta, penalties,
                                        adaptation)
        picks = self._select(scored, pv, personas, req, adaptation)
        items = self._explain(picks, pv, personas, space, metas, bridge=req.mode == "bridge")
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

    async def group(self, person_ids: Sequence[int], k: int, *, platform: str | None = None) -> RecommendationList:
        """Least-misery group picks: never a show any member has seen, rated, dropped or dismissed."""
        reports = [await self.personas.personas(p) for p in person_ids]
        if any(not r.personas for r in reports):
            raise MultitudesError("member without history",
                                  user_message="Everyone in the group needs some history first (/sync or /import).")
        names = {}
        for p in person_ids:
            row = await self.store.one("SELECT display_name FROM people WHERE id=?", (p,))
            names[p] = row[0] if row and row[0] else f"person {p}"
        all_personas = [pp for r in reports for pp in r.personas]
        combined = PersonaReport(person_ids[0], tuple(all_personas), (), self.clock.now())
        seeds = await self._seeds(person_ids[0], all_personas, None)
        pool = await self.sources.gather(person_ids[0], combined, seeds, False)
        cands = await self._materialise(person_ids[0], list(pool.items.values()))
        excluded: set[int] = set()
        metas: dict[int, Mapping[str, Any]] = {}
        for p in person_ids:
            excluded |= await self.excluded(p)
            excluded |= {int(r[0]) for r in await self.store.all(
                "SELECT DISTINCT show_id FROM plays WHERE person_id=?", (p,))}   # a group pick nobody has started
            _, person_metas = await load_history(self.store, p)
            metas.update(person_metas)
        cands = [c for c in cands if c.show_id not in excluded and c.meta]
        if not cands:
            return RecommendationList(uuid.uuid4().hex[:12], "group", (), note="Nothing new fits everyone right now.")
        reps = {m for pp in all_personas for m in pp.member_ids[:REPRESENTATIVES]}
        space_metas: dict[int, Mapping[str, Any]] = {m: metas[m] for m in reps if m in metas}
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
                show_id=c.show_id, title=str(m.get("title") or m.get("name") or c.ref.title),
                year=m.get("year") if isinstance(m.get("year"), int) else c.ref.year, persona_id=None,
                persona_name=None, reason="Nobody has seen it; it suits " + ", ".join(who[:-1]) + f" and {who[-1]}.",
                score=round(float(score[int(i)]), 4), sources=tuple(sorted(c.sources)), rank=rank,
                overview=str(m.get("overview") or "")[:400], genres=tuple(m.get("genres") or ()),
                providers=tuple(m.get("providers") or ()), status=m.get("status"),
                tmdb_url=f"https://www.themoviedb.org/tv/{c.ref.ids.tmdb}" if c.ref.ids.tmdb else None))
        first = RecommendRequest(person_ids[0], mode="group", k=k, platform=platform)
        recorded = await self._record(first, request_id, items, False)
        for p in person_ids[1:]:   # every member gets the event: their feedback and adoption trace back to it
            await self._record(RecommendRequest(p, mode="group", k=k, platform=platform), request_id, items, False)
        return RecommendationList(request_id, "group", tuple(recorded))

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

    def _find_show(self, title: str, metas: Mapping[int, Mapping[str, Any]]) -> dict[str, Any]:
        want = norm_title(title)
        for m in metas.values():
            if norm_title(str(m.get("title") or m.get("name") or "")) == want:
                return dict(m)
        hits = self.catalogue.search(title)
        if hits:
            from ..catalogue import catalogue_meta
            return catalogue_meta(hits[0]["_entry"])
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
                     like: Mapping[str, Any] | None) -> list[dict[str, Any]]:
        ids: list[int] = []
        for p in personas:
            ids += [p.medoid.show_id, *[s.show_id for s in p.shows[:2]]]
        rows = {int(r["id"]): r for r in await self.store.all(
            f"SELECT id, trakt_id, tmdb_id FROM shows WHERE id IN ({','.join('?' * len(ids))})", ids)} if ids else {}
        out = [{"show_id": i, "trakt_id": rows[i]["trakt_id"], "tmdb_id": rows[i]["tmdb_id"]} for i in ids if i in rows]
        if like:
            out.insert(0, {"show_id": None, "trakt_id": None, "tmdb_id": like.get("tmdb_id")})
        return out

    async def _materialise(self, person_id: int, cands: list[Candidate]) -> list[Candidate]:
        """Give every candidate an internal show id and, where the list payload was thin, full metadata."""
        ids = await self.store.upsert_shows([c.ref for c in cands])
        for c in cands:
            for k in (("tmdb", c.ref.ids.tmdb), ("trakt", c.ref.ids.trakt), ("imdb", c.ref.ids.imdb)):
                if k in ids:
                    c.show_id = ids[k]
                    break
        thin = [c for c in cands if c.show_id is not None and (not c.meta or c.meta.get("partial"))]
        if thin:
            thin.sort(key=lambda c: (-len(c.sources), min(c.sources.values())))
            await self.enrich([c.show_id for c in thin[:80]])
            rows = {int(r["id"]): r["meta"] for r in await self.store.all(
                f"SELECT id, meta FROM shows WHERE id IN ({','.join('?' * len(thin))}) AND meta IS NOT NULL",
                [c.show_id for c in thin])}
            for c in thin:
                raw = rows.get(c.show_id) if c.show_id is not None else None
                full = json.loads(raw) if raw else None
                if full:
                    c.meta = full
        for c in cands:
            c.meta.setdefault("title", c.ref.title)
            c.meta.setdefault("year", c.ref.year)
        # keep what the lists told us about shows we hold no metadata for (feedback on them needs it later)
        known = [(c.show_id, c.meta) for c in cands if c.show_id is not None and not c.meta.get("partial")]
        if known:
            now = self.clock.now()
            await self.store.save_missing_metas(known, now, now + timedelta(days=7))
        return [c for c in cands if c.show_id is not None]

    async def _dismissed_metas(self, person_id: int) -> dict[int, Mapping[str, Any]]:
        rows = await self.store.all(
            "SELECT s.id, s.meta FROM dismissed d JOIN shows s ON s.id=d.show_id WHERE d.person_id=? AND "
            "d.reason='not_for_me' AND s.meta IS NOT NULL", (person_id,))
        return {int(r[0]): json.loads(r[1]) for r in rows if r[1]}

    async def arm_states(self, person_id: int, personas: Sequence[Persona] = (), *,
                         fresh: bool = False) -> list[ArmState]:
        """The bandit's posteriors for this person: one per candidate source, persona and ranking strategy. For
        requests, everyone's statistics (the prior) are recounted at most every ten minutes; ``fresh`` recounts."""
        now = self.clock.now()
        if fresh or self._global_arms is None or now - self._global_arms[0] > timedelta(minutes=10):
            self._global_arms = (now, await arm_stats(self.store, None))
        everyone = self._global_arms[1]
        overall = everyone["all"].get("all", ArmStats(0, 0))
        mine = await arm_stats(self.store, person_id)
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
        before = iso(self.clock.now() - timedelta(days=self.recent_days))
        return Adaptation(sources, {int(k): v for k, v in by_persona.items()},
                          await ignored_counts(self.store, person_id, before),
                          {s.arm: (s.alpha, s.beta) for s in states if s.kind == "strategy"})

    def _score(self, cands: list[Candidate], report: PersonaReport, personas: Sequence[Persona],
               metas: Mapping[int, Mapping[str, Any]], history: Any, req: RecommendRequest,
               like: Mapping[str, Any] | None, penalties: Mapping[int, Mapping[str, Any]] | None = None,
               adaptation: Adaptation | None = None) -> tuple[list[Scored], FeatureSpace, PersonaVectors]:
        now = self.clock.now()
        # each persona is represented by its most central shows: bounded work however long the history
        reps = {m for p in personas for m in p.member_ids[:REPRESENTATIVES]}
        all_metas: dict[int, Mapping[str, Any]] = {m: metas[m] for m in reps if m in metas}
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
        if req.use_context and req.mode in ("auto", "mood") and len(weights) > 1:
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
        if req.mode == "bridge" and A.shape[1] >= 2:
            both = np.minimum(A[:, 0], A[:, 1]) * 2 + 0.5 * (A[:, 0] + A[:, 1])
            rel = both * 2.0 + 0.5 * base
            order = np.argsort(-rel, kind="stable")[:k]
            return [(scored[i], int(np.argmax(A[i])), float(rel[i]), "blend") for i in order]
        if req.mode == "all":
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
        if req.mode == "persona":
            rel = 2.0 * A[:, 0] + 0.5 * base
            order = np.argsort(-rel, kind="stable")[:k]
            return [(scored[i], 0, float(rel[i]), "blend") for i in order]
        # auto / mood / like: relevance to the weighted personas, then MMR diversity and persona coverage
        fit = np.maximum(A, 0) @ pv.weights
        ranks = {"blend": 2.0 * fit + 0.5 * base, "taste": 3.0 * fit + 0.2 * base, "crowd": 1.0 * fit + 1.0 * base}
        rel = ranks["blend"]
        if req.mode == "like":
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
        if req.mode == "auto":
            chosen = ensure_coverage(chosen, rel, assign.astype(np.int64), pv.weights, k, min_share=0.15)
        return [(scored[i], int(assign[i]), float(rel[i]), strategy.get(i, "blend")) for i in chosen]

    def _explain(self, picks: list[tuple[Scored, int | None, float, str]], pv: PersonaVectors,
                 personas: Sequence[Persona], space: FeatureSpace,
                 metas: Mapping[int, Mapping[str, Any]], *, bridge: bool = False) -> list[Recommendation]:
        out = []

        def closest(p: Persona, show_id: int, n: int) -> list[str]:
            members = [m for m in p.member_ids if m in space.index]
            if not members:
                return []
            sims = space.rows(members) @ space.rows([show_id]).T
            best = [members[i] for i in np.argsort(-sims.ravel(), kind="stable")[:n]]
            return [str((metas.get(b) or {}).get("title") or "?") for b in best]

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
            poster = m.get("poster_path")
            out.append(Recommendation(
                show_id=c.show_id, title=str(m.get("title") or m.get("name") or c.ref.title),
                year=m.get("year") if isinstance(m.get("year"), int) else c.ref.year,
                persona_id=persona.id if persona else None, persona_name=persona.name if persona else None,
                reason=reason, score=round(score, 4), sources=tuple(sorted(c.sources)), rank=rank,
                overview=str(m.get("overview") or "")[:400], genres=tuple(m.get("genres") or ()),
                network=(m.get("networks") or [None])[0], providers=tuple(m.get("providers") or ()),
                poster_url=f"https://image.tmdb.org/t/p/w342{poster}" if poster else None,
                trakt_url=f"https://trakt.tv/shows/{c.ref.ids.slug or c.ref.ids.trakt}" if (
                    c.ref.ids.slug or c.ref.ids.trakt) else None,
                tmdb_url=f"https://www.themoviedb.org/tv/{c.ref.ids.tmdb}" if c.ref.ids.tmdb else None,
                status=m.get("status"), lifecycle=s.lifecycle, strategy=strategy,
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
            short.append(ShortItem(sid, f"{sid} | {m.get('title')} ({m.get('year')}) | "
                                        f"{', '.join((m.get('genres') or [])[:3])} | | {s.lifecycle or ''}"))
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
        stamp = iso(self.clock.now())
        out = []
        async with self.store.tx() as db:
            for r in items:
                cur = await db.execute(
                    "INSERT INTO rec_events(person_id, show_id, request_id, strategy, persona_id, sources, rank, "
                    "mode, score, reason, llm, shown_at, platform) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (req.person_id, r.show_id, request_id, "group" if req.mode == "group" else r.strategy,
                     r.persona_id, json.dumps(list(r.sources)), r.rank, req.mode, r.score, r.reason, int(llm_used),
                     stamp, req.platform))
                out.append(_replace(r, event_id=int(cur.lastrowid or 0)))
        return out


def _own(stats: Mapping[str, ArmStats], arm: str) -> tuple[int, int]:
    st = stats.get(arm)
    return (round(st.shown), round(st.adopted)) if st else (0, 0)


def _replace(r: Recommendation, **kw: Any) -> Recommendation:
    from dataclasses import replace
    return replace(r, **kw)
