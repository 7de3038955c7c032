"""Incremental sync bookkeeping: what each section was synced up to, the resumable history job, and a lease so
one sync runs per person."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from engine.store.db import Db
from engine.store.records import SyncState
from engine.values.times import iso, parse_ts


class SyncRepo:
    def __init__(self, db: Db) -> None:
        self.db = db

    async def _ensure(self, person_id: int) -> None:
        await self.db.execute("INSERT INTO sync_state(person_id) VALUES (?) ON CONFLICT DO NOTHING", person_id)

    async def state(self, person_id: int) -> SyncState:
        row = await self.db.fetchone(
            "SELECT activities, history_cursor, job, lease_owner, lease_until, last_started_at, last_finished_at, "
            "last_error FROM sync_state WHERE person_id=?", person_id)
        if row is None:
            return SyncState()
        return SyncState(json.loads(row[0] or "{}"), row[1], json.loads(row[2]) if row[2] else None, row[3],
                         parse_ts(row[4]), parse_ts(row[5]), parse_ts(row[6]), row[7])

    async def set_job(self, person_id: int, job: dict[str, Any] | None) -> None:
        """The history job's resume point (None: no job pending)."""
        await self.db.execute("INSERT INTO sync_state(person_id, job) VALUES (?, ?) "
                              "ON CONFLICT(person_id) DO UPDATE SET job=excluded.job",
                              person_id, json.dumps(job) if job is not None else None)

    async def mark_section(self, person_id: int, section: str, stamp: str | None, *,
                           history_cursor: str | None = None, clear_job: bool = False) -> None:
        """A section is synced up to ``stamp`` (Trakt's last_activities value for it)."""
        await self._ensure(person_id)
        # sections finish concurrently in units of their own: take the row's lock first (a no-op update), so on a
        # server engine the read below sees the other sections' committed marks and no update is lost
        await self.db.execute("UPDATE sync_state SET activities=activities WHERE person_id=?", person_id)
        row = await self.db.fetchone("SELECT activities FROM sync_state WHERE person_id=?", person_id)
        acts = json.loads(row[0] if row is not None and row[0] else "{}")
        acts[section] = stamp
        await self.db.execute("UPDATE sync_state SET activities=? WHERE person_id=?",
                              json.dumps(acts, sort_keys=True), person_id)
        if history_cursor is not None:
            await self.db.execute("UPDATE sync_state SET history_cursor=? WHERE person_id=?", history_cursor,
                                  person_id)
        if clear_job:
            await self.db.execute("UPDATE sync_state SET job=NULL WHERE person_id=?", person_id)

    async def acquire_lease(self, person_id: int, owner: str, until: datetime, now: datetime,
                            is_stale: Callable[[str], bool] | None = None, *,
                            due_before: datetime | None = None) -> bool:
        """Take the per-person sync lease unless a live owner holds it (``is_stale`` may free dead owners); with
        ``due_before``, only while the person's last sync finished before it (another process may have just
        synced them)."""
        await self._ensure(person_id)
        # compare-and-set in one statement: two processes (or machines) asking at once cannot both win
        take = "UPDATE sync_state SET lease_owner=?, lease_until=?, last_started_at=? WHERE person_id=? AND "
        due, due_args = ("(last_finished_at IS NULL OR last_finished_at < ?) AND ", [iso(due_before)]) \
            if due_before is not None else ("", [])
        if await self.db.execute(take + due + "(lease_owner IS NULL OR lease_owner=? OR lease_until IS NULL "
                                 "OR lease_until <= ?)", owner, iso(until), iso(now), person_id, *due_args, owner,
                                 iso(now)):
            return True
        row = await self.db.fetchone("SELECT lease_owner FROM sync_state WHERE person_id=?", person_id)
        holder = row[0] if row is not None else None
        if holder and is_stale is not None and is_stale(holder):      # a dead process on this machine held it
            return bool(await self.db.execute(take + due + "lease_owner=?", owner, iso(until), iso(now), person_id,
                                              *due_args, holder))
        return False

    async def renew_lease(self, person_id: int, owner: str, until: datetime) -> bool:
        """Extend a lease its owner still holds (False: it lapsed and someone else took it)."""
        got = await self.db.fetch("UPDATE sync_state SET lease_until=? WHERE person_id=? AND lease_owner=? "
                                  "RETURNING 1", iso(until), person_id, owner)
        return bool(got)

    async def release_lease(self, person_id: int, owner: str, error: str | None, now: datetime) -> None:
        if error is None:
            await self.db.execute("UPDATE sync_state SET lease_owner=NULL, lease_until=NULL, last_error=NULL, "
                                  "last_finished_at=? WHERE person_id=? AND lease_owner=?", iso(now), person_id, owner)
        else:
            await self.db.execute("UPDATE sync_state SET lease_owner=NULL, lease_until=NULL, last_error=? "
                                  "WHERE person_id=? AND lease_owner=?", error, person_id, owner)

    async def due(self, finished_before: datetime, now: datetime, limit: int) -> list[int]:
        """Linked people whose last sync finished before ``finished_before`` (or never), whose lease is free:
        the longest-untried first, so a person whose syncs keep failing does not hold the head of the queue."""
        rows = await self.db.fetch(
            "SELECT t.person_id FROM trakt_tokens t LEFT JOIN sync_state s ON s.person_id = t.person_id "
            "WHERE (s.last_finished_at IS NULL OR s.last_finished_at < ?) "
            "AND (s.lease_until IS NULL OR s.lease_until < ?) "
            "ORDER BY COALESCE(s.last_started_at, '') , t.person_id LIMIT ?",
            iso(finished_before), iso(now), limit)
        return [int(r[0]) for r in rows]
