"""The one composition root: every service of the engine is built here, from settings. Production passes
nothing; tests pass a clock or an httpx transport, and point base URLs (in the settings) at loopback fakes."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from httpx_aiohttp import AiohttpTransport

from engine.adapters.jellyfin import JellyfinClient
from engine.adapters.llm import LLM
from engine.adapters.omdb import OmdbClient
from engine.adapters.plex import PlexClient
from engine.adapters.seerr import SeerrClient
from engine.adapters.sonarr import SonarrClient
from engine.adapters.tmdb import TmdbClient
from engine.adapters.trakt import TraktClient
from engine.adapters.trakt.vault import StoreVault
from engine.facade import Engine
from engine.plumbing.caching import CachedLookups
from engine.plumbing.clock import Clock, SystemClock
from engine.plumbing.compute import one_blas_thread
from engine.plumbing.config import Settings
from engine.plumbing.crypto import TokenCipher
from engine.plumbing.http import HttpService
from engine.plumbing.leases import Leases
from engine.ports.mediaserver import NAMES
from engine.recommend.candidates import LiveSources
from engine.recommend.deployment import Deployments
from engine.recommend.group import GroupWatch
from engine.recommend.service import Recommender
from engine.recommend.weights import Profile
from engine.services import Services
from engine.store import Store, open_store
from engine.taste.llm_names import LlmNamer
from engine.taste.llm_tags import tag_shows
from engine.taste.service import PersonaService
from engine.usecases.alerts import AlertService
from engine.usecases.arrivals import Arrivals
from engine.usecases.crowd_refresh import CrowdService
from engine.usecases.digests import DigestService
from engine.usecases.enrich import CatalogueMetadata, Enricher, MetadataSource, TmdbMetadata
from engine.usecases.feedback import FeedbackService
from engine.usecases.library import LibraryService
from engine.usecases.linking import LinkingService
from engine.usecases.media import MediaServers
from engine.usecases.people import PeopleService
from engine.usecases.personal_data import PersonalData
from engine.usecases.publish import Publisher
from engine.usecases.refresh import BackgroundSync
from engine.usecases.review import ReviewService
from engine.usecases.stats import StatsService
from engine.usecases.sync import TraktSync
from engine.usecases.trakt_writes import TraktWriter
from engine.usecases.watching import Watching
from engine.values.catalogue import Catalogue

log = logging.getLogger(__name__)


async def bootstrap(settings: Settings, **kw: Any) -> Engine:
    """The engine for ``settings`` (see ``assemble`` for the keyword arguments)."""
    return (await assemble(settings, **kw))[0]


async def assemble(settings: Settings, *, clock: Clock | None = None, store: Store | None = None,
                    transport: httpx.AsyncBaseTransport | None = None, catalogue: Catalogue | None = None,
                    seed: int | None = None, lists: LiveSources | None = None,
                    profile: Profile | None = None) -> tuple[Engine, Services]:
    """``seed`` is the base of the recommender's exploration draws (each person's are seeded per person and day, so
    the same state gives the same list; production leaves it 0). ``lists``: where a request's outside lists come
    from instead of the configured Trakt and TMDB (``multitudes eval`` answers them from a dataset)."""
    # numerical work runs in worker threads, one BLAS thread each (engine.plumbing.compute)
    one_blas_thread()
    clock = clock or SystemClock()
    store = store or open_store(settings.storage.target)
    await store.open()
    sec = settings.secrets
    clients: list[httpx.AsyncClient] = []

    def client(max_conn: int) -> httpx.AsyncClient:
        # httpx's API (the retry policy, the tests' transports) over aiohttp's wire code: about half the CPU per
        # request of httpx's own transport, which is what a 200-page sync spends most of its client time on
        limits = httpx.Limits(max_connections=max_conn)
        c = httpx.AsyncClient(transport=transport or AiohttpTransport(limits=limits), limits=limits,
                              follow_redirects=True)
        clients.append(c)
        return c

    lookups = CachedLookups(store, clock)
    trakt = None
    if settings.trakt_enabled:
        assert sec.trakt_client_id and sec.trakt_client_secret and sec.secret_key
        http = HttpService("Trakt", client(settings.trakt.page_concurrency * 2), settings.trakt.http, clock,
                           concurrency=settings.trakt.page_concurrency * 2)
        trakt = TraktClient(settings.trakt, sec.trakt_client_id, sec.trakt_client_secret, http,
                            StoreVault(store, TokenCipher(sec.secret_key), clock), clock, lookups)
    catalogue = catalogue or Catalogue()
    tmdb = None
    metadata: MetadataSource
    if settings.tmdb_enabled:
        assert sec.tmdb_api_key
        tmdb_http = HttpService("TMDB", client(settings.tmdb.concurrency), settings.tmdb.http, clock,
                                concurrency=settings.tmdb.concurrency)
        tmdb = TmdbClient(settings.tmdb, sec.tmdb_api_key, tmdb_http, store, clock)
        omdb = None
        if settings.omdb_enabled:
            assert sec.omdb_api_key
            omdb = OmdbClient(settings.omdb, sec.omdb_api_key,
                              HttpService("OMDb", client(4), settings.omdb.http, clock, concurrency=4), store, clock)
        metadata = TmdbMetadata(tmdb, omdb)
    else:
        metadata = CatalogueMetadata(catalogue)
    enricher = Enricher(store, metadata, clock, concurrency=settings.tmdb.concurrency)
    server = None
    if settings.mediaserver_enabled:
        ms = settings.mediaserver
        assert sec.mediaserver_api_key and ms.kind
        ms_http = HttpService(NAMES[ms.kind], client(4), ms.http, clock, concurrency=4)
        server = (PlexClient(ms.base_url, sec.mediaserver_api_key, ms_http, ms.plex_tv_url) if ms.kind == "plex"
                  else JellyfinClient(ms.kind, ms.base_url, sec.mediaserver_api_key, ms_http))
    seerr = None
    if settings.seerr_enabled:
        assert sec.seerr_api_key
        seerr = SeerrClient(settings.seerr.base_url, sec.seerr_api_key,
                            HttpService("Seerr", client(2), settings.seerr.http, clock, concurrency=2))
    sonarr = None
    if settings.sonarr_enabled and seerr is None:          # Seerr, when there, is how requests are made
        assert sec.sonarr_api_key
        sonarr = SonarrClient(settings.sonarr.base_url, sec.sonarr_api_key,
                              HttpService("Sonarr", client(2), settings.sonarr.http, clock, concurrency=2),
                              root_folder=settings.sonarr.root_folder,
                              quality_profile_id=settings.sonarr.quality_profile_id)
    closers: list[Callable[[], Awaitable[Any]]] = [c.aclose for c in clients]
    llm = None
    if settings.llm_enabled:
        llm = LLM(settings.llm, sec.llm_api_key, settings.logging.prompt_log)
        closers.append(llm.close)

    feedback = FeedbackService(store, clock, finish_share=settings.feedback.finish_share, trakt=trakt)
    rec = settings.recommend
    people = PeopleService(store, clock, settings, trakt)
    # co-watching (and "popular here") come only from people who said their history may shape others' picks
    deployments = Deployments(store, clock, catalogue, seed=seed or 0, cowatch_people=people.cowatch_people,
                              rebuild_every_s=rec.rebuild_minutes * 60.0)
    closers.append(deployments.close)
    personas = PersonaService(
        store, clock, namer=LlmNamer(llm) if llm is not None else None,
        tagger=(lambda ids: tag_shows(llm, store, ids)) if llm is not None else None,
        cowatch=deployments.population)
    # strangers' pseudonyms are keyed by the deployment's secret, so hashing known usernames cannot reverse them
    salt = hashlib.sha256(b"public-graph:" + sec.secret_key.encode()).digest() if sec.secret_key else None
    crowd = CrowdService(store, clock, settings.crowd, trakt, lookups, personas, enricher.enrich_quietly,
                         seed=seed or 0, **({"salt": salt} if salt else {}))
    recommender = Recommender(store, clock, personas, deployments, lists or LiveSources(trakt=trakt, tmdb=tmdb),
                              catalogue, enricher.enrich_quietly, llm, feedback,
                              max_watched_episodes=rec.max_watched_episodes, recent_days=rec.recent_days,
                              adaptive=rec.adaptive, seed=seed, crowd=crowd, profile=profile)
    people.on_forget += [recommender.forget, crowd.forget]
    people.name_services = recommender.services_named
    people.on_consent.append(recommender.deployments.invalidate)
    alerts = AlertService(store, clock, settings.alerts, trakt=trakt, enrich=enricher.enrich_quietly,
                          arrivals=Arrivals(store, clock, region=settings.tmdb.region, enrich=enricher.enrich_quietly,
                                            matches=recommender.close_matches))
    syncer = (TraktSync(store, trakt, clock, settings.sync, settings.trakt.page_concurrency,
                        on_shows=enricher.prefetch) if trakt else None)

    async def titles(text: str, limit: int, what: str = "shows") -> list[str]:
        if what == "services":                   # `/settings services:` as it is typed: the last name completed
            head, _sep, last = text.rpartition(",")
            names = [n for n in await recommender.known_services(settings.tmdb.region)
                     if last.strip().casefold() in n.casefold()]
            return [f"{head},{n}" if head else n for n in names][:limit]
        if tmdb is not None and text.strip():
            return list(dict.fromkeys(h.name for h in await tmdb.search_tv(text) if h.name))[:limit]
        return catalogue.titles_like(text, limit)

    personal = PersonalData(store, clock, personas)
    media = MediaServers(store, clock, settings.mediaserver, server, seerr,
                         stale_minutes=settings.sync.stale_after_minutes, wave_people=settings.sync.wave_people,
                         sonarr=sonarr, sonarr_people=frozenset(settings.feedback.owners) | set(settings.sonarr.people))
    linking = LinkingService(store, clock, trakt)
    people.on_forget.append(media.cancel)
    library = LibraryService(store, clock, settings.imports, enricher, feedback, syncer, personal.restore, media)
    media.sync_person = library.sync
    media.on_shows = enricher.prefetch
    recommender.library, recommender.can_request = media.library, media.can_request
    publisher = Publisher(store, clock, trakt, server)
    background = (BackgroundSync(store, clock, settings.sync, library.sync, trakt.http.name)
                  if trakt is not None else None)
    services = Services(
        store=store, people=people, linking=linking,
        library=library, background=background, crowd=crowd, leases=Leases(store, clock), personas=personas,
        recommender=recommender, group=GroupWatch(recommender), feedback=feedback, alerts=alerts,
        digests=DigestService(store, clock, settings.feedback, alerts, recommender.recommend),
        stats=StatsService(store, feedback, personas, recommender), titles=titles,
        watching=Watching(store, clock, recommender, feedback, trakt), personal=personal,
        review=ReviewService(store, clock, personas), trakt_writes=TraktWriter(store, clock, trakt), media=media,
        publisher=publisher)
    return Engine(settings, clock, services, demo=trakt is None, closers=closers), services
