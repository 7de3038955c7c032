"""What people did with their picks: explicit feedback per (event, kind), shows kept out, and adoption (a pick
that later shows up in the history, started or finished)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from engine.store.db import Db, chunks, marks
from engine.store.records import AdoptionCandidate, EventOutcome, FeedbackState
from engine.store.repos.history import EPISODE
from engine.values.models import FeedbackKind
from engine.values.times import iso, parse_ts

# a pick "worked" when it was started, liked, already seen (the source found something to their taste) or listed
WORKED = ("(a.state IS NOT NULL OR EXISTS (SELECT 1 FROM feedback f WHERE f.event_id=e.id AND f.active=1 AND "
          "f.kind IN ('liked', 'seen', 'watchlist', 'requested')))")


class FeedbackRepo:
    def __init__(self, db: Db) -> None:
        self.db = db

    # -- explicit feedback ---------------------------------------------------------------------------------------
    async def state(self, person_id: int, event_id: int, kind: FeedbackKind) -> FeedbackState | None:
        row = await self.db.fetchone("SELECT active, updated_at FROM feedback WHERE person_id=? AND event_id=? "
                                     "AND kind=?", person_id, event_id, str(kind))
        return FeedbackState(kind, bool(row[0]), parse_ts(row[1])) if row is not None else None

    async def put(self, person_id: int, event_id: int, kind: FeedbackKind, active: bool, at: datetime) -> None:
        await self.db.execute(
            "INSERT INTO feedback(person_id, event_id, kind, active, updated_at) VALUES (?,?,?,?,?) "
            "ON CONFLICT(person_id, event_id, kind) DO UPDATE SET active=excluded.active, "
            "updated_at=excluded.updated_at", person_id, event_id, str(kind), int(active), iso(at))

    async def of_events(self, event_ids: Sequence[int]) -> dict[int, set[FeedbackKind]]:
        """Active feedback per event."""
        out: dict[int, set[FeedbackKind]] = {}
        for chunk in chunks(list(event_ids)):
            for r in await self.db.fetch(f"SELECT event_id, kind FROM feedback WHERE active=1 AND event_id IN "
                                         f"({marks(len(chunk))})", *chunk):
                out.setdefault(int(r[0]), set()).add(FeedbackKind(r[1]))
        return out

    # -- shows kept out ----------------------------------------------------------------------------------------
    async def dismiss(self, person_id: int, show_id: int, at: datetime, reason: FeedbackKind) -> None:
        await self.db.execute(
            "INSERT INTO dismissed(person_id, show_id, at, reason) VALUES (?,?,?,?) ON CONFLICT(person_id, show_id) "
            "DO UPDATE SET at=excluded.at, reason=excluded.reason", person_id, show_id, iso(at), str(reason))

    async def undismiss(self, person_id: int, show_id: int, reason: FeedbackKind) -> None:
        await self.db.execute("DELETE FROM dismissed WHERE person_id=? AND show_id=? AND reason=?",
                              person_id, show_id, str(reason))

    async def dismissed(self, person_id: int, reason: FeedbackKind | None = None) -> list[int]:
        if reason is None:
            rows = await self.db.fetch("SELECT show_id FROM dismissed WHERE person_id=? ORDER BY at", person_id)
        else:
            rows = await self.db.fetch("SELECT show_id FROM dismissed WHERE person_id=? AND reason=? ORDER BY at",
                                       person_id, str(reason))
        return [int(r[0]) for r in rows]

    async def dismissed_pairs(self, person_ids: Sequence[int]) -> set[tuple[int, int]]:
        out: set[tuple[int, int]] = set()
        for chunk in chunks(list(person_ids)):
            out |= {(int(r[0]), int(r[1])) for r in await self.db.fetch(
                f"SELECT person_id, show_id FROM dismissed WHERE person_id IN ({marks(len(chunk))})", *chunk)}
        return out

    # -- adoption ------------------------------------------------------------------------------------------------
    async def adoption_candidates(self, person_id: int) -> list[AdoptionCandidate]:
        """Shown picks whose show appears in the history after it was shown: episodes since, aired episodes, and
        the adoption state recorded so far."""
        rows = await self.db.fetch(
            f"SELECT e.id, COUNT(DISTINCT {EPISODE}), COALESCE(MAX(s.aired_episodes), 0), MAX(a.state) "
            "FROM rec_events e JOIN plays p ON p.person_id=e.person_id AND p.show_id=e.show_id AND "
            "p.watched_at >= e.shown_at JOIN shows s ON s.id=e.show_id LEFT JOIN adoptions a ON a.event_id=e.id "
            "WHERE e.person_id=? AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.event_id=e.id AND f.kind='seen' "
            "AND f.active=1) GROUP BY e.id", person_id)
        return [AdoptionCandidate(int(r[0]), int(r[1]), int(r[2]), r[3]) for r in rows]

    async def claim_write(self, person_id: int, show_id: int, kind: str, at: datetime) -> bool:
        """Take the right to write ``kind`` for this show to the person's Trakt once; False when already taken."""
        got = await self.db.fetch("INSERT INTO trakt_writes(person_id, show_id, kind, at) VALUES (?,?,?,?) "
                                  "ON CONFLICT DO NOTHING RETURNING 1", person_id, show_id, kind, iso(at))
        return bool(got)

    async def written(self, person_id: int, show_id: int, kind: str) -> bool:
        return await self.db.fetchone("SELECT 1 FROM trakt_writes WHERE person_id=? AND show_id=? AND kind=?",
                                      person_id, show_id, kind) is not None

    async def release_write(self, person_id: int, show_id: int, kind: str) -> None:
        await self.db.execute("DELETE FROM trakt_writes WHERE person_id=? AND show_id=? AND kind=?",
                              person_id, show_id, kind)

    async def set_adoption(self, event_id: int, person_id: int, state: str, episodes: int, at: datetime) -> None:
        await self.db.execute(
            "INSERT INTO adoptions(event_id, person_id, state, episodes, updated_at) VALUES (?,?,?,?,?) "
            "ON CONFLICT(event_id) DO UPDATE SET state=excluded.state, episodes=excluded.episodes, "
            "updated_at=excluded.updated_at", event_id, person_id, state, episodes, iso(at))

    # -- what picks became (success rates, the bandit) ---------------------------------------------------------
    async def outcomes(self, person_id: int | None, *, include_group: bool = True) -> list[EventOutcome]:
        """Every shown pick (one person's or everyone's) with its adoption and explicit feedback."""
        where = []
        args: list[object] = []
        if not include_group:
            where.append("e.mode <> 'group'")
        if person_id is not None:
            where.append("e.person_id=?")
            args.append(person_id)
        rows = await self.db.fetch(
            f"SELECT e.strategy, e.mode, e.persona_id, e.sources, a.state, "
            "(SELECT MAX(active) FROM feedback f WHERE f.event_id=e.id AND f.kind='liked'), "
            "(SELECT MAX(active) FROM feedback f WHERE f.event_id=e.id AND f.kind='not_for_me'), "
            f"{WORKED} FROM rec_events e LEFT JOIN adoptions a ON a.event_id=e.id"
            + (" WHERE " + " AND ".join(where) if where else ""), *args)
        return [EventOutcome(str(r[0]), str(r[1]), r[2], tuple(json.loads(r[3] or "[]")), r[4], bool(r[5]),
                             bool(r[6]), bool(r[7])) for r in rows]

    async def ignored_counts(self, person_id: int, before: datetime) -> dict[int, int]:
        """How many times each show was shown before ``before`` and then ignored (no start, no feedback at all)."""
        rows = await self.db.fetch(
            "SELECT e.show_id, COUNT(*) FROM rec_events e LEFT JOIN adoptions a ON a.event_id=e.id "
            "WHERE e.person_id=? AND e.shown_at < ? AND a.state IS NULL AND NOT EXISTS "
            "(SELECT 1 FROM feedback f WHERE f.event_id=e.id AND f.active=1) GROUP BY e.show_id",
            person_id, iso(before))
        return {int(r[0]): int(r[1]) for r in rows}
