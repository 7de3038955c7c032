"""A response cache with an expiry per entry (TMDB look-ups, OMDb scores, Trakt public lists and calendars)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from engine.store.db import Db
from engine.values.times import iso, parse_ts


class CacheRepo:
    def __init__(self, db: Db) -> None:
        self.db = db

    async def get(self, key: str, now: datetime) -> Any | None:
        got = await self.entry(key, now)
        return got[0] if got is not None else None

    async def entry(self, key: str, now: datetime) -> tuple[Any, datetime] | None:
        """(body, when it expires) of a live entry."""
        row = await self.db.fetchone("SELECT body, expires_at FROM api_cache WHERE key=?", key)
        until = parse_ts(row[1]) if row is not None else None
        if row is None or until is None or until <= now:
            return None
        return json.loads(row[0]), until

    async def prune(self, now: datetime) -> int:
        """Delete every expired entry; returns how many."""
        got = await self.db.fetch("DELETE FROM api_cache WHERE expires_at <= ? RETURNING 1", iso(now))
        return len(got)

    async def put(self, key: str, body: Any, now: datetime, expires_at: datetime) -> None:
        await self.db.execute(
            "INSERT INTO api_cache(key, body, fetched_at, expires_at) VALUES (?,?,?,?) ON CONFLICT(key) DO UPDATE "
            "SET body=excluded.body, fetched_at=excluded.fetched_at, expires_at=excluded.expires_at",
            key, json.dumps(body, ensure_ascii=False), iso(now), iso(expires_at))
