"""People, the platform identities that reach them, their settings, and the group chats they were seen in."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from pydantic import ValidationError

from engine.store.db import Db, Row, chunks, marks
from engine.values.filters import FilterError, parse_filter_tokens
from engine.values.models import Person, PersonSettings
from engine.values.times import iso, parse_ts

COLUMNS = "id, display_name, timezone, trakt_user, trakt_vip, watchlist_limit, settings, created_at"


def settings_of(raw: str | None, timezone: str | None) -> PersonSettings:
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    if isinstance(data.get("default_filters"), str):     # stored as /recommend tokens by older versions
        try:
            data["default_filters"] = parse_filter_tokens(data["default_filters"].split())
        except FilterError:
            data.pop("default_filters")
    try:
        return PersonSettings.model_validate({**data, "timezone": timezone})
    except ValidationError:
        # one unreadable value must not lock a person out: keep what validates
        good = {}
        for k, v in data.items():
            try:
                PersonSettings.model_validate({k: v})
            except ValidationError:
                continue
            good[k] = v
        return PersonSettings.model_validate({**good, "timezone": timezone})


def person(r: Row) -> Person:
    return Person(id=int(r["id"]), display_name=r["display_name"], timezone=r["timezone"],
                  trakt_user=r["trakt_user"], trakt_vip=bool(r["trakt_vip"]), watchlist_limit=r["watchlist_limit"],
                  settings=settings_of(r["settings"], r["timezone"]), created_at=parse_ts(r["created_at"]))


class PeopleRepo:
    def __init__(self, db: Db) -> None:
        self.db = db

    async def find(self, platform: str, platform_user_id: str) -> int | None:
        row = await self.db.fetchone("SELECT person_id FROM identities WHERE platform=? AND platform_user_id=?",
                                     platform, platform_user_id)
        return int(row[0]) if row is not None else None

    async def hold(self, person_id: int) -> None:
        """Hold the person's row until the unit ends: work on one person that must not interleave across
        processes (a persona update) queues here. (A no-op update takes the row lock; SQLite's units are serial.)"""
        await self.db.execute("UPDATE people SET id=id WHERE id=?", person_id)

    async def create(self, platform: str, platform_user_id: str, display_name: str | None, now: datetime) -> int:
        row = await self.db.fetchone("INSERT INTO people(display_name, created_at) VALUES (?, ?) RETURNING id",
                                     display_name, iso(now))
        assert row is not None
        pid = int(row[0])
        got = await self.db.fetchone("INSERT INTO identities(platform, platform_user_id, person_id, created_at) "
                                     "VALUES (?,?,?,?) ON CONFLICT DO NOTHING RETURNING person_id",
                                     platform, platform_user_id, pid, iso(now))
        if got is None:     # another process made this identity's person since we looked (it waited for its commit)
            await self.db.execute("DELETE FROM people WHERE id=?", pid)
            other = await self.find(platform, platform_user_id)
            assert other is not None
            return other
        return pid

    async def get(self, person_id: int) -> Person | None:
        row = await self.db.fetchone(f"SELECT {COLUMNS} FROM people WHERE id=?", person_id)
        return person(row) if row is not None else None

    async def many(self, person_ids: Sequence[int] | None = None) -> list[Person]:
        """These people (or everyone), by id."""
        if person_ids is None:
            return [person(r) for r in await self.db.fetch(f"SELECT {COLUMNS} FROM people ORDER BY id")]
        out: list[Person] = []
        for chunk in chunks(sorted(set(person_ids))):
            out += [person(r) for r in await self.db.fetch(
                f"SELECT {COLUMNS} FROM people WHERE id IN ({marks(len(chunk))}) ORDER BY id", *chunk)]
        return out

    async def set_display_name(self, person_id: int, name: str | None) -> None:
        await self.db.execute("UPDATE people SET display_name=? WHERE id=?", name, person_id)

    async def set_timezone(self, person_id: int, timezone: str | None) -> None:
        await self.db.execute("UPDATE people SET timezone=? WHERE id=?", timezone, person_id)

    async def set_trakt_account(self, person_id: int, *, vip: bool, timezone: str | None = None,
                                watchlist_limit: int | None = None) -> None:
        """What Trakt's /users/settings says (a missing time zone or limit keeps the stored one)."""
        await self.db.execute("UPDATE people SET trakt_vip=?, timezone=COALESCE(?, timezone), "
                              "watchlist_limit=COALESCE(?, watchlist_limit) WHERE id=?",
                              int(vip), timezone, watchlist_limit, person_id)

    async def set_trakt_user(self, person_id: int, trakt_user: str | None) -> None:
        await self.db.execute("UPDATE people SET trakt_user=? WHERE id=?", trakt_user, person_id)

    async def save_settings(self, person_id: int, settings: PersonSettings) -> None:
        await self.db.execute("UPDATE people SET settings=?, timezone=? WHERE id=?",
                              json.dumps(settings.stored(), sort_keys=True), settings.timezone, person_id)

    async def attach_trakt_user(self, person_id: int, trakt_user: str) -> int:
        """Record the Trakt account; if another person already has it, merge this person into that one (their
        identities and tokens move; this person's own rows go). Returns the person that remains."""
        other = await self.db.fetchone("SELECT id FROM people WHERE trakt_user=? AND id<>?", trakt_user, person_id)
        if other is None:
            await self.db.execute("UPDATE people SET trakt_user=? WHERE id=?", trakt_user, person_id)
            return person_id
        keep = int(other[0])
        await self.db.execute("UPDATE identities SET person_id=? WHERE person_id=?", keep, person_id)
        await self.db.execute(
            "INSERT INTO trakt_tokens(person_id, ciphertext, expires_at, generation, updated_at) "
            "SELECT ?, ciphertext, expires_at, generation, updated_at FROM trakt_tokens WHERE person_id=? "
            "ON CONFLICT(person_id) DO UPDATE SET ciphertext=excluded.ciphertext, expires_at=excluded.expires_at, "
            "generation=excluded.generation, updated_at=excluded.updated_at", keep, person_id)
        await self.db.execute("DELETE FROM people WHERE id=?", person_id)
        return keep

    async def delete(self, person_id: int) -> None:
        """Everything about the person goes with them (foreign keys cascade)."""
        await self.db.execute("DELETE FROM people WHERE id=?", person_id)

    async def identities(self, person_id: int) -> list[tuple[str, str]]:
        """(platform, platform user id), the most recent first."""
        rows = await self.db.fetch("SELECT platform, platform_user_id FROM identities WHERE person_id=? "
                                   "ORDER BY created_at DESC", person_id)
        return [(str(r[0]), str(r[1])) for r in rows]

    async def note_chat_member(self, platform: str, chat_id: str, person_id: int, at: datetime) -> None:
        await self.db.execute("INSERT INTO chat_members(platform, chat_id, person_id, seen_at) VALUES (?,?,?,?) "
                              "ON CONFLICT(platform, chat_id, person_id) DO UPDATE SET seen_at=excluded.seen_at",
                              platform, chat_id, person_id, iso(at))

    async def chat_members(self, platform: str, chat_id: str, *, opted_in: bool = False) -> list[int]:
        rows = await self.db.fetch("SELECT person_id FROM chat_members WHERE platform=? AND chat_id=? "
                                   + ("AND opted_in=1 " if opted_in else "") + "ORDER BY seen_at",
                                   platform, chat_id)
        return [int(r[0]) for r in rows]

    async def chat_identities(self, platform: str, chat_id: str) -> list[tuple[int, str]]:
        """(person, their platform user id) of everyone who opted in to group picks in this chat."""
        rows = await self.db.fetch(
            "SELECT c.person_id, i.platform_user_id FROM chat_members c JOIN identities i ON i.person_id=c.person_id "
            "AND i.platform=c.platform WHERE c.platform=? AND c.chat_id=? AND c.opted_in=1 ORDER BY c.seen_at",
            platform, chat_id)
        return [(int(r[0]), str(r[1])) for r in rows]

    async def set_chat_opt_in(self, platform: str, chat_id: str, person_id: int, on: bool, at: datetime) -> None:
        await self.db.execute("INSERT INTO chat_members(platform, chat_id, person_id, seen_at, opted_in) "
                              "VALUES (?,?,?,?,?) ON CONFLICT(platform, chat_id, person_id) DO UPDATE SET "
                              "seen_at=excluded.seen_at, opted_in=excluded.opted_in",
                              platform, chat_id, person_id, iso(at), int(on))
