"""Where shows stream, as the alert scan last saw it, and the changes it found (``engine.usecases.arrivals``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from engine.store.db import Db, chunks, marks
from engine.values.times import iso, parse_ts


class ProviderRepo:
    def __init__(self, db: Db) -> None:
        self.db = db

    async def resting_picks(self, person_ids: Sequence[int], since: datetime) -> set[tuple[int, int]]:
        """(person, show) of their own picks shown since ``since`` (group picks are not theirs)."""
        out: set[tuple[int, int]] = set()
        for chunk in chunks(list(person_ids)):
            out |= {(int(r[0]), int(r[1])) for r in await self.db.fetch(
                f"SELECT DISTINCT person_id, show_id FROM rec_events WHERE person_id IN ({marks(len(chunk))}) "
                "AND shown_at >= ? AND mode <> 'group' AND message_ref IS NOT NULL", *chunk, iso(since))}
        return out

    async def snapshots(self, keys: Sequence[tuple[int, str]]) -> dict[tuple[int, str], tuple[list[str], str]]:
        """(show, region) -> (services, when seen) for the keys seen before."""
        out: dict[tuple[int, str], tuple[list[str], str]] = {}
        shows = sorted({s for s, _ in keys})
        want = set(keys)
        for chunk in chunks(shows):
            for sid, region, providers, seen in await self.db.fetch(
                    f"SELECT show_id, region, providers, seen_at FROM provider_snapshots WHERE show_id IN "
                    f"({marks(len(chunk))})", *chunk):
                if (int(sid), str(region)) in want:
                    out[(int(sid), str(region))] = (list(json.loads(providers)), str(seen))
        return out

    async def put_snapshots(self, rows: Sequence[tuple[int, str, Sequence[str]]], now: datetime) -> None:
        for chunk in chunks(list(rows), 200):
            await self.db.execute(
                "INSERT INTO provider_snapshots(show_id, region, providers, seen_at) VALUES "
                + ",".join(["(?,?,?,?)"] * len(chunk))
                + " ON CONFLICT(show_id, region) DO UPDATE SET providers=excluded.providers, seen_at=excluded.seen_at",
                *[v for sid, region, names in chunk
                  for v in (sid, region, json.dumps(sorted(names)), iso(now))])

    async def change(self, show_id: int, region: str, service: str, arrived: bool, since: str,
                     now: datetime) -> int:
        """The id of this change (recorded on first sight; a scan that runs again finds the same row)."""
        got = await self.db.fetchone(
            "INSERT INTO provider_changes(show_id, region, service, arrived, since, seen_at) VALUES (?,?,?,?,?,?) "
            "ON CONFLICT DO NOTHING RETURNING id", show_id, region, service, int(arrived), since, iso(now))
        if got is None:
            got = await self.db.fetchone("SELECT id FROM provider_changes WHERE show_id=? AND region=? AND service=? "
                                         "AND arrived=? AND since=?", show_id, region, service, int(arrived), since)
        assert got is not None
        return int(got[0])

    async def recent(self, keys: Sequence[tuple[int, str]], since: datetime
                     ) -> list[tuple[int, int, str, str, bool, datetime]]:
        """(change id, show, region, service, arrived, when seen) of the changes to these (show, region) pairs seen
        since ``since``."""
        want = set(keys)
        out = []
        for chunk in chunks(sorted({s for s, _ in keys})):
            for cid, sid, region, service, arrived, seen in await self.db.fetch(
                    f"SELECT id, show_id, region, service, arrived, seen_at FROM provider_changes WHERE show_id IN "
                    f"({marks(len(chunk))}) AND seen_at >= ?", *chunk, iso(since)):
                if (int(sid), str(region)) in want:
                    out.append((int(cid), int(sid), str(region), str(service), bool(arrived), parse_ts(seen) or since))
        return out

    # -- ``multitudes publish`` ----------------------------------------------------------------------------------
    async def current_picks(self, person_id: int, since: datetime, limit: int) -> list[int]:
        """The person's own picks shown since ``since`` that they have not dismissed, marked seen or watched since:
        their current picks, the most recently shown first (in their list's order)."""
        rows = await self.db.fetch(
            "SELECT e.show_id, MAX(e.shown_at) AS at, MIN(e.rank) AS r FROM rec_events e "
            "WHERE e.person_id=? AND e.shown_at >= ? AND e.mode <> 'group' AND e.message_ref IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM dismissed d WHERE d.person_id=e.person_id AND d.show_id=e.show_id) "
            "AND NOT EXISTS (SELECT 1 FROM plays p WHERE p.person_id=e.person_id AND p.show_id=e.show_id) "
            "GROUP BY e.show_id ORDER BY at DESC, r, e.show_id LIMIT ?", person_id, iso(since), limit)
        return [int(r[0]) for r in rows]

    async def published(self, person_id: int, target: str) -> str | None:
        r = await self.db.fetchone("SELECT ref FROM published WHERE person_id=? AND target=?", person_id, target)
        return str(r[0]) if r else None

    async def set_published(self, person_id: int, target: str, ref: str, items: int, now: datetime) -> None:
        await self.db.execute(
            "INSERT INTO published(person_id, target, ref, items, published_at) VALUES (?,?,?,?,?) "
            "ON CONFLICT(person_id, target) DO UPDATE SET ref=excluded.ref, items=excluded.items, "
            "published_at=excluded.published_at", person_id, target, ref, items, iso(now))
