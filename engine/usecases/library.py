"""A person's library: Trakt sync (or the bundled sample in demo mode), imports, and reading the history back."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.formats.netflix import parse_netflix
from engine.formats.trakt_export import ParsedImport, detect_kind, gunzip_bounded, parse_trakt_export
from engine.plumbing.clock import Clock
from engine.plumbing.config import ImportSettings
from engine.store import Store
from engine.usecases.enrich import Enricher
from engine.usecases.feedback import FeedbackService
from engine.usecases.media import MediaServers
from engine.usecases.personal_data import is_export
from engine.usecases.sync import Progress, TraktSync
from engine.values.errors import InvalidImport, MultitudesError, NotLinked, ServiceUnavailable
from engine.values.i18n import _
from engine.values.models import HistoryItem, ImportReport, SyncReport

log = logging.getLogger(__name__)
CHUNK = 5000          # plays per unit of a large import

SAMPLE_SOURCE = "sample"


class LibraryService:
    def __init__(self, store: Store, clock: Clock, settings: ImportSettings, enricher: Enricher,
                 feedback: FeedbackService, syncer: TraktSync | None,
                 restore: Callable[[int, bytes, int], Awaitable[ImportReport]] | None = None,
                 media: MediaServers | None = None) -> None:
        self.store = store
        self.media = media                     # the owner's media server, for people who linked it
        self.restore = restore                 # a Multitudes export (engine.usecases.personal_data)
        self.clock = clock
        self.settings = settings
        self.enricher = enricher
        self.feedback = feedback
        self.syncer = syncer
        self._importing: set[int] = set()      # one import per person at a time (each may cost hundreds of look-ups)

    async def sync(self, person_id: int, progress: Progress | None = None, *,
                   due_before: datetime | None = None) -> SyncReport:
        """Sync one person (``due_before``: only if their last sync finished before it, else SyncInProgress — the
        sync wave's guard against syncing again someone another process just synced)."""
        server = self.media is not None and await self.media.linked(person_id)
        if self.syncer is None and not server:
            sample = await self.load_sample(person_id)
            return SyncReport(new_plays=sample.plays_added, shows_touched=sample.shows, ratings=sample.ratings,
                              watchlist=sample.watchlist, unchanged=sample.plays_added == 0, source=SAMPLE_SOURCE)
        async with self.store.read() as uow:
            linked = self.syncer is not None and await uow.tokens.exists(person_id)
        if not (linked or server):
            raise NotLinked(f"person {person_id}")
        rep: SyncReport | None = None
        if server:                             # the owner's media server, then Trakt too when both are linked
            assert self.media is not None
            if progress:
                progress(_("reading your {server} history").format(server=self.media.kind))
            rep = await self.media.sync(person_id)
        if linked:
            assert self.syncer is not None
            trakt = await self.syncer.sync(person_id, progress, due_before=due_before)
            rep = trakt if rep is None else replace(
                trakt, new_plays=trakt.new_plays + rep.new_plays, removed_plays=trakt.removed_plays + rep.removed_plays,
                unchanged=trakt.unchanged and rep.unchanged, requests=trakt.requests + rep.requests)
        assert rep is not None
        enriched = await self._enrich(person_id, progress)
        await self.feedback.update_adoption(person_id)
        return replace(rep, enriched=enriched)

    async def _enrich(self, person_id: int, progress: Progress | None = None) -> int:
        if progress:
            progress(_("fetching show metadata"))
        try:
            await self.enricher.settle()            # what the sync started as its pages landed
            return await self.enricher.enrich(person_id)
        except ServiceUnavailable as e:   # metadata can wait; the history is safe
            log.warning("metadata enrichment stopped: %s", e)
            return 0

    async def import_history(self, person_id: int, name: str, data: bytes, profile: str | None = None
                             ) -> ImportReport:
        if person_id in self._importing:
            raise MultitudesError("import running", user_message=(
                _("An import of yours is still running; I'll tell you when it's done, then send the next file.")))
        self._importing.add(person_id)
        try:
            return await self._import(person_id, name, data, profile)
        finally:
            self._importing.discard(person_id)

    async def _import(self, person_id: int, name: str, data: bytes, profile: str | None) -> ImportReport:
        cfg = self.settings
        if len(data) > cfg.max_bytes:
            raise InvalidImport(_("the file is {n} bytes; the limit is {max_bytes}.").format(
                n=f"{len(data):,}", max_bytes=f"{cfg.max_bytes:,}"))
        if data[:2] == b"\x1f\x8b":
            data = await asyncio.to_thread(gunzip_bounded, data, cfg.max_bytes)
        if self.restore is not None and is_export(data):     # a Multitudes export: the person comes back whole
            report = await self.restore(person_id, data, cfg.max_rows)
            await self.feedback.update_adoption(person_id)
            await self._enrich(person_id)
            return report
        kind = detect_kind(name, data)
        if kind == "trakt":
            parsed = await asyncio.to_thread(parse_trakt_export, name, data, cfg.max_rows, cfg.max_bytes)
            source = "trakt-export"
        else:
            parsed = await parse_netflix(name, data, cfg.max_rows, self.enricher.source.search,
                                         max_lookups=cfg.max_lookups, profile=profile)
            source = parsed.kind                # netflix (dates) | netflix-activity (the full export: times)
        return await self._store_import(person_id, parsed, source, data if kind == "trakt" else None)

    async def _store_import(self, person_id: int, parsed: ParsedImport, source: str,
                            raw: bytes | None) -> ImportReport:
        tz = await asyncio.to_thread(_export_timezone, raw) if raw is not None else None
        plays = parsed.plays
        staged = uuid.uuid4().hex if len(plays) > CHUNK else None
        try:
            if staged is not None:       # a large file: written in chunks, each its own short unit, others between
                for n in range(0, len(plays), CHUNK):
                    async with self.store.unit() as uow:
                        await uow.history.stage_plays(staged, person_id, plays[n:n + CHUNK], source)
                    await asyncio.sleep(0)
            async with self.store.unit() as uow:            # all of it lands, or none of it
                if staged is not None:
                    added = await uow.history.commit_staged(staged)
                else:
                    added = await uow.history.add_plays(person_id, plays, source)
                await uow.history.add_listed(person_id, parsed.ratings, parsed.watchlist, parsed.hidden)
                if tz:
                    await uow.people.set_timezone(person_id, tz)
        except BaseException:
            if staged is not None:   # a failed or cancelled import leaves nothing behind
                async with self.store.unit() as uow:
                    await uow.history.drop_staged(staged)
            raise
        await self.feedback.update_adoption(person_id)
        await self._enrich(person_id)
        return ImportReport(
            kind=parsed.kind, plays_added=added, plays_seen=len(parsed.plays),
            shows=len({p.show.ids.trakt or p.show.ids.tmdb for p in parsed.plays}), ratings=len(parsed.ratings),
            watchlist=len(parsed.watchlist), unmatched=tuple(parsed.unmatched), skipped=tuple(parsed.skipped),
            not_looked_up=tuple(parsed.not_looked_up), rows=parsed.rows, bad=tuple(parsed.bad),
            rows_unmatched=parsed.rows_unmatched, rows_not_looked_up=parsed.rows_not_looked_up, extras=parsed.extras,
        )

    async def load_sample(self, person_id: int) -> ImportReport:
        raw = resources.files("engine.sample").joinpath("sample_history.json.gz").read_bytes()
        data = gzip.decompress(raw)
        parsed = await asyncio.to_thread(parse_trakt_export, "sample", data, 10**6, 10**8)
        return await self._store_import(person_id, parsed, SAMPLE_SOURCE, data)

    async def history(self, person_id: int, limit: int = 20, offset: int = 0) -> list[HistoryItem]:
        async with self.store.read() as uow:
            return await uow.history.recent(person_id, limit, offset)


def _export_timezone(raw: bytes) -> str | None:
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if isinstance(doc, dict):
        settings = doc.get("settings")
        account = settings.get("account") if isinstance(settings, dict) else None
        tz = account.get("timezone") if isinstance(account, dict) else None
        if isinstance(tz, str) and len(tz) < 64:
            try:
                ZoneInfo(tz)                 # only a real time zone is kept; anything else is ignored
                return tz
            except (ZoneInfoNotFoundError, ValueError):
                log.info("import: ignored time zone %r", tz[:64])
    return None
