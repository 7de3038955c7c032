"""Named leases shared by every process on the database: who holds one, until when."""

from __future__ import annotations

from datetime import datetime

from engine.store.db import Db
from engine.values.times import iso


class LeaseRepo:
    def __init__(self, db: Db) -> None:
        self.db = db

    async def take(self, name: str, owner: str, until: datetime, now: datetime) -> bool:
        """Take or renew ``name`` for ``owner`` until ``until``: yes when it is free, lapsed or already ours. One
        statement (an upsert whose update only happens then), so two processes asking at once cannot both win."""
        return bool(await self.db.execute(
            "INSERT INTO leases(name, owner, until) VALUES (?,?,?) ON CONFLICT(name) DO UPDATE SET "
            "owner=excluded.owner, until=excluded.until WHERE leases.owner=excluded.owner OR leases.until <= ?",
            name, owner, iso(until), iso(now)))

    async def holder(self, name: str, now: datetime) -> str | None:
        row = await self.db.fetchone("SELECT owner FROM leases WHERE name=? AND until > ?", name, iso(now))
        return str(row[0]) if row is not None else None

    async def release(self, name: str, owner: str) -> None:
        await self.db.execute("DELETE FROM leases WHERE name=? AND owner=?", name, owner)
