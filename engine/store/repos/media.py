"""The media server's side of the store: who links which server user, the server's shows, requests made."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from engine.store.db import Db, chunks, marks
from engine.store.records import MediaLink
from engine.values.times import iso, parse_ts


def _link(r: Any) -> MediaLink:
    return MediaLink(int(r[0]), str(r[1]), str(r[2]), r[3], r[4], r[5], parse_ts(r[6]))


class MediaRepo:
    def __init__(self, db: Db) -> None:
        self.db = db

    # -- links ---------------------------------------------------------------------------------------------------
    async def link(self, person_id: int) -> MediaLink | None:
        r = await self.db.fetchone("SELECT person_id, server, server_user, user_name, played_total, newest, "
                                   "synced_at FROM media_links WHERE person_id=?", person_id)
        return _link(r) if r else None

    async def holder(self, server: str, server_user: str) -> int | None:
        r = await self.db.fetchone("SELECT person_id FROM media_links WHERE server=? AND server_user=?",
                                   server, server_user)
        return int(r[0]) if r else None

    async def set_link(self, person_id: int, server: str, server_user: str, name: str | None,
                       now: datetime) -> None:
        await self.db.execute(
            "INSERT INTO media_links(person_id, server, server_user, user_name, linked_at) VALUES (?,?,?,?,?) "
            "ON CONFLICT(person_id) DO UPDATE SET server=excluded.server, server_user=excluded.server_user, "
            "user_name=excluded.user_name, linked_at=excluded.linked_at, played_total=NULL, newest=NULL, "
            "synced_at=NULL", person_id, server, server_user, name, iso(now))

    async def unlink(self, person_id: int) -> bool:
        return bool(await self.db.fetch("DELETE FROM media_links WHERE person_id=? RETURNING 1", person_id))

    async def save_sync(self, person_id: int, total: int, newest: str | None, now: datetime) -> None:
        await self.db.execute("UPDATE media_links SET played_total=?, newest=?, synced_at=? WHERE person_id=?",
                              total, newest, iso(now), person_id)

    async def due(self, synced_before: datetime, limit: int) -> list[int]:
        rows = await self.db.fetch("SELECT person_id FROM media_links WHERE synced_at IS NULL OR synced_at < ? "
                                   "ORDER BY COALESCE(synced_at, ''), person_id LIMIT ?", iso(synced_before), limit)
        return [int(r[0]) for r in rows]

    # -- the person's plays from the server ----------------------------------------------------------------------
    async def items_played(self, person_id: int, source: str) -> dict[str, list[str]]:
        """Server episode id -> the keys of its plays (``<source>:<item>:<time>``)."""
        out: dict[str, list[str]] = {}
        for (key,) in await self.db.fetch("SELECT play_key FROM plays WHERE person_id=? AND source=?",
                                          person_id, source):
            out.setdefault(str(key).split(":", 2)[1], []).append(str(key))
        return out

    async def drop_plays(self, person_id: int, keys: Sequence[str]) -> int:
        gone = 0
        for chunk in chunks(list(keys)):
            gone += len(await self.db.fetch(f"DELETE FROM plays WHERE person_id=? AND play_key IN ({marks(len(chunk))})"
                                            " RETURNING 1", person_id, *chunk))
        return gone

    # -- the server's shows ----------------------------------------------------------------------------------------
    async def library_items(self, server: str, item_ids: Iterable[str]) -> dict[str, int | None]:
        """Series item id -> show (None: known to carry no id); items never read are absent."""
        out: dict[str, int | None] = {}
        for chunk in chunks(list(set(item_ids))):
            for item, show in await self.db.fetch(
                    f"SELECT item_id, show_id FROM media_library WHERE server=? AND item_id IN ({marks(len(chunk))})",
                    server, *chunk):
                out[str(item)] = int(show) if show is not None else None
        return out

    async def put_library(self, server: str, rows: Sequence[tuple[str, int | None, str]], now: datetime) -> None:
        for chunk in chunks(list(rows), 200):
            await self.db.execute(
                "INSERT INTO media_library(server, item_id, show_id, title, seen_at) VALUES "
                + ",".join(["(?,?,?,?,?)"] * len(chunk))
                + " ON CONFLICT(server, item_id) DO UPDATE SET show_id=excluded.show_id, title=excluded.title, "
                "seen_at=excluded.seen_at", *[v for item, show, title in chunk for v in (server, item, show, title,
                                                                                        iso(now))])

    async def finish_library(self, server: str, total: int, read_from: datetime, now: datetime) -> int:
        """A full read ended: shows it did not see since ``read_from`` left the server."""
        gone = len(await self.db.fetch("DELETE FROM media_library WHERE server=? AND seen_at < ? RETURNING 1",
                                       server, iso(read_from)))
        await self.db.execute("INSERT INTO media_library_state(server, total, read_at) VALUES (?,?,?) "
                              "ON CONFLICT(server) DO UPDATE SET total=excluded.total, read_at=excluded.read_at",
                              server, total, iso(now))
        return gone

    async def library_read_at(self, server: str) -> datetime | None:
        r = await self.db.fetchone("SELECT read_at FROM media_library_state WHERE server=?", server)
        return parse_ts(r[0]) if r else None

    async def library_shows(self, server: str) -> set[int]:
        rows = await self.db.fetch("SELECT DISTINCT show_id FROM media_library WHERE server=? AND show_id IS NOT NULL",
                                   server)
        return {int(r[0]) for r in rows}

    # -- requests ----------------------------------------------------------------------------------------------------
    async def claim_request(self, person_id: int, show_id: int, event_id: int, now: datetime) -> bool:
        got = await self.db.fetch("INSERT INTO media_requests(person_id, show_id, event_id, outcome, created_at) "
                                  "VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING RETURNING 1",
                                  person_id, show_id, event_id, "asking", iso(now))
        return bool(got)

    async def request_outcome(self, person_id: int, show_id: int) -> str | None:
        r = await self.db.fetchone("SELECT outcome FROM media_requests WHERE person_id=? AND show_id=?",
                                   person_id, show_id)
        return str(r[0]) if r else None

    async def settle_request(self, person_id: int, show_id: int, outcome: str, request_id: int | None) -> None:
        await self.db.execute("UPDATE media_requests SET outcome=?, request_id=? WHERE person_id=? AND show_id=?",
                              outcome, request_id, person_id, show_id)

    async def drop_request(self, person_id: int, show_id: int) -> None:
        await self.db.execute("DELETE FROM media_requests WHERE person_id=? AND show_id=?", person_id, show_id)

    async def items_of(self, server: str, show_ids: Sequence[int]) -> dict[int, str]:
        """Show -> the server's series item for it (the first, when a show sits in two libraries)."""
        out: dict[int, str] = {}
        for chunk in chunks(list(show_ids)):
            for item, show in await self.db.fetch(
                    f"SELECT item_id, show_id FROM media_library WHERE server=? AND show_id IN ({marks(len(chunk))}) "
                    "ORDER BY item_id", server, *chunk):
                out.setdefault(int(show), str(item))
        return out
