"""A person's crowd (``engine.usecases.crowd_refresh``): the Trakt members whose ratings overlap theirs, as rows of
ratings by internal show id — never a username — and when it was last refreshed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from engine.store.db import Db
from engine.values.times import iso, parse_ts

Member = list[tuple[int, int, float | None]]            # (show id, rating 1-10, rated at or None)


@dataclass(frozen=True, slots=True)
class CrowdRow:
    members: list[Member]
    requests: int
    computed_at: datetime | None
    attempted_at: datetime | None
    error: str | None


def decode(text: str) -> list[Member]:
    return [[(int(s), int(r), float(a) if a is not None else None) for s, r, a in m] for m in json.loads(text)]


class CrowdRepo:
    def __init__(self, db: Db) -> None:
        self.db = db

    async def get(self, person_id: int) -> CrowdRow | None:
        got = await self.get_raw(person_id)
        return CrowdRow(decode(got[0]), *got[1:]) if got is not None else None

    async def get_raw(self, person_id: int) -> tuple[str, int, datetime | None, datetime | None, str | None] | None:
        """The row with its members still JSON text (``decode`` them off the event loop)."""
        row = await self.db.fetchone("SELECT members, requests, computed_at, attempted_at, error FROM crowd "
                                     "WHERE person_id=?", person_id)
        if row is None:
            return None
        return str(row[0] or "[]"), int(row[1]), parse_ts(row[2]), parse_ts(row[3]), row[4]

    async def computed_at(self, person_id: int) -> datetime | None:
        """When this person's crowd was last refreshed (None: never, or never with anyone found)."""
        row = await self.db.fetchone("SELECT computed_at FROM crowd WHERE person_id=? AND people > 0", person_id)
        return parse_ts(row[0]) if row is not None else None

    async def attempt(self, person_id: int, now: datetime) -> None:
        await self.db.execute("INSERT INTO crowd(person_id, attempted_at) VALUES (?, ?) ON CONFLICT(person_id) "
                              "DO UPDATE SET attempted_at=excluded.attempted_at", person_id, iso(now))

    async def put(self, person_id: int, members: list[Member], requests: int, now: datetime) -> None:
        body = json.dumps([[[s, r, round(a) if a is not None else None] for s, r, a in m] for m in members],
                          separators=(",", ":"))
        await self.db.execute(
            "INSERT INTO crowd(person_id, members, people, requests, computed_at, attempted_at, error) "
            "VALUES (?,?,?,?,?,?,NULL) ON CONFLICT(person_id) DO UPDATE SET members=excluded.members, "
            "people=excluded.people, requests=excluded.requests, computed_at=excluded.computed_at, "
            "attempted_at=excluded.attempted_at, error=NULL",
            person_id, body, len(members), requests, iso(now), iso(now))

    async def failed(self, person_id: int, error: str) -> None:
        await self.db.execute("UPDATE crowd SET error=? WHERE person_id=?", error[:200], person_id)

    async def due(self, computed_before: datetime, attempted_before: datetime, limit: int) -> list[int]:
        """People with history whose crowd is missing or older than ``computed_before``, not tried since
        ``attempted_before`` (a failing refresh waits), the longest-untried first."""
        rows = await self.db.fetch(
            "SELECT p.id FROM people p LEFT JOIN crowd c ON c.person_id = p.id "
            "WHERE EXISTS (SELECT 1 FROM plays WHERE plays.person_id = p.id) "
            "AND (c.computed_at IS NULL OR c.computed_at < ?) AND (c.attempted_at IS NULL OR c.attempted_at < ?) "
            "ORDER BY COALESCE(c.attempted_at, ''), p.id LIMIT ?",
            iso(computed_before), iso(attempted_before), limit)
        return [int(r[0]) for r in rows]
