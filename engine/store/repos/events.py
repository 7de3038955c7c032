"""Every pick shown is an event: what, why, where it was shown; feedback and adoption trace back to it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from engine.store.db import Db, Row, chunks, marks
from engine.store.records import NewEvent, RecEvent
from engine.store.repos.history import EPISODE
from engine.values.times import iso, parse_ts

COLUMNS = ("id, person_id, show_id, request_id, strategy, persona_id, sources, rank, mode, shown_at, platform, "
           "message_ref, reason, llm")


def event(r: Row) -> RecEvent:
    return RecEvent(int(r[0]), int(r[1]), int(r[2]), str(r[3]), str(r[4]), r[5], tuple(json.loads(r[6] or "[]")),
                    int(r[7]), str(r[8]), parse_ts(r[9]) or datetime.min.replace(tzinfo=UTC), r[10], r[11], r[12],
                    bool(r[13]))


class EventRepo:
    def __init__(self, db: Db) -> None:
        self.db = db

    async def record(self, events: Sequence[NewEvent], at: datetime) -> list[int]:
        ids = []
        for e in events:
            row = await self.db.fetchone(
                "INSERT INTO rec_events(person_id, show_id, request_id, strategy, persona_id, sources, rank, mode, "
                "score, reason, llm, shown_at, platform) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
                e.person_id, e.show_id, e.request_id, e.strategy, e.persona_id, json.dumps(list(e.sources)), e.rank,
                str(e.mode), e.score, e.reason, int(e.llm), iso(at), e.platform)
            assert row is not None
            ids.append(int(row[0]))
        return ids

    async def attach(self, event_ids: Sequence[int], platform: str, message_ref: str) -> None:
        await self.db.executemany("UPDATE rec_events SET platform=?, message_ref=? WHERE id=?",
                                  [(platform, message_ref, e) for e in event_ids])

    async def withdraw(self, event_ids: Sequence[int]) -> int:
        """Picks that never reached the person: as if never shown (no rest, no success-rate row). Events that
        already carry feedback stay."""
        n = 0
        for chunk in chunks(list(event_ids)):
            n += await self.db.execute(
                f"DELETE FROM rec_events WHERE id IN ({marks(len(chunk))}) "
                "AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.event_id = rec_events.id)", *chunk)
        return n

    async def for_message(self, platform: str, message_ref: str) -> list[int]:
        rows = await self.db.fetch("SELECT id FROM rec_events WHERE platform=? AND message_ref=? ORDER BY rank, id",
                                   platform, message_ref)
        return [int(r[0]) for r in rows]

    async def get(self, event_id: int) -> RecEvent | None:
        row = await self.db.fetchone(f"SELECT {COLUMNS} FROM rec_events WHERE id=?", event_id)
        return event(row) if row is not None else None

    async def hold(self, event_id: int) -> RecEvent | None:
        """The pick, with its row held until the unit ends: on a server engine, concurrent feedback on one pick
        (add, remove, add a reaction) is applied one after another, each reading what the last one wrote. (A no-op
        update takes the row lock; SQLite's units are serial already.)"""
        await self.db.execute("UPDATE rec_events SET id=id WHERE id=?", event_id)
        return await self.get(event_id)

    async def of_request(self, request_id: str) -> list[RecEvent]:
        rows = await self.db.fetch(f"SELECT {COLUMNS} FROM rec_events WHERE request_id=? ORDER BY id", request_id)
        return [event(r) for r in rows]

    async def of_person(self, person_id: int) -> list[RecEvent]:
        rows = await self.db.fetch(f"SELECT {COLUMNS} FROM rec_events WHERE person_id=? ORDER BY id", person_id)
        return [event(r) for r in rows]

    async def excluded(self, person_id: int, max_watched_episodes: int, shown_since: datetime) -> set[int]:
        """Shows never to recommend now: watched beyond the threshold, rated, hidden or dropped, dismissed, or
        recommended since ``shown_since``."""
        rows = await self.db.fetch(
            "SELECT p.show_id FROM plays p WHERE p.person_id=? GROUP BY p.show_id "
            f"HAVING COUNT(DISTINCT {EPISODE}) > ? "
            "UNION SELECT show_id FROM ratings WHERE person_id=? UNION SELECT show_id FROM hidden WHERE person_id=? "
            "UNION SELECT show_id FROM dismissed WHERE person_id=? "
            "UNION SELECT show_id FROM rec_events WHERE person_id=? AND shown_at >= ?",
            person_id, max_watched_episodes, person_id, person_id, person_id, person_id, iso(shown_since))
        return {int(r[0]) for r in rows}

    async def not_again(self, person_id: int, shown_since: datetime) -> set[int]:
        """Shows never to recommend now whatever was played: rated, hidden or dropped, dismissed, or recommended
        since ``shown_since`` (``excluded`` without the plays, for a caller that reads those anyway)."""
        rows = await self.db.fetch(
            "SELECT show_id FROM ratings WHERE person_id=? UNION SELECT show_id FROM hidden WHERE person_id=? "
            "UNION SELECT show_id FROM dismissed WHERE person_id=? "
            "UNION SELECT show_id FROM rec_events WHERE person_id=? AND shown_at >= ?",
            person_id, person_id, person_id, person_id, iso(shown_since))
        return {int(r[0]) for r in rows}

    async def shown_and_started(self, person_id: int, since: datetime) -> tuple[int, int]:
        row = await self.db.fetchone(
            "SELECT COUNT(*), COUNT(a.event_id) FROM rec_events e LEFT JOIN adoptions a ON a.event_id=e.id "
            "WHERE e.person_id=? AND e.shown_at >= ?", person_id, iso(since))
        return (int(row[0]), int(row[1])) if row is not None else (0, 0)

    async def counts_by_person(self, person_ids: Sequence[int]) -> dict[int, int]:
        out: dict[int, int] = {}
        for chunk in chunks(list(person_ids)):
            for r in await self.db.fetch(f"SELECT person_id, COUNT(*) FROM rec_events WHERE person_id IN "
                                         f"({marks(len(chunk))}) GROUP BY person_id", *chunk):
                out[int(r[0])] = int(r[1])
        return out

    async def vote(self, request_id: str, rank: int, person_id: int, up: bool, at: datetime) -> None:
        """A member's vote on one pick of a group watch (a second vote replaces the first)."""
        await self.db.execute(
            "INSERT INTO group_votes(request_id, rank, person_id, up, voted_at) VALUES (?,?,?,?,?) "
            "ON CONFLICT(request_id, rank, person_id) DO UPDATE SET up=excluded.up, voted_at=excluded.voted_at",
            request_id, rank, person_id, int(up), iso(at))

    async def claim_result(self, request_id: str, rank: int, at: datetime) -> bool:
        """True for the one caller that announces a group watch's result (a later vote never announces again)."""
        got = await self.db.fetch("INSERT INTO group_results(request_id, rank, announced_at) VALUES (?,?,?) "
                                  "ON CONFLICT DO NOTHING RETURNING 1", request_id, rank, iso(at))
        return bool(got)

    async def open_session(self, request_id: str, platform: str, chat_id: str, closes_at: datetime | None,
                           at: datetime, event_at: datetime | None = None, filters: str = "") -> None:
        await self.db.execute("INSERT INTO group_sessions(request_id, platform, chat_id, closes_at, event_at, "
                              "filters, created_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT DO NOTHING", request_id,
                              platform, chat_id, iso(closes_at) if closes_at else None,
                              iso(event_at) if event_at else None, filters, iso(at))

    async def session(self, request_id: str) -> tuple[datetime | None, datetime | None, str, str | None]:
        """(when the vote closes, when they watch, the filters asked for, where the result is said) of a group
        watch; nothing known: (None, None, "", None)."""
        row = await self.db.fetchone("SELECT closes_at, event_at, filters, chat_id FROM group_sessions "
                                     "WHERE request_id=?", request_id)
        if row is None:
            return None, None, "", None
        return parse_ts(row[0]), parse_ts(row[1]), str(row[2] or ""), str(row[3])

    async def due_sessions(self, now: datetime, limit: int = 100) -> list[tuple[str, str, str, datetime | None]]:
        """(request, platform, chat, watch time) of group watches whose vote has closed, result not announced."""
        rows = await self.db.fetch(
            "SELECT s.request_id, s.platform, s.chat_id, s.event_at FROM group_sessions s WHERE s.closes_at IS NOT "
            "NULL AND s.closes_at <= ? "
            "AND NOT EXISTS (SELECT 1 FROM group_results r WHERE r.request_id = s.request_id) "
            "ORDER BY s.closes_at LIMIT ?", iso(now), limit)
        return [(str(r[0]), str(r[1]), str(r[2]), parse_ts(r[3])) for r in rows]

    async def last_group_night(self, person_ids: Sequence[int]) -> tuple[set[int], dict[int, bool]] | None:
        """The latest group watch with a winner that any of these people took part in: (its members, each
        member's vote on the winner)."""
        if not person_ids:
            return None
        row = await self.db.fetchone(
            "SELECT r.request_id, r.rank FROM group_results r WHERE r.rank > 0 AND r.request_id IN (SELECT "
            f"request_id FROM rec_events WHERE mode='group' AND person_id IN ({marks(len(person_ids))})) "
            "ORDER BY r.announced_at DESC, r.request_id LIMIT 1", *person_ids)
        if row is None:
            return None
        members = {int(r[0]) for r in await self.db.fetch(
            "SELECT DISTINCT person_id FROM rec_events WHERE request_id=? AND mode='group'", row[0])}
        votes = {int(r[0]): bool(r[1]) for r in await self.db.fetch(
            "SELECT person_id, up FROM group_votes WHERE request_id=? AND rank=?", row[0], row[1])}
        return members, votes

    async def votes(self, request_id: str) -> list[tuple[int, int, bool]]:
        """(rank, person, up) of every vote on a group watch."""
        rows = await self.db.fetch("SELECT rank, person_id, up FROM group_votes WHERE request_id=? "
                                   "ORDER BY rank, person_id", request_id)
        return [(int(r[0]), int(r[1]), bool(r[2])) for r in rows]

