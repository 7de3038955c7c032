"""The composition root: build an Engine from settings. Production passes nothing; tests pass a clock or an
httpx transport, and point base URLs (in the settings) at loopback fakes."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from .catalogue import Catalogue
from .clock import Clock, SystemClock
from .config import Settings
from .crypto import TokenCipher
from .enrich import CatalogueMetadata, Enricher, MetadataSource, TmdbMetadata
from .facade import Engine
from .http import HttpService
from .llm import LLM
from .sources.omdb import OmdbClient
from .sources.tmdb import TmdbClient
from .sources.trakt import TraktClient
from .store import Store
from .vault import StoreVault

log = logging.getLogger(__name__)


async def bootstrap(settings: Settings, *, clock: Clock | None = None, store: Store | None = None,
                    transport: httpx.AsyncBaseTransport | None = None, catalogue: Catalogue | None = None) -> Engine:
    clock = clock or SystemClock()
    store = store or Store(settings.storage.path)
    if store._db is None:
        await store.open()
    sec = settings.secrets
    clients: list[httpx.AsyncClient] = []

    def client(max_conn: int) -> httpx.AsyncClient:
        c = httpx.AsyncClient(transport=transport, limits=httpx.Limits(max_connections=max_conn),
                              follow_redirects=True)
        clients.append(c)
        return c

    trakt = None
    if settings.trakt_enabled:
        assert sec.trakt_client_id and sec.trakt_client_secret and sec.secret_key
        http = HttpService("Trakt", client(settings.trakt.page_concurrency * 2), settings.trakt.http, clock,
                           concurrency=settings.trakt.page_concurrency * 2)
        trakt = TraktClient(settings.trakt, sec.trakt_client_id, sec.trakt_client_secret, http,
                            StoreVault(store, TokenCipher(sec.secret_key)), clock)
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
    closers: list[Callable[[], Awaitable[Any]]] = [c.aclose for c in clients]
    llm = None
    if settings.llm_enabled:
        llm = LLM(settings.llm, sec.llm_api_key, settings.logging.prompt_log)
        closers.append(llm.close)
    return Engine(settings, store, clock, trakt=trakt, tmdb=tmdb, enricher=enricher, catalogue=catalogue,
                  llm=llm, closers=closers)
