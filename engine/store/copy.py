"""``multitudes db migrate-to URL``: an existing SQLite database copied into an empty PostgreSQL database, verified
row by row, all or nothing.

Both are migrated to the latest schema first (one numbered sequence), so every table has the same columns on both
sides. Rows go over in one PostgreSQL transaction, parents before children, each value converted to what its
PostgreSQL column holds (SQLite's dynamic typing lets an INTEGER column hold text, say); identity sequences are
moved past the copied ids, so ids are never reused after the move either. Then every row of every table is read
back from both sides, ordered by its key, and compared; any difference rolls the whole copy back.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.store.postgres import PostgresStore
from engine.store.sqlite import SqliteStore

# parents before children (foreign keys are checked as rows arrive)
ORDER = ("people", "identities", "trakt_tokens", "shows", "plays", "ratings", "watchlist", "hidden", "sync_state",
         "trakt_show_state", "api_cache", "personas", "persona_state", "rec_events", "dismissed", "feedback",
         "chat_members", "adoptions", "alerts", "digests", "group_votes", "group_results", "crowd", "leases",
         "import_staging", "trakt_writes", "group_sessions",
         "media_links", "media_library", "media_library_state", "media_requests",
         "provider_snapshots", "provider_changes", "published")
BATCH = 2000


class CopyError(Exception):
    pass


@dataclass
class CopyReport:
    source: str
    tables: dict[str, int] = field(default_factory=dict)       # table -> rows copied (and verified)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


async def migrate_to(sqlite_path: str | Path, url: str) -> CopyReport:
    if not await asyncio.to_thread(Path(sqlite_path).exists):
        raise CopyError(f"no SQLite database at {sqlite_path}")
    src = await SqliteStore(sqlite_path).open()
    dst = await PostgresStore(url, max_size=2).open()
    try:
        return await _copy(src, dst, str(sqlite_path))
    finally:
        await src.close()
        await dst.close()


async def _copy(src: SqliteStore, dst: PostgresStore, name: str) -> CopyReport:
    conn = src.conn
    tables = [r[0] for r in await conn.execute_fetchall(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
    unknown = sorted(set(tables) - set(ORDER))
    if unknown:
        raise CopyError(f"tables this version does not know how to copy: {', '.join(unknown)}")
    rep = CopyReport(name)
    async with dst.pool.acquire() as pg, pg.transaction():
        for table in ORDER:
            if await pg.fetchval(f"SELECT EXISTS (SELECT 1 FROM {table})"):
                raise CopyError(f"the PostgreSQL database is not empty ({table} has rows): copy into a new one")
        for table in ORDER:
            cols = [(r[1], str(r[2]).upper()) for r in await conn.execute_fetchall(f"PRAGMA table_info({table})")]
            types = {r[0]: r[1] for r in await pg.fetch(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name=$1", table)}
            names = [c for c, _ in cols]
            missing = [c for c in names if c not in types]
            if missing:
                raise CopyError(f"{table}: PostgreSQL lacks columns {missing}")
            key = ", ".join(await _key(conn, table, names))
            select = f"SELECT {', '.join(names)} FROM {table} ORDER BY {key}"
            insert = (f"INSERT INTO {table} ({', '.join(names)}) VALUES "
                      f"({', '.join(f'${i + 1}' for i in range(len(names)))})")
            n = 0
            cur = await conn.execute(select)
            while rows := list(await cur.fetchmany(BATCH)):
                await pg.executemany(insert, [tuple(_to_pg(v, types[c]) for v, c in zip(r, names, strict=True))
                                              for r in rows])
                n += len(rows)
            await cur.close()
            if "id" in types and await pg.fetchval("SELECT pg_get_serial_sequence($1, 'id')", table):
                await pg.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                 f"GREATEST((SELECT MAX(id) FROM {table}), 1))")
            # verify: every row, both sides, in key order
            theirs = await pg.fetch(select)
            ours = list(await conn.execute_fetchall(select))
            if len(theirs) != len(ours) or n != len(ours):
                raise CopyError(f"{table}: {len(ours)} rows in SQLite, {len(theirs)} in PostgreSQL")
            for a, b in zip(ours, theirs, strict=True):
                if not all(_same(x, y, types[c]) for x, y, c in zip(a, b, names, strict=True)):
                    raise CopyError(f"{table}: a row differs after the copy ({dict(zip(names, a, strict=True))})")
            rep.tables[table] = n
    return rep


async def _key(conn: Any, table: str, names: list[str]) -> list[str]:
    """The primary key's columns (every column when there is none), to read both sides in the same order."""
    pk = [r[1] for r in sorted(await conn.execute_fetchall(f"PRAGMA table_info({table})"), key=lambda r: r[5])
          if r[5] > 0]
    return pk or names


def _to_pg(v: Any, pg_type: str) -> Any:
    if v is None:
        return None
    if pg_type == "text":
        return v if isinstance(v, str) else (v.decode() if isinstance(v, bytes) else str(v))
    if pg_type == "bigint":
        return int(v)
    if pg_type == "double precision":
        return float(v)
    if pg_type == "bytea":
        return v if isinstance(v, bytes) else str(v).encode()
    return v


def _same(a: Any, b: Any, pg_type: str) -> bool:
    a = _to_pg(a, pg_type)
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return bool(a == b)
