"""Show metadata enrichment: TMDB (plus optional OMDb scores) when configured, the bundled catalogue otherwise.

Metadata is stored on the show row with an expiry (long for ended shows, short for airing ones), so a show is
fetched again only when its cache entry runs out, and shared by everyone who watched it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol

from engine.plumbing.aio import run_all
from engine.plumbing.clock import Clock
from engine.ports.tmdb import OmdbPort, TmdbPort
from engine.store import ShowRecord, Store
from engine.values.catalogue import Catalogue
from engine.values.errors import ServiceUnavailable
from engine.values.meta import SearchHit, ShowMeta
from engine.values.models import ShowIds

log = logging.getLogger(__name__)

SAVE_BATCH = 100


class MetadataSource(Protocol):
    async def metadata(self, ids: ShowIds) -> tuple[ShowMeta, timedelta] | None: ...

    async def search(self, title: str) -> list[SearchHit]: ...


class CatalogueMetadata:
    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue

    async def metadata(self, ids: ShowIds) -> tuple[ShowMeta, timedelta] | None:
        s = self.catalogue.find(ids)
        return (s.meta, timedelta(days=365)) if s else None

    async def search(self, title: str) -> list[SearchHit]:
        return self.catalogue.search(title)


class TmdbMetadata:
    def __init__(self, tmdb: TmdbPort, omdb: OmdbPort | None = None) -> None:
        self.tmdb = tmdb
        self.omdb = omdb

    async def metadata(self, ids: ShowIds) -> tuple[ShowMeta, timedelta] | None:
        tmdb_id = ids.tmdb or await self.tmdb.find(imdb_id=ids.imdb, tvdb_id=ids.tvdb)
        if tmdb_id is None:
            return None
        meta = await self.tmdb.tv(tmdb_id)
        if meta is None:
            return None
        imdb = meta.imdb_id or ids.imdb
        if self.omdb is not None and imdb:
            try:
                scores = await self.omdb.scores(imdb)
            except ServiceUnavailable:
                scores = None   # critic scores are optional: never fail enrichment over them
            if scores:
                meta = meta.with_(**{k: v for k, v in scores.items() if v is not None})
        return meta, self.tmdb.ttl_for(meta)

    async def search(self, title: str) -> list[SearchHit]:
        return await self.tmdb.search_tv(title)


class Enricher:
    def __init__(self, store: Store, source: MetadataSource, clock: Clock, concurrency: int = 8) -> None:
        self.store = store
        self.source = source
        self.clock = clock
        self.concurrency = concurrency
        self._early: set[asyncio.Task[int]] = set()

    def prefetch(self, show_ids: Sequence[int]) -> None:
        """Start fetching these shows' metadata now, in the background (a sync calls this as pages land, so the
        look-ups overlap the remaining pages); ``settle`` waits for them."""
        if show_ids:
            task = asyncio.create_task(self.enrich_quietly(list(show_ids)))
            self._early.add(task)
            task.add_done_callback(self._early.discard)

    async def settle(self) -> None:
        if self._early:
            await asyncio.gather(*list(self._early), return_exceptions=True)

    async def enrich(self, person_id: int | None = None) -> int:
        """Fetch metadata for shows (of one person, or all) whose cache is missing or expired."""
        async with self.store.read() as uow:
            shows = await uow.shows.needing_meta(self.clock.now(), person_id=person_id)
        return await self._fetch(shows)

    async def enrich_ids(self, show_ids: Sequence[int]) -> int:
        if not show_ids:
            return 0
        async with self.store.read() as uow:
            shows = await uow.shows.needing_meta(self.clock.now(), among=show_ids)
        return await self._fetch(shows)

    async def enrich_quietly(self, show_ids: Sequence[int]) -> int:
        """Like ``enrich_ids``, but an outage only means older (or no) metadata: logged, never raised."""
        try:
            return await self.enrich_ids(show_ids)
        except ServiceUnavailable as e:
            log.warning("show metadata unavailable: %s", e)
            return 0

    async def _fetch(self, shows: list[ShowRecord]) -> int:
        """Fetch concurrently; save in batches (one unit per ``SAVE_BATCH`` shows, not one per show), so a crash
        loses at most one batch of fetched metadata and a catalogue-sized pass is not a thousand transactions."""
        if not shows:
            return 0
        sem = asyncio.Semaphore(self.concurrency)
        got_all: list[tuple[ShowRecord, tuple[ShowMeta, timedelta] | None]] = []
        lock = asyncio.Lock()
        done = 0

        async def flush() -> None:
            nonlocal done
            batch, got_all[:] = list(got_all), []
            if not batch:
                return
            now = self.clock.now()
            items = [(show.id, got[0] if got else None, now + (got[1] if got else timedelta(days=1)))
                     for show, got in batch]       # unknown to the source: remembered for a day, not re-asked
            async with self.store.unit() as uow:
                await uow.shows.save_metas(items, now)
            done += sum(got is not None for _, got in batch)

        async def one(show: ShowRecord) -> None:
            async with sem:
                got = await self.source.metadata(show.ids)
            async with lock:
                got_all.append((show, got))
                if len(got_all) >= SAVE_BATCH:
                    await flush()

        try:
            await run_all(one(s) for s in shows)
        finally:                  # what was fetched before a failure is kept
            await flush()
        return done
