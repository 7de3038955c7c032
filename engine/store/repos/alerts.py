"""Release-calendar alerts and weekly digests are rows, claimed before sending so nothing goes out twice."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from engine.store.db import Db, Row, marks
from engine.store.records import AlertRow, NewAlert
from engine.values.times import iso, parse_ts

COLUMNS = ("a.id, a.person_id, a.show_id, s.title, s.year, a.season, a.kind, a.event_at, a.due_at, a.expires_at, "
           "a.payload, a.status, a.attempts")
_EPOCH = datetime.min.replace(tzinfo=UTC)


def alert_row(r: Row) -> AlertRow:
    return AlertRow(int(r[0]), int(r[1]), int(r[2]), str(r[3]), r[4], int(r[5]), str(r[6]),
                    parse_ts(r[7]) or _EPOCH, parse_ts(r[8]) or _EPOCH, parse_ts(r[9]) or _EPOCH,
                    json.loads(r[10] or "{}"), str(r[11]), int(r[12]))


class AlertRepo:
    def __init__(self, db: Db) -> None:
        self.db = db

    async def save(self, alerts: Sequence[NewAlert], now: datetime) -> tuple[int, int]:
        """Insert new decisions; move a pending one whose date moved. Returns (created, updated)."""
        created = updated = 0
        for a in alerts:
            have = await self.db.fetchone("SELECT status, event_at, payload FROM alerts WHERE person_id=? AND "
                                          "show_id=? AND season=? AND kind=?", a.person_id, a.show_id, a.season, a.kind)
            payload = json.dumps(a.payload, sort_keys=True)
            if have is None:         # another process's scan (a /alerts there) may insert it first: then it is theirs
                created += await self.db.execute(
                    "INSERT INTO alerts(person_id, show_id, season, kind, event_at, due_at, expires_at, payload, "
                    "created_at) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING", a.person_id, a.show_id, a.season,
                    a.kind, iso(a.event_at), iso(a.due_at), iso(a.expires_at), payload, iso(now))
            elif have[0] == "pending" and (have[1], json.loads(have[2] or "{}")) != (iso(a.event_at),
                                                                              json.loads(payload)):
                await self.db.execute(
                    "UPDATE alerts SET event_at=?, due_at=?, expires_at=?, payload=? WHERE person_id=? AND show_id=? "
                    "AND season=? AND kind=?", iso(a.event_at), iso(a.due_at), iso(a.expires_at), payload,
                    a.person_id, a.show_id, a.season, a.kind)
                updated += 1
        return created, updated

    async def due(self, now: datetime, limit: int = 1000) -> list[AlertRow]:
        rows = await self.db.fetch(f"SELECT {COLUMNS} FROM alerts a JOIN shows s ON s.id=a.show_id "
                                   "WHERE a.status='pending' AND a.due_at <= ? ORDER BY a.due_at, a.id LIMIT ?",
                                   iso(now), limit)
        return [alert_row(r) for r in rows]

    async def of_person(self, person_id: int) -> list[AlertRow]:
        rows = await self.db.fetch(f"SELECT {COLUMNS} FROM alerts a JOIN shows s ON s.id=a.show_id "
                                   "WHERE a.person_id=? ORDER BY a.due_at, a.id", person_id)
        return [alert_row(r) for r in rows]

    async def claim_due(self, now: datetime, owner: str, limit: int, *, abandoned_before: datetime,
                        after: tuple[datetime, int] | None = None) -> list[AlertRow]:
        """Claim up to ``limit`` due alerts for ``owner`` (pending -> claimed), soonest first, past ``after`` (the
        last (due_at, id) this run claimed). A claim older than ``abandoned_before`` was left by a process that died
        before trying any of it and is taken again. On PostgreSQL the rows are locked with SKIP LOCKED: processes
        claiming at once split the due rows instead of queueing on them."""
        skip = " FOR UPDATE SKIP LOCKED" if self.db.dialect == "postgresql" else ""
        cursor, args = ("AND (due_at > ? OR (due_at = ? AND id > ?)) ", [iso(after[0]), iso(after[0]), after[1]]) \
            if after else ("", [])
        got = await self.db.fetch(
            "UPDATE alerts SET status='claimed', claimed_by=?, claimed_at=? WHERE id IN (SELECT id FROM alerts WHERE "
            "((status='pending' AND due_at <= ?) OR (status='claimed' AND claimed_at < ?)) " + cursor +
            "ORDER BY due_at, id LIMIT ?" + skip + ") AND status IN ('pending', 'claimed') RETURNING id",
            owner, iso(now), iso(now), iso(abandoned_before), *args, limit)
        if not got:
            return []
        ids = [int(r[0]) for r in got]
        rows = await self.db.fetch(f"SELECT {COLUMNS} FROM alerts a JOIN shows s ON s.id=a.show_id WHERE a.id IN "
                                   f"({marks(len(ids))}) ORDER BY a.due_at, a.id", *ids)
        return [alert_row(r) for r in rows]

    async def begin(self, alert_id: int, owner: str) -> bool:
        """claimed -> sending, right before the platform call; False when the claim is no longer ``owner``'s (it
        lapsed and another process took the row)."""
        return await self.db.execute("UPDATE alerts SET status='sending' WHERE id=? AND status='claimed' AND "
                                     "claimed_by=?", alert_id, owner) == 1

    async def release(self, alert_id: int, owner: str, due_at: datetime | None = None) -> None:
        """Back to pending (not sendable now: quiet hours, no front end reaching the person), optionally later."""
        await self.db.execute("UPDATE alerts SET status='pending', claimed_by=NULL, claimed_at=NULL, "
                              "due_at=COALESCE(?, due_at) WHERE id=? AND status='claimed' AND claimed_by=?",
                              iso(due_at) if due_at else None, alert_id, owner)

    async def claim(self, alert_id: int) -> bool:
        """pending -> sending in one statement, outside a batch (operators, tests)."""
        return await self.db.execute("UPDATE alerts SET status='sending' WHERE id=? AND status='pending'",
                                     alert_id) == 1

    async def sent(self, alert_id: int, at: datetime, destination: str, message_ref: str) -> None:
        await self.db.execute("UPDATE alerts SET status='sent', sent_at=?, destination=?, message_ref=? WHERE id=?",
                              iso(at), destination, message_ref, alert_id)

    async def skip(self, alert_id: int, note: str) -> None:
        await self.db.execute("UPDATE alerts SET status='skipped', note=? WHERE id=?", note, alert_id)

    async def failed(self, alert_id: int, attempts: int, give_up: bool, note: str) -> None:
        await self.db.execute("UPDATE alerts SET status=?, attempts=?, note=? WHERE id=?",
                              "skipped" if give_up else "pending", attempts, note, alert_id)

    async def related_catchups_since(self, since: datetime) -> dict[int, int]:
        rows = await self.db.fetch("SELECT person_id, COUNT(*) FROM alerts WHERE kind='catchup' AND payload LIKE "
                                   "'%\"related\"%' AND created_at >= ? GROUP BY person_id", iso(since))
        return {int(r[0]): int(r[1]) for r in rows}

    async def counts(self) -> list[tuple[str, str, int]]:
        """(kind, status, how many), for operators."""
        rows = await self.db.fetch("SELECT kind, status, COUNT(*) FROM alerts GROUP BY kind, status ORDER BY 1, 2")
        return [(str(r[0]), str(r[1]), int(r[2])) for r in rows]

    # -- the weekly digest -------------------------------------------------------------------------------------
    async def claim_digest(self, person_id: int, week: str, owner: str, now: datetime, *,
                           abandoned_before: datetime) -> bool:
        """This person's digest of ``week`` is ``owner``'s to send: a new row, or a claim older than
        ``abandoned_before`` that never got as far as sending (its process died computing the picks)."""
        return await self.db.execute(
            "INSERT INTO digests(person_id, week, status, claimed_by, claimed_at) VALUES (?,?,'claimed',?,?) "
            "ON CONFLICT(person_id, week) DO UPDATE SET claimed_by=excluded.claimed_by, "
            "claimed_at=excluded.claimed_at WHERE digests.status='claimed' AND digests.claimed_at < ?",
            person_id, week, owner, iso(now), iso(abandoned_before)) == 1

    async def begin_digest(self, person_id: int, week: str, owner: str) -> bool:
        """claimed -> sending, right before the first platform call; False when the claim lapsed to another."""
        return await self.db.execute("UPDATE digests SET status='sending' WHERE person_id=? AND week=? AND "
                                     "status='claimed' AND claimed_by=?", person_id, week, owner) == 1

    async def digest_sent(self, person_id: int, week: str, at: datetime, destination: str) -> None:
        await self.db.execute("UPDATE digests SET status='sent', sent_at=?, destination=? WHERE person_id=? AND "
                              "week=?", iso(at), destination, person_id, week)

    async def digest_skipped(self, person_id: int, week: str) -> None:
        await self.db.execute("UPDATE digests SET status='skipped' WHERE person_id=? AND week=?", person_id, week)
