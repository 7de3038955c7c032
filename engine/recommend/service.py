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
from dataclasses import replace
from datetime import timedelta
from typing import Any

import numpy as np

from engine.plumbing.clock import Clock
from engine.plumbing.compute import offload
from engine.plumbing.prompt_log import about
from engine.ports.llm import LlmPort
from engine.recommend.bandit import Bandit
from engine.recommend.candidates import LiveSources
from engine.recommend.cards import card
from engine.recommend.deployment import Deployment, Deployments, seconds
from engine.recommend.known import find_persona, known_words, served_index, services_named
from engine.recommend.llm_pick import choose
from engine.recommend.localize import in_their_language, localized, translations_of
from engine.recommend.mood import Mood, read_mood
from engine.recommend.mood_llm import read_mood_llm
from engine.recommend.outside import Outside
from engine.recommend.pipeline import PersonView, Pick, cold_start, per_persona
from engine.recommend.ranking import Job, Ranked, fits, rank
from engine.recommend.readers import CrowdReader, FeedbackReader
from engine.recommend.recorder import record
from engine.recommend.vectors import PersonaCache, closest, persona_vectors
from engine.recommend.weights import Profile, shipped
from engine.store import Store
from engine.taste.temporal import local
from engine.values.catalogue import Catalogue
from engine.values.errors import MultitudesError
from engine.values.i18n import _, ngettext
from engine.values.meta import ShowMeta
from engine.values.models import (
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

log = logging.getLogger(__name__)


class Recommender:
    def __init__(self, store: Store, clock: Clock, personas: Any, deployments: Deployments, sources: LiveSources,
                 catalogue: Catalogue, enrich: Callable[[Sequence[int]], Awaitable[int]], llm: LlmPort | None,
                 feedback: FeedbackReader, *, profile: Profile | None = None, max_watched_episodes: int = 0,
                 recent_days: int = 14, adaptive: bool = True, seed: int | None = None,
                 crowd: CrowdReader | None = None) -> None:
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
        self.bandit = Bandit(clock, feedback, seed=seed or 0, recent_days=recent_days)
        self.outside = Outside(store, catalogue, sources, enrich)
        self._people: OrderedDict[int, PersonaCache] = OrderedDict()
        # the shows on a person's media server (None: none linked) and whether picks can become requests (Seerr):
        # ``engine.usecases.media``, set by bootstrap
        self.library: Callable[[int], Awaitable[frozenset[int] | None]] | None = None
        self.can_request: Callable[[int], Awaitable[bool]] | None = None

    def forget(self, person_id: int) -> None:
        """Drop what memory holds of a person (their persona vectors)."""
        self._people.pop(person_id, None)

    async def excluded(self, person_id: int) -> set[int]:
        """Internal show ids never to recommend now: played beyond ``max_watched_episodes`` (by default any play),
        rated, hidden or dropped, dismissed, or recommended within ``recent_days``."""
        since = self.clock.now() - timedelta(days=self.recent_days)
        async with self.store.read() as uow:
            return await uow.events.excluded(person_id, self.max_watched_episodes, since)

    async def services_named(self, words: Sequence[str], region: str | None = None) -> tuple[str, ...]:
        """The streaming services these words name (``/settings services:``), as TMDB names them for the person's
        country (where TMDB is configured) and as the indexed shows' metadata names them; a word that names none is
        refused with the closest services."""
        return services_named(words, await self.known_services(region))

    async def known_services(self, region: str | None = None) -> list[str]:
        """Every streaming service a person may name: TMDB's list for the country (cached a day), then the ones the
        indexed shows carry."""
        known = list((await self.deployments.current()).catalogue.streaming())
        listed = getattr(getattr(self.sources, "tmdb", None), "providers", None)
        if listed is not None:
            try:
                known = list(dict.fromkeys([*await listed(region or "US"), *known]))
            except MultitudesError as e:      # TMDB down: the names the shows already carry still serve
                log.info("TMDB providers unavailable: %s", type(e).__name__)
        return known

    async def seen(self, person_id: int) -> set[int]:
        """Shows the person played, rated, hid, dropped or dismissed (what was recently shown to them is not)."""
        async with self.store.read() as uow:
            return await uow.events.excluded(person_id, self.max_watched_episodes, self.clock.now())

    async def crowd_lately(self, person_id: int) -> dict[int, list[str]]:
        """For each persona, what the person's crowd rated highly lately (``engine.usecases.crowd_refresh``)."""
        if self.crowd is None:
            return {}
        report = await self.personas.personas(person_id)
        return await self.crowd.lately(person_id, report, await self.seen(person_id))

    async def close_matches(self, person_id: int, k: int = 10) -> set[int]:
        """The ``k`` shows closest to each of the person's personas that they have not seen (the arrivals scan
        watches where these stream); computed in a worker from the vectors a request keeps."""
        report = await self.personas.personas(person_id)
        if not report.personas:
            return set()
        dep = await self.deployments.current()
        cache = await self.vectors(person_id, report, dep)
        return await offload(closest, cache, list(dep.catalogue.ids), await self.seen(person_id), k)

    async def vectors(self, person_id: int, report: PersonaReport, dep: Deployment) -> PersonaCache:
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
        pc = await self.vectors(pid, report, dep)
        times = seconds([t for _, t in played]) if played else np.zeros(0)
        watched = {sid: float(t) for (sid, _), t in zip(played, times, strict=True)}
        now = self.clock.now()
        tz = person.timezone if person else None
        view = PersonView(list(pc.vecs), (excluded | set(watched)) if self.max_watched_episodes == 0 else excluded,
                          watched, max(watched.values()) if watched else None,
                          local(now, tz) if req.use_context else None, nope, pc.genres, id=pid)
        filters = req.filters
        if req.apply_defaults and person is not None:
            filters = filters.over(person.settings.default_filters)
        if person is not None and person.settings.region and not filters.region:
            filters = replace(filters, region=person.settings.region)
        mine = person.settings.services if person is not None else ()
        if filters.provider and filters.provider.casefold() == "mine":
            if not mine:
                raise MultitudesError("provider:mine without services", user_message=_(
                    "Tell me which services you have first, e.g. `/settings services:netflix,max`; then "
                    "`provider:mine` keeps to them."))
            filters = replace(filters, provider=None, services=mine)
        lang = (person.settings.lang if person is not None else None) or req.lang
        view = replace(view, services=mine, region=filters.region, lang=lang)
        metas = {sid: r.meta for sid, r in stored.items() if r.has_meta and not r.meta.empty}
        watchlist = [(s, dep.catalogue.meta(s) or metas.get(s)) for s in listed if s not in view.seen]
        return view, pc, filters, linked, watchlist

    async def recommend(self, req: RecommendRequest) -> RecommendationList:
        if not 1 <= req.k <= 20:
            raise MultitudesError(f"k={req.k}", user_message=_("Ask for between 1 and 20 recommendations."))
        prepared = await self.prepare(req)
        if isinstance(prepared, RecommendationList):       # a first list (no history yet), or a note
            return replace(prepared, items=tuple(await in_their_language(self.store, req, list(prepared.items),
                                                                         self.sources.tmdb)))
        job, _report, note, mood, filters = prepared
        personas = job.served
        ranked = await offload(rank, job, self.profile)
        if not ranked.picks:
            return RecommendationList(uuid.uuid4().hex[:12], req.mode, (), note=(note + " " if note else "")
                                      + _("Nothing new matches that right now; try fewer filters."))
        ids = await self.ids(ranked)
        shown = replace(filters, genres_in=(*filters.genres_in, *mood.genres)) if mood is not None else filters
        shown = replace(shown, services=job.person.services)
        items = [self.item(ranked, p, reason, n + 1, personas, ids, shown) for n, (p, reason) in
                 enumerate(zip(ranked.picks, ranked.reasons, strict=True))]
        llm_calls = llm_tokens = 0
        llm_used = False
        if self.llm is not None and req.use_llm:
            calls_before = self.llm.stats.calls
            items, llm_used, llm_tokens = await choose(self.llm, items, ranked, personas, req, job, ids, self.item)
            llm_calls = self.llm.stats.calls - calls_before
        request_id = uuid.uuid4().hex[:12]
        items = await self.record(req, request_id, items, llm_used, ranked)
        items = await self.mark_library(req.person_id, items, job.only)
        items = await localized(items, job.person.lang, translations_of(self.sources.tmdb))
        wanted = per_persona(req.k, len(personas)) * len(personas) if job.mode == Mode.ALL else req.k
        if len(items) < wanted:
            why = (ngettext("Only {n} new show fits “{mood}”.", "Only {n} new shows fit “{mood}”.", len(items))
                   if mood is not None else ngettext("Only {n} new show fits; the rest would repeat.",
                                                     "Only {n} new shows fit; the rest would repeat.", len(items))
                   ).format(n=len(items), mood=req.mood)
            note = (note + " " if note else "") + why
        return RecommendationList(request_id, req.mode, tuple(items), note=note.strip(), llm_used=llm_used,
                                  llm_calls=llm_calls, prompt_tokens=llm_tokens)

    async def prepare(self, req: RecommendRequest
                      ) -> tuple[Job, PersonaReport, str, Mood | None, Filters] | RecommendationList:
        """Everything a request reads before ranking — personas, the deployment, the person, the live lists, the
        bandit's draws — as the worker's ``Job`` (or the answer itself: a cold start, no crowd yet)."""
        report = await self.personas.personas(req.person_id)
        if not report.personas:
            return await self._cold_start(req)
        dep = await self.deployments.current()
        view, pc, filters, linked, watchlist = await self._person(req, report, dep)
        if self.crowd is not None:                     # built in the background; read here, never fetched
            view = replace(view, crowd=await self.crowd.crowd(req.person_id, report))
        if req.mode == Mode.CROWD and (view.crowd is None or view.crowd.population.B is None):
            return RecommendationList(uuid.uuid4().hex[:12], req.mode, (), note=_(
                "I have not found people who share your tastes yet: I look for them on Trakt in the background "
                "(Trakt must be configured here). Try `recommend` meanwhile."))
        # the personas the pipeline serves: those with a vector (a persona none of whose shows the deployment
        # indexes has none), in the vectors' order — every persona index of the job and its picks means this list
        by_id = {p.id: p for p in report.personas}
        personas = [by_id[v.id] for v in pc.vecs]
        job = Job(req, dep, view, req.mode, titles=pc.titles, now=self.clock.now(), sims=pc.sims, served=personas)
        if req.library:
            job.only = await self._library(req.person_id)
        note = ""
        mood: Mood | None = None
        if req.mode == Mode.PERSONA:
            job.persona = served_index(personas, find_persona(report.personas, req.persona))
        elif req.mode == Mode.BRIDGE:
            a, b = req.bridge or (None, None)
            everyone = list(report.personas)
            if len(personas) < 2 and not (a and b):
                raise MultitudesError("bridge without two personas", user_message=_(
                    "A bridge needs two sides of your taste I can recommend for, and I have fewer right now."))
            pa = find_persona(everyone, a) if a else personas[0]
            pb = find_persona(everyone, b) if b else next((p for p in personas if p.id != pa.id), pa)
            if pa.id == pb.id:
                raise MultitudesError("one persona", user_message=_("A bridge needs two different personas."))
            job.bridge = (served_index(personas, pa), served_index(personas, pb))
        elif req.mode == Mode.LIKE:
            job.like = await self.outside.find_show(req.like or "", dep)
        elif req.mode == Mode.MOOD:
            mood = read_mood(req.mood or "")
            asked = (req.mood or "").strip('"“”')
            helped = ""
            if not mood.genres and self.llm is not None and req.use_llm:    # free text the word lists miss
                about(req.person_id)
                read = await read_mood_llm(self.llm, asked, mood)
                if read is not None:
                    mood, runtime, provider = read
                    if provider and not any(provider.lower() in name.lower() for name in dep.catalogue.services()):
                        provider = None                     # a service the model named that no show here is on
                    filters = replace(filters, max_runtime=filters.max_runtime or runtime,
                                      provider=filters.provider or provider)
                    helped = " " + _("(read with the help of an LLM)")
            skipped = (" " + _("(leaving out what you said no to: {words})").format(words=", ".join(mood.ignored))
                       if mood.ignored else "")
            if not mood.genres and not mood.short:
                note = _("I could not read a genre into “{text}”{skipped}, so here is your usual mix.").format(
                    text=asked, skipped=skipped)
                job.mode = Mode.AUTO
                mood = None
            else:
                runtime_said = (", " + _("episodes under {n} min").format(n=filters.max_runtime)
                                if helped and filters.max_runtime and not mood.short else "")
                note = _("Read “{text}” as: {words}.").format(text=asked, words=f"{mood.words}{runtime_said}"
                                                               f"{skipped}{helped}")
        known_words(filters, dep)
        job.ok, job.filters, job.mood = fits(filters, mood), filters, mood
        job.watchlist = watchlist
        if self.sources.live:
            seeds = await self.outside.seeds(report, job)
            job.live = await self.outside.materialise(await self.sources.gather(
                req.person_id, report, seeds, linked, job.like[1] if job.like else None))
        if self.adaptive and job.mode in (Mode.AUTO, Mode.MOOD, Mode.LIKE, Mode.PERSONA, Mode.CROWD):
            job.adaptation = await self.bandit.adaptation(req.person_id, personas, req.k)
        return job, report, note, mood, filters

    async def _library(self, person_id: int) -> frozenset[int]:
        lib = await self.library(person_id) if self.library is not None else None
        if lib is None:
            raise MultitudesError("library without a server", user_message=_(
                "`recommend library` keeps to what your media server has: link it first (`/link jellyfin` or "
                "`/link emby`, when this bot has one)."))
        return lib

    async def mark_library(self, person_id: int, items: list[Recommendation],
                           lib: frozenset[int] | None = None) -> list[Recommendation]:
        """"In your library" or "request it" on each card, for someone whose media server is linked (``lib``: the
        server's shows, when the request already read them)."""
        if lib is None and self.library is not None:
            lib = await self.library(person_id)
        if lib is None:
            return items
        asks = self.can_request is not None and await self.can_request(person_id)
        return [replace(it, in_library=it.show_id in lib, requestable=asks and it.show_id not in lib) for it in items]

    def item(self, ranked: Ranked, p: Pick, reason: str, rank_: int, personas: Sequence[Persona],
              ids: Mapping[int, ShowIds], filters: Filters | None = None) -> Recommendation:
        sc = ranked.scored
        sid = sc.pool.ids[p.index]
        persona = personas[p.persona] if 0 <= p.persona < len(personas) else None
        return card(sid, sc.pool.metas[p.index], ids.get(sid), filters.region if filters else None,
                    persona_id=persona.id if persona else None,
                    persona_name=persona.name if persona else None, reason=reason, score=round(p.score, 4),
                    sources=tuple(sorted(sc.pool.sources[p.index])), rank=rank_,
                    lifecycle=sc.lifecycle_label[p.index], strategy=p.strategy,
                    wanted=filters.genres_in if filters else (), services=filters.services if filters else ())

    async def ids(self, ranked: Ranked) -> dict[int, ShowIds]:
        """Outside ids (Trakt, TMDB, IMDb) of the picks and of the LLM's shortlist."""
        want = {ranked.scored.pool.ids[i] for i in [p.index for p in ranked.picks] + ranked.shortlist[:60]}
        async with self.store.read() as uow:
            recs = await uow.shows.many(want)
        return {sid: r.trusted_ids for sid, r in recs.items()}

    async def _cold_start(self, req: RecommendRequest) -> RecommendationList:
        """No history yet: popular and airing picks that say why, recorded like any list (feedback works)."""
        dep = await self.deployments.current()
        async with self.store.read() as uow:
            person = await uow.people.get(req.person_id)
        excluded = await self.excluded(req.person_id)
        filters = req.filters
        if req.apply_defaults and person is not None:
            filters = filters.over(person.settings.default_filters)
        region = person.settings.region if person is not None else None
        filters = replace(filters, region=filters.region or region)
        picks = await offload(cold_start, dep.catalogue, dep.population, excluded, fits(filters, None),
                              self.clock.now(), req.k, self.profile.half_life_days)
        note = _("You have no viewing history here yet, so these are popular and airing shows. Link Trakt or import "
                 "your history (a Trakt export or Netflix viewing activity) and I will learn your tastes.")
        if not picks:
            return RecommendationList(uuid.uuid4().hex[:12], req.mode, (), note=note)
        cat = dep.catalogue
        async with self.store.read() as uow:
            recs = await uow.shows.many([int(cat.ids[i]) for i, _, _, _ in picks])
        items = [card(int(cat.ids[i]), cat.metas[i],
                      recs[int(cat.ids[i])].trusted_ids if int(cat.ids[i]) in recs else None,
                      filters.region, persona_id=None, persona_name=None, reason=reason, score=0.0, sources=(source,),
                      rank=rank_, lifecycle=words, strategy="cold")
                 for rank_, (i, reason, source, words) in enumerate(picks, start=1)]
        request_id = uuid.uuid4().hex[:12]
        items = await self.record(req, request_id, items, False, metas={int(cat.ids[i]): cat.metas[i]
                                                                         for i, _, _, _ in picks})
        return RecommendationList(request_id, req.mode, tuple(items), note=note)

    async def record(self, req: RecommendRequest, request_id: str, items: list[Recommendation],
                     llm_used: bool, ranked: Ranked | None = None, *,
                     metas: Mapping[int, ShowMeta] | None = None) -> list[Recommendation]:
        """Each pick shown becomes an event (``engine.recommend.recorder``); the picks come back with their ids."""
        return await record(self.store, self.clock, req, request_id, items, llm_used, ranked, metas=metas)
