"""Show metadata enrichment: TMDB (plus optional OMDb scores) when configured, the bundled catalogue otherwise.

Metadata is stored on the show row with an expiry (long for ended shows, short for airing ones), so a show is
fetched again only when its cache entry runs out, and shared by everyone who watched it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any, Protocol

from .aio import run_all
from .catalogue import Catalogue, catalogue_meta
from .clock import Clock, iso
from .errors import ServiceUnavailable
from .models import ShowIds
from .sources.omdb import OmdbClient
from .sources.tmdb import TmdbClient
from .store import Store

log = logging.getLogger(__name__)


class MetadataSource(Protocol):
    async def metadata(self, ids: ShowIds) -> tuple[dict[str, Any], timedelta] | None: ...


class CatalogueMetadata:
    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue

    async def metadata(self, ids: ShowIds) -> tuple[dict[str, Any], timedelta] | None:
        e = self.catalogue.find(ids)
        return (catalogue_meta(e), timedelta(days=365)) if e else None


class TmdbMetadata:
    def __init__(self, tmdb: TmdbClient, omdb: OmdbClient | None = None) -> None:
        self.tmdb = tmdb
        self.omdb = omdb

    async def metadata(self, ids: ShowIds) -> tuple[dict[str, Any], timedelta] | None:
        tmdb_id = ids.tmdb or await self.tmdb.find(imdb_id=ids.imdb, tvdb_id=ids.tvdb)
        if tmdb_id is None:
            return None
        meta = await self.tmdb.tv(tmdb_id)
        if meta is None:
            return None
        imdb = meta.get("imdb_id") or ids.imdb
        if self.omdb is not None and imdb:
            try:
                scores = await self.omdb.scores(imdb)
            except ServiceUnavailable:
                scores = None   # critic scores are optional: never fail enrichment over them
            if scores:
                meta.update({k: v for k, v in scores.items() if v is not None})
        return meta, self.tmdb.ttl_for(meta)


class Enricher:
    def __init__(self, store: Store, source: MetadataSource, clock: Clock, concurrency: int = 8) -> None:
        self.store = store
        self.source = source
        self.clock = clock
        self.concurrency = concurrency

    async def enrich(self, person_id: int | None = None) -> int:
        """Fetch metadata for shows (of one person, or all) whose cache is missing or expired."""
        return await self._enrich_rows(await self.store.shows_needing_meta(person_id, self.clock.now()))

    async def enrich_ids(self, show_ids: list[int]) -> int:
        if not show_ids:
            return 0
        rows = await self.store.all(
            f"SELECT * FROM shows WHERE id IN ({','.join('?' * len(show_ids))}) AND "
            "(meta_expires_at IS NULL OR meta_expires_at < ?)", [*show_ids, iso(self.clock.now())])
        return await self._enrich_rows(rows)

    async def _enrich_rows(self, rows: list[Any]) -> int:
        if not rows:
            return 0
        sem = asyncio.Semaphore(self.concurrency)
        done = 0

        async def one(row: Any) -> None:
            nonlocal done
            ids = ShowIds(trakt=row["trakt_id"], tmdb=row["tmdb_id"], imdb=row["imdb_id"], tvdb=row["tvdb_id"])
            async with sem:
                got = await self.source.metadata(ids)
            now = self.clock.now()
            if got is None:   # unknown to the source: remember that for a day rather than asking every time
                await self.store.save_show_meta(row["id"], {}, now, now + timedelta(days=1))
                return
            meta, ttl = got
            await self.store.save_show_meta(
                row["id"], meta, now, now + ttl,
                ShowIds(tmdb=meta.get("tmdb_id"), imdb=meta.get("imdb_id"), tvdb=meta.get("tvdb_id")),
            )
            done += 1

        await run_all(one(r) for r in rows)
        return done
