"""``/recommend`` for a person in the store: gather what the pipeline needs, run it off the event loop, record.

    read (one unit: the person, what they played and when, what is excluded, what they said no to)
      -> live lists (Trakt related / recommendations / trending…, TMDB recommendations / similar / discover,
         the watchlist), materialised into the store
      -> worker thread: index sources, exclusion, every scorer, the mode's selector, template explanations
         (``engine.recommend.pipeline``, the code ``multitudes eval`` measures)
      -> the one grounded LLM call (optional): it picks from the shortlist and words the reasons
      -> recorder: every shown pick becomes an event (feedback, adoption and the bandit trace back to it)

What a request reads is bounded whatever the history: the persona report (cached with its fingerprint), one
aggregated row per played show, and the deployment snapshot (``engine.recommend.deployment``) that already holds
every show's feature row and the population model. Persona centroids and representatives are derived from the
snapshot once per report and kept.
"""

from __future__ import annotations

import logging
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .. import adapt
from ..adapt import ArmState, ArmStats
from ..catalogue import Catalogue, norm_title
from ..clock import Clock
from ..compute import offload
from ..errors import MultitudesError
from ..feedback import FeedbackService
from ..filters import passes
from ..llm import LLM
from ..meta import ShowMeta, critic_scores
from ..models import (
    FeedbackKind,
    Filters,
    GroupTally,
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
from ..taste.temporal import local
from .candidates import Candidate, LiveSources
from .deployment import Deployment, Deployments, seconds
from .explain import ShortItem, clean_reason, pick_and_explain
from .pipeline import (
    REPRESENTATIVES,
    Adaptation,
    PersonaVec,
    PersonView,
    Pick,
    Pool,
    Scored,
    cold_start,
    explain,
    genre_distribution,
    index_sources,
    like_sources,
    per_persona,
    score,
    select,
)
from .weights import SIGNALS, Profile, shipped

if TYPE_CHECKING:
    from ..crowd import CrowdService

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
SHORT_MINUTES = 35
EVIDENCE_MIN = 3            # picks an arm needs behind it before the bandit's draws for it count


@dataclass(frozen=True, slots=True)
class Mood:
    """How a mood was read: the genres it asks for and whether episodes must be short. A pick satisfies it only
    if it has one of the genres and, when short, a known runtime within ``SHORT_MINUTES``."""
    text: str
    genres: tuple[str, ...]
    short: bool

    def fits(self, m: ShowMeta) -> bool:
        if self.genres and not set(self.genres) & set(m.genres):
            return False
        return not self.short or (m.runtime is not None and 0 < m.runtime <= SHORT_MINUTES)

    @property
    def words(self) -> str:
        parts = [" or ".join(self.genres)] if self.genres else []
        if self.short:
            parts.append(f"episodes under {SHORT_MINUTES} min")
        return ", ".join(parts)


def read_mood(text: str) -> Mood:
    words = {w.strip(".,!?'\"").lower() for w in text.split()}
    genres: list[str] = []
    for w in sorted(words):
        for g in MOODS.get(w, ()):
            if g not in genres:
                genres.append(g)
    return Mood(text, tuple(genres), bool(words & SHORT_WORDS))


@dataclass
class PersonaCache:
    """A person's personas as vectors in the deployment's feature layout, and what explanations need."""
    report_at: datetime
    deployment: tuple[Any, ...]
    vecs: list[PersonaVec]
    titles: dict[int, str]                     # representatives' titles
    genres: dict[str, float]                   # the person's genre distribution (calibration target)
    sims: NDArray[np.float32] | None = None    # every indexed show's cosine to each persona


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
    sims: NDArray[np.float32] | None = None     # the index's cosine to each persona (kept with the personas)


@dataclass
class Ranked:
    scored: Scored
    picks: list[Pick]
    reasons: list[str]
    shortlist: list[int]                       # pool indexes, best first (the LLM's choice)


class Recommender:
    def __init__(self, store: Store, clock: Clock, personas: Any, deployments: Deployments, sources: LiveSources,
                 catalogue: Catalogue, enrich: Callable[[Sequence[int]], Awaitable[int]], llm: LLM | None,
                 feedback: FeedbackService, *, profile: Profile | None = None, max_watched_episodes: int = 0,
                 recent_days: int = 14, adaptive: bool = True, seed: int | None = None,
                 crowd: CrowdService | None = None) -> None:
        self.store = store
        self.clock = clock
        self.personas = personas                # PersonaService
        self.deployments = deployments
        self.sources = sources
        self.catalogue = catalogue
        self.enrich = enrich                    # async (show ids) -> int: fills missing show metadata
        self.llm = llm
        self.feedback = feedback
        self.profile = profile or shipped().profile()
        self.max_watched_episodes = max_watched_episodes
        self.recent_days = recent_days
        self.adaptive = adaptive
        self.crowd = crowd                      # the person's similar Trakt members, read from the store only
        self._rng = np.random.default_rng(seed)
        self._global_arms: tuple[datetime, dict[str, dict[str, ArmStats]]] | None = None
        self._people: OrderedDict[int, PersonaCache] = OrderedDict()

    # -- reads ---------------------------------------------------------------------------------------------------
    async def excluded(self, person_id: int) -> set[int]:
        """Internal show ids never to recommend now: played beyond ``max_watched_episodes`` (by default any play),
        rated, hidden or dropped, dismissed, or recommended within ``recent_days``."""
        since = self.clock.now() - timedelta(days=self.recent_days)
        async with self.store.read() as uow:
            return await uow.events.excluded(person_id, self.max_watched_episodes, since)

    async def seen(self, person_id: int) -> set[int]:
        """Shows the person played, rated, hid, dropped or dismissed (what was recently shown to them is not)."""
        async with self.store.read() as uow:
            return await uow.events.excluded(person_id, self.max_watched_episodes, self.clock.now())

    async def _vectors(self, person_id: int, report: PersonaReport, dep: Deployment) -> PersonaCache:
        got = self._people.get(person_id)
        if got is not None and got.report_at == report.computed_at and got.deployment == dep.key:
            self._people.move_to_end(person_id)
            return got
        cache = await offload(persona_vectors, report, dep)
        self._people[person_id] = cache
        while len(self._people) > 256:         # ~0.3 MB each for a 20,000-show index
            self._people.popitem(last=False)
        return cache

    async def _person(self, req: RecommendRequest, report: PersonaReport, dep: Deployment
                      ) -> tuple[PersonView, PersonaCache, Filters, bool, list[tuple[int, ShowMeta | None]]]:
        pid = req.person_id
        since = self.clock.now() - timedelta(days=self.recent_days)
        async with self.store.read() as uow:
            person = await uow.people.get(pid)
            linked = await uow.tokens.exists(pid)
            played = await uow.history.last_watched(pid)
            excluded = (await uow.events.not_again(pid, since) if self.max_watched_episodes == 0
                        else await uow.events.excluded(pid, self.max_watched_episodes, since))
            nope = await uow.feedback.dismissed(pid, FeedbackKind.NOT_FOR_ME)
            listed = await uow.history.watchlist(pid)
            stored = await uow.shows.many([s for s in listed if s not in dep.catalogue.pos])
        pc = await self._vectors(pid, report, dep)
        times = seconds([t for _, t in played]) if played else np.zeros(0)
        watched = {sid: float(t) for (sid, _), t in zip(played, times, strict=True)}
        now = self.clock.now()
        tz = person.timezone if person else None
        view = PersonView(list(pc.vecs), (excluded | set(watched)) if self.max_watched_episodes == 0 else excluded,
                          watched, max(watched.values()) if watched else None,
                          local(now, tz) if req.use_context else None, nope, pc.genres)
        filters = req.filters
        if req.apply_defaults and person is not None:
            filters = filters.over(person.settings.default_filters)
        if person is not None and person.settings.region and not filters.region:
            filters = replace(filters, region=person.settings.region)
        metas = {sid: r.meta for sid, r in stored.items() if r.has_meta and not r.meta.empty}
        watchlist = [(s, dep.catalogue.meta(s) or metas.get(s)) for s in listed if s not in view.seen]
        return view, pc, filters, linked, watchlist

    # -- the request ---------------------------------------------------------------------------------------------
    async def recommend(self, req: RecommendRequest) -> RecommendationList:
        if not 1 <= req.k <= 20:
            raise MultitudesError(f"k={req.k}", user_message="Ask for between 1 and 20 recommendations.")
        report = await self.personas.personas(req.person_id)
        if not report.personas:
            return await self._cold_start(req)
        dep = await self.deployments.current()
        view, pc, filters, linked, watchlist = await self._person(req, report, dep)
        if self.crowd is not None:                     # built in the background; read here, never fetched
            view = replace(view, crowd=await self.crowd.crowd(req.person_id, report))
        if req.mode == Mode.CROWD and (view.crowd is None or view.crowd.population.B is None):
            return RecommendationList(uuid.uuid4().hex[:12], req.mode, (), note=(
                "I have not found people who share your tastes yet: I look for them on Trakt in the background "
                "(Trakt must be configured here). Try `recommend` meanwhile."))
        personas = list(report.personas)
        job = Job(req, dep, view, req.mode, titles=pc.titles, now=self.clock.now(), sims=pc.sims)
        note = ""
        mood: Mood | None = None
        if req.mode == Mode.PERSONA:
            job.persona = personas.index(self._find_persona(personas, req.persona))
        elif req.mode == Mode.BRIDGE:
            a, b = req.bridge or (None, None)
            pa = self._find_persona(personas, a) if a else personas[0]
            pb = self._find_persona(personas, b) if b else next((p for p in personas if p.id != pa.id), pa)
            if pa.id == pb.id:
                raise MultitudesError("one persona", user_message="A bridge needs two different personas.")
            job.bridge = (personas.index(pa), personas.index(pb))
        elif req.mode == Mode.LIKE:
            job.like = await self._find_show(req.like or "", dep)
        elif req.mode == Mode.MOOD:
            mood = read_mood(req.mood or "")
            if not mood.genres and not mood.short:
                note = f"I could not read a genre into “{req.mood}”, so here is your usual mix."
                job.mode = Mode.AUTO
            else:
                asked = (req.mood or "").strip('"“”')
                note = f"Read “{asked}” as: {mood.words}."
        job.ok, job.filters, job.mood = _ok(filters, mood), filters, mood
        job.watchlist = watchlist
        if self.sources.live:
            seeds = await self._seeds(report, job)
            job.live = await self._materialise(await self.sources.gather(
                req.person_id, report, seeds, linked, job.like[1] if job.like else None))
        if self.adaptive and job.mode in (Mode.AUTO, Mode.MOOD, Mode.LIKE, Mode.PERSONA, Mode.CROWD):
            job.adaptation = await self._adaptation(req.person_id, personas, req.k)
        ranked = await offload(rank, job, self.profile)
        if not ranked.picks:
            return RecommendationList(uuid.uuid4().hex[:12], req.mode, (), note=(note + " " if note else "")
                                      + "Nothing new matches that right now; try fewer filters.")
        ids = await self._ids(ranked)
        items = [self._item(ranked, p, reason, n + 1, personas, ids, filters.region) for n, (p, reason) in
                 enumerate(zip(ranked.picks, ranked.reasons, strict=True))]
        llm_calls = llm_tokens = 0
        llm_used = False
        if self.llm is not None and req.use_llm:
            calls_before = self.llm.stats.calls
            items, llm_used, llm_tokens = await self._llm(items, ranked, personas, req, job, ids)
            llm_calls = self.llm.stats.calls - calls_before
        request_id = uuid.uuid4().hex[:12]
        items = await self._record(req, request_id, items, llm_used, ranked)
        wanted = per_persona(req.k, len(personas)) * len(personas) if job.mode == Mode.ALL else req.k
        if len(items) < wanted:
            why = (f"Only {len(items)} new shows fit “{req.mood}”." if mood is not None
                   else f"Only {len(items)} new shows fit; the rest would repeat.")
            note = (note + " " if note else "") + why
        return RecommendationList(request_id, req.mode, tuple(items), note=note.strip(), llm_used=llm_used,
                                  llm_calls=llm_calls, prompt_tokens=llm_tokens)

    # -- group watch ---------------------------------------------------------------------------------------------
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

    async def group_vote(self, event_id: int, person_id: int, up: bool) -> GroupTally:
        """A member's vote on one pick of a group watch (the pick's message carries one event of it; any member
        may vote, once per pick, changeable)."""
        async with self.store.read() as uow:
            ev = await uow.events.get(event_id)
            events = await uow.events.of_request(ev.request_id) if ev is not None else []
        group = [e for e in events if e.mode == Mode.GROUP]
        if ev is None or not group:
            raise MultitudesError("not a group pick", user_message="That vote is no longer valid.")
        members = sorted({e.person_id for e in group})
        if person_id not in members:
            raise MultitudesError("not a member", user_message="Only people in this group watch can vote.")
        ranks = {e.rank: e.show_id for e in group}
        async with self.store.unit() as uow:
            await uow.events.vote(ev.request_id, ev.rank, person_id, up, self.clock.now())
            votes = await uow.events.votes(ev.request_id)
            titles = {sid: rec.title for sid, rec in (await uow.shows.many(set(ranks.values()))).items()}
        here = [v for v in votes if v[0] == ev.rank]
        done = all(any(v[0] == r and v[1] == m for v in votes) for r in ranks for m in members)
        winner = None
        score: dict[int, tuple[int, int]] = {}
        for r in ranks:
            ups = sum(1 for v in votes if v[0] == r and v[2])
            score[r] = (ups, sum(1 for v in votes if v[0] == r and not v[2]))
        if done:
            winner = min(ranks, key=lambda r: (-(score[r][0] - score[r][1]), -score[r][0], r))
        return GroupTally(ev.request_id, ev.rank, titles.get(ev.show_id, "?"), sum(v[2] for v in here),
                          sum(not v[2] for v in here), len(members), len(here), done,
                          titles.get(ranks[winner], "?") if winner is not None else None,
                          *(score[winner] if winner is not None else (0, 0)))

    async def group(self, person_ids: Sequence[int], k: int, *, platform: str | None = None) -> RecommendationList:
        """A pick nobody has started, seen, rated, dropped or dismissed, that every member's best-fitting persona
        can live with (least misery)."""
        reports = [await self.personas.personas(p) for p in person_ids]
        if any(not r.personas for r in reports):
            raise MultitudesError("member without history",
                                  user_message="Everyone in the group needs some history first (/sync or /import).")
        dep = await self.deployments.current()
        async with self.store.read() as uow:
            people = {p.id: p for p in await uow.people.many(person_ids)}
            since = self.clock.now() - timedelta(days=self.recent_days)
            seen: set[int] = set()
            for p in person_ids:
                seen |= await uow.events.excluded(p, 0, since)
                seen |= await uow.history.played_shows(p)
        names: dict[int, str] = {p: (people[p].display_name if p in people else None) or f"person {p}"
                                 for p in person_ids}
        vecs: list[PersonaVec] = []
        titles: dict[int, str] = {}
        groups: list[tuple[str, list[int]]] = []
        genres: dict[str, float] = {}
        for p, r in zip(person_ids, reports, strict=True):
            pc = await self._vectors(p, r, dep)
            major = [v for v in pc.vecs if v.weight >= 0.1] or pc.vecs
            groups.append((names[p], list(range(len(vecs), len(vecs) + len(major)))))
            vecs += [replace(v, weight=v.weight / len(person_ids)) for v in major]
            titles |= pc.titles
            for g, share in pc.genres.items():
                genres[g] = genres.get(g, 0.0) + share / len(person_ids)
        view = PersonView(vecs, seen, {}, None, None, [], genres)
        job = Job(RecommendRequest(person_ids[0], mode=Mode.GROUP, k=k, platform=platform), dep, view, Mode.GROUP,
                  titles=titles, now=self.clock.now(), group=groups)
        ranked = await offload(rank, job, self.profile)
        if not ranked.picks:
            return RecommendationList(uuid.uuid4().hex[:12], Mode.GROUP, (),
                                      note="Nothing new fits everyone right now.")
        ids = await self._ids(ranked)
        items = [self._item(ranked, p, reason, n + 1, (), ids) for n, (p, reason) in
                 enumerate(zip(ranked.picks, ranked.reasons, strict=True))]
        request_id = uuid.uuid4().hex[:12]
        first = RecommendRequest(person_ids[0], mode=Mode.GROUP, k=k, platform=platform)
        recorded = await self._record(first, request_id, items, False, ranked)
        for p in person_ids[1:]:   # every member gets the event: their feedback and adoption trace back to it
            await self._record(RecommendRequest(p, mode=Mode.GROUP, k=k, platform=platform), request_id, items,
                               False, ranked)
        return RecommendationList(request_id, Mode.GROUP, tuple(recorded))

    # -- pieces --------------------------------------------------------------------------------------------------
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

    async def _find_show(self, title: str, dep: Deployment) -> tuple[int | None, ShowMeta]:
        """The show asked for in ``like:``: the indexed show with that title (the most voted of namesakes), else
        the catalogue's."""
        if norm_title(title):
            cat = dep.catalogue
            hits = cat.titled(title)
            if hits:
                best = max(hits, key=lambda i: float(cat.metas[i].vote_count or 0))    # the best known namesake
                return int(cat.ids[best]), cat.metas[best]
            for hit in self.catalogue.search(title):
                found = self.catalogue.find(ShowIds(tmdb=hit.tmdb_id))
                if found is not None:
                    return None, found.meta
            live = await self._search_live(title)
            if live is not None:
                return None, live
        raise MultitudesError(f"like {title!r}", user_message=f"I don't know a show called {title!r}.")

    async def _search_live(self, title: str) -> ShowMeta | None:
        """A show nobody here knows, from TMDB's title search (the exact title first, else TMDB's best match)."""
        tmdb = self.sources.tmdb
        if tmdb is None:
            return None
        try:
            hits = await tmdb.search_tv(title)
            want = norm_title(title)
            exact = [h for h in hits if want in (norm_title(h.name), norm_title(h.original_name or ""))]
            best = (exact or hits[:1])
            return await tmdb.tv(best[0].tmdb_id) if best else None
        except MultitudesError as e:            # TMDB down: the offline answer stands
            log.info("live title search failed: %s", e)
            return None

    async def _seeds(self, report: PersonaReport, job: Job) -> list[dict[str, Any]]:
        """Shows to expand from with the live lists: the asked-for show, then each persona's medoid and best
        representatives."""
        personas = list(report.personas)
        if job.persona is not None:
            personas = [personas[job.persona]]
        elif job.bridge is not None:
            personas = [personas[job.bridge[0]], personas[job.bridge[1]]]
        ids = [sid for p in personas for sid in [p.medoid.show_id, *[s.show_id for s in p.shows[:2]]]]
        like_id = job.like[0] if job.like is not None else None
        async with self.store.read() as uow:
            rows = await uow.shows.many(ids + ([like_id] if like_id is not None else []))
        out: list[dict[str, Any]] = [{"show_id": i, "trakt_id": rows[i].ids.trakt, "tmdb_id": rows[i].ids.tmdb}
                                     for i in ids if i in rows]
        if job.like is not None:
            lid, lmeta = job.like
            known = rows.get(lid) if lid is not None else None
            out.insert(0, {"show_id": lid, "trakt_id": known.ids.trakt if known else None,
                           "tmdb_id": lmeta.tmdb_id or (known.ids.tmdb if known else None)})
        return out

    async def _materialise(self, cands: list[Candidate]) -> list[Candidate]:
        """Give every candidate of a live list an internal show id and, where the list payload was thin, full
        metadata."""
        if not cands:
            return []
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
        return [c for c in cands if c.show_id is not None]

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

    async def _adaptation(self, person_id: int, personas: Sequence[Persona], k: int) -> Adaptation:
        """The feedback loop's say in this request: Thompson draws (made here, on the loop, so the worker gets
        plain numbers), the strategy for each slot, and how often each show was shown and ignored."""
        states = await self.arm_states(person_id, personas)
        # an arm nobody has any evidence on draws nothing: with no data a draw is pure noise, and persona weights
        # jittering at random from one request to the next reads as a broken list
        sources = adapt.draw({s.arm: (s.alpha, s.beta) for s in states if s.kind == "source"
                              and s.alpha + s.beta > 2 + EVIDENCE_MIN}, self._rng)
        by_persona = adapt.draw({s.arm: (s.alpha, s.beta) for s in states if s.kind == "persona"
                                 and s.shown >= EVIDENCE_MIN}, self._rng)
        post = {s.arm: (s.alpha, s.beta) for s in states if s.kind == "strategy"}
        slots = iter([adapt.pick_strategy(post, self._rng) for _ in range(k)] + ["blend"] * 40)
        before = self.clock.now() - timedelta(days=self.recent_days)
        # persona draws are keyed by persona id; the pipeline's persona vectors carry the same ids
        return Adaptation(sources, {int(a): v for a, v in by_persona.items()},
                          await self.feedback.ignored(person_id, before), post, lambda: next(slots))

    def _item(self, ranked: Ranked, p: Pick, reason: str, rank_: int, personas: Sequence[Persona],
              ids: Mapping[int, ShowIds], region: str | None = None) -> Recommendation:
        sc = ranked.scored
        sid = sc.pool.ids[p.index]
        persona = personas[p.persona] if 0 <= p.persona < len(personas) else None
        return card(sid, sc.pool.metas[p.index], ids.get(sid), region, persona_id=persona.id if persona else None,
                    persona_name=persona.name if persona else None, reason=reason, score=round(p.score, 4),
                    sources=tuple(sorted(sc.pool.sources[p.index])), rank=rank_,
                    lifecycle=sc.lifecycle_label[p.index], strategy=p.strategy)

    async def _ids(self, ranked: Ranked) -> dict[int, ShowIds]:
        """Outside ids (Trakt, TMDB, IMDb) of the picks and of the LLM's shortlist."""
        want = {ranked.scored.pool.ids[i] for i in [p.index for p in ranked.picks] + ranked.shortlist[:60]}
        async with self.store.read() as uow:
            recs = await uow.shows.many(want)
        return {sid: r.ids for sid, r in recs.items()}

    async def _llm(self, items: list[Recommendation], ranked: Ranked, personas: Sequence[Persona],
                   req: RecommendRequest, job: Job, ids: Mapping[int, ShowIds]
                   ) -> tuple[list[Recommendation], bool, int]:
        """Offer the LLM a shortlist (our picks first, then the next best); it chooses and words the reasons.
        The persona each pick serves stays ours; what does not validate is dropped and backfilled."""
        assert self.llm is not None
        sc = ranked.scored
        chosen = [p.index for p in ranked.picks]
        order = chosen + [i for i in ranked.shortlist if i not in set(chosen)]
        short: list[ShortItem] = []
        for i in order[: max(3 * req.k, 15)]:
            m = sc.pool.metas[i]
            a = int(sc.assign[i])
            pname = personas[a].name if 0 <= a < len(personas) else "-"
            short.append(ShortItem(sc.pool.ids[i], f"{sc.pool.ids[i]} | {m.display_title} ({m.first_year}) | "
                                                   f"{', '.join(m.genres[:3])} | {pname} | "
                                                   f"{sc.lifecycle_label[i] or ''}"))
        lines = [f"{p.id}: {p.name} ({p.weight:.0%}) — e.g. {p.medoid.title}, "
                 + ", ".join(x.title for x in p.shows[:2]) for p in personas]
        like = job.like[1].display_title if job.like else req.like
        task = {"all": "One pick per persona.", "bridge": "Shows that suit both personas at once.",
                "persona": "Picks for this one persona.", "like": f"Shows like {like}; name it in each reason.",
                "mood": f"The person's mood: {req.mood!r}.",
                "crowd": "Shows that people who share the person's tastes rate highly."
                }.get(req.mode, "A varied list across the personas.")
        choice = await pick_and_explain(self.llm, lines, short, len(items), task)
        if choice is None or not choice.picks:
            return items, False, 0
        by_id = {r.show_id: r for r in items}
        index_of = {sc.pool.ids[i]: i for i in order}
        out: list[Recommendation] = []
        for p in choice.picks:
            base = by_id.get(p.id)
            if base is None:
                i = index_of[p.id]
                a = int(sc.assign[i])
                base = self._item(ranked, Pick(i, a, 0.0, "llm"), "", 0, personas, ids, job.filters.region)
            reason = clean_reason(p.reason) or base.reason      # the model's words, as plain text, or ours
            out.append(replace(base, reason=reason, strategy="llm" if p.id not in by_id else base.strategy))
        for r in items:                                     # backfill what the LLM dropped or invented
            if len(out) >= len(items):
                break
            if r.show_id not in {o.show_id for o in out}:
                out.append(r)
        return [replace(r, rank=i + 1) for i, r in enumerate(out)], True, choice.prompt_tokens

    async def _cold_start(self, req: RecommendRequest) -> RecommendationList:
        """No history yet: popular and airing picks that say why, recorded like any list (feedback works)."""
        dep = await self.deployments.current()
        async with self.store.read() as uow:
            person = await uow.people.get(req.person_id)
            since = self.clock.now() - timedelta(days=self.recent_days)
            excluded = await uow.events.excluded(req.person_id, self.max_watched_episodes, since)
        filters = req.filters
        if req.apply_defaults and person is not None:
            filters = filters.over(person.settings.default_filters)
        region = person.settings.region if person is not None else None
        filters = replace(filters, region=filters.region or region)
        picks = await offload(cold_start, dep.catalogue, dep.population, excluded, _ok(filters, None),
                              self.clock.now(), req.k, self.profile.half_life_days)
        note = ("You have no viewing history here yet, so these are popular and airing shows. Link Trakt or import "
                "your history (a Trakt export or Netflix viewing activity) and I will learn your tastes.")
        if not picks:
            return RecommendationList(uuid.uuid4().hex[:12], req.mode, (), note=note)
        cat = dep.catalogue
        async with self.store.read() as uow:
            recs = await uow.shows.many([int(cat.ids[i]) for i, _, _, _ in picks])
        items = [card(int(cat.ids[i]), cat.metas[i], recs[int(cat.ids[i])].ids if int(cat.ids[i]) in recs else None,
                      filters.region, persona_id=None, persona_name=None, reason=reason, score=0.0, sources=(source,),
                      rank=rank_, lifecycle=words, strategy="cold")
                 for rank_, (i, reason, source, words) in enumerate(picks, start=1)]
        request_id = uuid.uuid4().hex[:12]
        items = await self._record(req, request_id, items, False, metas={int(cat.ids[i]): cat.metas[i]
                                                                         for i, _, _, _ in picks})
        return RecommendationList(request_id, req.mode, tuple(items), note=note)

    async def _record(self, req: RecommendRequest, request_id: str, items: list[Recommendation],
                      llm_used: bool, ranked: Ranked | None = None, *,
                      metas: Mapping[int, ShowMeta] | None = None) -> list[Recommendation]:
        events = [NewEvent(req.person_id, r.show_id, request_id, "group" if req.mode == Mode.GROUP else r.strategy,
                           r.persona_id, tuple(r.sources), r.rank, req.mode, r.score, r.reason, llm_used, req.platform)
                  for r in items]
        if metas is None:
            assert ranked is not None
            metas = {sid: m for sid, m in zip(ranked.scored.pool.ids, ranked.scored.pool.metas, strict=True)}
        now = self.clock.now()
        async with self.store.unit() as uow:
            ids = await uow.events.record(events, now)
            # what we showed must be known later (feedback, alerts, adoption) even if nobody's history holds it
            await uow.shows.save_missing_metas([(r.show_id, metas[r.show_id]) for r in items
                                                if r.show_id in metas and not metas[r.show_id].partial],
                                               now, now + timedelta(days=7))
        return [replace(r, event_id=e) for r, e in zip(items, ids, strict=True)]


def card(sid: int, m: ShowMeta, ref: ShowIds | None, region: str | None, *, persona_id: int | None,
         persona_name: str | None, reason: str, score: float, sources: tuple[str, ...], rank: int,
         lifecycle: str | None, strategy: str) -> Recommendation:
    """A pick as every front end shows it: what the metadata says, where it streams in ``region``, critic scores,
    and links from real ids only."""
    trakt = ref.trakt if ref is not None else None
    tmdb = (ref.tmdb if ref is not None else None) or m.tmdb_id
    imdb = m.imdb_id or (ref.imdb if ref is not None else None)
    trakt_url, tmdb_url, imdb_url = links(m, ref.slug if ref is not None else None, trakt, tmdb, imdb)
    return Recommendation(
        show_id=sid, title=m.display_title, year=m.first_year, persona_id=persona_id, persona_name=persona_name,
        reason=reason, score=score, sources=sources, rank=rank, overview=m.overview[:400], genres=m.genres,
        network=m.networks[0] if m.networks else None, providers=m.providers_in(region),
        poster_url=f"https://image.tmdb.org/t/p/w342{m.poster_path}" if m.poster_path else None,
        status=m.status, lifecycle=lifecycle, strategy=strategy, imdb_id=imdb, trakt_id=trakt, tmdb_id=tmdb,
        scores=critic_scores(m), trakt_url=trakt_url, tmdb_url=tmdb_url, imdb_url=imdb_url)


def links(m: ShowMeta, slug: str | None, trakt: int | None, tmdb: int | None,
          imdb: str | None) -> tuple[str | None, str | None, str | None]:
    """(Trakt, TMDB, IMDb) links of a card, built only from real ids (the bundled demo data's made-up Trakt and
    TMDB ids would link nowhere, or to another show)."""
    real_trakt = not (m.made_up("trakt_id") or m.made_up("slug"))
    return (f"https://trakt.tv/shows/{slug or trakt}" if real_trakt and (slug or trakt) else None,
            f"https://www.themoviedb.org/tv/{tmdb}" if tmdb and not m.made_up("tmdb_id") else None,
            f"https://www.imdb.com/title/{imdb}/" if imdb else None)


def _own(stats: Mapping[str, ArmStats], arm: str) -> tuple[int, int]:
    st = stats.get(arm)
    return (round(st.shown), round(st.adopted)) if st else (0, 0)


def _ok(filters: Filters, mood: Mood | None) -> Callable[[ShowMeta], bool] | None:
    if mood is None and filters == Filters():
        return None

    def ok(m: ShowMeta) -> bool:
        return passes(m, filters) and (mood is None or mood.fits(m))
    return ok


# -- the worker's part -------------------------------------------------------------------------------------------
def persona_vectors(report: PersonaReport, dep: Deployment) -> PersonaCache:
    """Each persona as a unit centroid of its members' rows (weighted by engagement) in the deployment's layout,
    its representatives (most central first), and the person's genre distribution."""
    vecs: list[PersonaVec] = []
    titles: dict[int, str] = {}
    weighted: list[ShowMeta] = []
    ws: list[float] = []
    cat = dep.catalogue
    for p in report.personas:
        members = [m for m in p.member_ids if m in cat.pos]
        if not members:
            continue
        mw = dict(zip(p.member_ids, p.member_weights or (1.0,) * len(p.member_ids), strict=False))
        w = np.array([max(mw.get(m, 1.0), 0.0) for m in members])
        rows = cat.rows[[cat.pos[m] for m in members]]
        c = np.asarray(rows.T @ w).ravel()
        norm = float(np.linalg.norm(c))
        if norm <= 0:
            continue
        for m in members[:REPRESENTATIVES]:
            meta = cat.meta(m)
            titles[m] = meta.display_title if meta is not None else f"show {m}"
        # float32: this vector lives in a per-person cache of up to 256 people; single precision is plenty for
        # cosines and halves what the cache holds
        vecs.append(PersonaVec(p.id, p.name, p.weight, (c / norm).astype(np.float32), members, p.trend, p.hours,
                               p.weekdays, p.genres))
        total = float(w.sum()) or 1.0
        for m, x in zip(members, w, strict=True):
            meta = cat.meta(m)
            if meta is not None:
                weighted.append(meta)
                ws.append(p.weight * x / total)
    sims = cat.affinity(vecs) if vecs and len(cat.ids) else None
    return PersonaCache(report.computed_at, dep.key, vecs, titles, genre_distribution(weighted, ws), sims)


def rank(job: Job, profile: Profile) -> Ranked:
    """Sources, exclusion, scorers, the mode's selector and template reasons (in a worker thread)."""
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
    like_row = None
    if job.like is not None:
        lid, lmeta = job.like
        like_row = dep.rows([lid]) if lid is not None and lid in dep.catalogue.pos else dep.row_of(lmeta)
        like_sources(pool, person, dep.catalogue, dep.population, like_row, lid, allowed=allowed)
    index_sources(pool, person, dep.catalogue, dep.population, profile, now_ts, allowed=allowed, bridge=job.bridge,
                  sims=job.sims)
    if job.like is not None and job.like[0] is not None:
        person = replace(person, seen=person.seen | {job.like[0]})
    metas = dict(zip(pool.ids, pool.metas, strict=True))
    pool = pool.keep(lambda sid, m: sid not in person.seen and not m.empty and (job.ok is None or job.ok(m)))
    if job.like is not None:
        target, before = job.like[1], pool
        pool = pool.keep(lambda sid, m: _related(m, target, before.sources[before.index(sid)]))
    if job.mode == Mode.CROWD:                  # only what the person's crowd proposes
        backed = {sid for sid, src in zip(pool.ids, pool.sources, strict=True) if "crowd" in src}
        pool = pool.keep(lambda sid, m: sid in backed)
    scored = score(pool, person, lambda ids: dep.rows(ids, metas), dep.population, profile, now=now, now_ts=now_ts,
                   adaptation=job.adaptation, like=like_row, focus=job.mood.genres if job.mood else (),
                   catalogue=dep.catalogue)
    if job.mood is not None and job.mood.genres:
        scored = replace(scored, weights=_mood_weights(scored.weights, person, dep, job.mood))
    if job.mode == Mode.GROUP:
        picks = _group_picks(scored, job, profile)
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


def _mood_weights(weights: NDArray[np.float64], person: PersonView, dep: Deployment, mood: Mood) -> NDArray[np.float64]:
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


def _related(m: ShowMeta, like: ShowMeta, sources: Mapping[str, int]) -> bool:
    """A ``like:`` pick is related to the show asked for: a list relates them, or they share a genre other than
    the catch-all drama, or a keyword."""
    if {"like", "trakt_related", "tmdb_recommendations", "tmdb_similar"} & set(sources) and (
            set(m.genres) & set(like.genres)):
        return True
    specific = (set(m.genres) & set(like.genres)) - {"drama"}
    return bool(specific) or bool({k.lower() for k in m.keywords} & {k.lower() for k in like.keywords})


def _group_picks(scored: Scored, job: Job, profile: Profile) -> list[Pick]:
    """Least misery: each member's fit is their best persona's affinity; the pick maximises the worst fit, then
    the mean, then everything else the profile weighs."""
    if not len(scored.pool) or not job.group:
        return []
    A = scored.affinity
    fits = np.stack([A[:, cols].max(axis=1) for _, cols in job.group], axis=1)
    w = np.array([0.0 if s in ("persona", "tone") else profile.weight(s) for s in SIGNALS])
    rel = scored.Z @ w
    rel = (rel - rel.mean()) / (rel.std() or 1.0)
    total = 3.0 * fits.min(axis=1) + 0.5 * fits.mean(axis=1) + 0.3 * rel - scored.penalty
    order = [int(i) for i in np.argsort(-total, kind="stable") if np.isfinite(total[i])][: job.req.k]
    return [Pick(i, int(scored.assign[i]), float(total[i]), "group") for i in order]
