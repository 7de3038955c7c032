"""A small helper for tests and benchmarks that look at what was stored (SQL stays in this package)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from engine.store.db import fetchval
from engine.store.sqlite import SqliteStore

if TYPE_CHECKING:
    from engine.store import Store

TABLES = frozenset({"people", "identities", "trakt_tokens", "shows", "plays", "ratings", "watchlist", "hidden",
                    "sync_state", "trakt_show_state", "api_cache", "personas", "persona_state", "rec_events",
                    "dismissed", "feedback", "chat_members", "adoptions", "alerts", "digests", "group_votes",
                    "group_results", "crowd", "leases", "import_staging", "trakt_writes", "group_sessions",
                    "media_links", "media_library", "media_library_state", "media_requests",
                    "provider_snapshots", "provider_changes", "published"})


async def open_probe(path: str | Path) -> SqliteStore:
    """A second connection to an engine's database file (WAL: it sees every committed unit)."""
    return await SqliteStore(path).open()


async def count(store: Store, table: str, **where: object) -> int:
    """Rows of ``table`` matching ``column=value`` conditions (``None`` matches NULL)."""
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}")
    conds, args = [], []
    for col, val in where.items():
        if not col.isidentifier():
            raise ValueError(f"bad column {col!r}")
        if val is None:
            conds.append(f"{col} IS NULL")
        else:
            conds.append(f"{col}=?")
            args.append(val)
    sql = f"SELECT COUNT(*) FROM {table}" + (" WHERE " + " AND ".join(conds) if conds else "")
    async with store.read() as uow:
        return int(await fetchval(uow.db, sql, *args) or 0)


async def cache_keys(store: Store, prefix: str) -> list[str]:
    async with store.read() as uow:
        return [str(r[0]) for r in await uow.db.fetch("SELECT key FROM api_cache WHERE key LIKE ? ORDER BY key",
                                                        prefix.replace("%", "") + "%")]


@asynccontextmanager
async def traced(store: SqliteStore) -> AsyncIterator[list[str]]:
    """Every SQL statement the store's connection runs inside the block (parameters expanded), in order."""
    seen: list[str] = []
    conn = store.conn
    await conn.set_trace_callback(seen.append)
    try:
        yield seen
    finally:
        await conn.set_trace_callback(None)  # type: ignore[arg-type]  # None clears it (sqlite3 docs)


async def query_plan(store: SqliteStore, sql: str) -> list[str]:
    """SQLite's plan for a statement: one line per step ("SEARCH plays USING COVERING INDEX …", "SCAN …")."""
    async with store.read() as uow:
        return [str(r[3]) for r in await uow.db.fetch("EXPLAIN QUERY PLAN " + sql)]


async def show_facts(store: SqliteStore, trakt_id: int) -> dict[str, object] | None:
    """A stored show's row by Trakt id, by column."""
    async with store.read() as uow:
        row = await uow.db.fetchone("SELECT title, year, aired_episodes, tmdb_id, imdb_id, slug, verified FROM shows "
                                    "WHERE trakt_id=?", trakt_id)
    return dict(zip(("title", "year", "aired_episodes", "tmdb_id", "imdb_id", "slug", "verified"), tuple(row),
                    strict=True)) if row is not None else None


async def show_row(store: SqliteStore, trakt_id: int) -> tuple[object, ...] | None:
    """A stored show's shared facts by Trakt id: (title, year, aired episodes, tmdb id, imdb id)."""
    async with store.read() as uow:
        row = await uow.db.fetchone("SELECT title, year, aired_episodes, tmdb_id, imdb_id FROM shows "
                                    "WHERE trakt_id=?", trakt_id)
    return tuple(row) if row is not None else None


@contextmanager
def uncommitted_delete(path: str | Path, table: str) -> Iterator[None]:
    """Another writer in the middle of a transaction: ``table`` emptied but not committed (rolled back after)."""
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}")
    conn = sqlite3.connect(path, timeout=5)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(f"DELETE FROM {table}")
        yield
    finally:
        conn.rollback()
        conn.close()


def inspect_file(path: str | Path, table: str) -> tuple[int, str, str]:
    """A database file's rows in ``table``, its integrity check and its journal mode (synchronously)."""
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}")
    conn = sqlite3.connect(path)
    try:
        n = int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
        return n, str(conn.execute("PRAGMA integrity_check").fetchone()[0]), \
            str(conn.execute("PRAGMA journal_mode").fetchone()[0])
    finally:
        conn.close()


async def open_transactions(store: Store) -> bool:
    """Whether a transaction was left open: SQLite's connection, or any session of a PostgreSQL database."""
    from engine.store.postgres import PostgresStore
    if isinstance(store, PostgresStore):
        async with store.pool.acquire() as conn:
            n = await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                    "AND state LIKE 'idle in transaction%'")
        return bool(n)
    return store.in_transaction


async def orphan_play(store: SqliteStore, person_id: int, show_id: int) -> None:
    """A play of a show that is not there (foreign keys off for the statement): a database SQLite let rot."""
    await store.conn.execute("PRAGMA foreign_keys=OFF")
    await store.conn.execute("INSERT INTO plays(person_id, play_key, show_id, season, episode, watched_at, source) "
                             "VALUES (?, 'orphan', ?, 1, 1, '2026-01-01T00:00:00.000Z', 'sample')",
                             (person_id, show_id))
    await store.conn.execute("PRAGMA foreign_keys=ON")


async def outcome(store: Store, now_iso: str, synced_since_iso: str) -> dict[str, object]:
    """What a multi-process run left behind (``bench/scaleout.py``): the alert rows due by ``now`` and not
    skipped (id, status, message ref), the alerts and digests still waiting, digest rows by status, people who
    opted into the digest, people not synced since ``synced_since``, and the scheduler lease's holder."""
    async with store.read() as uow:
        db = uow.db
        due = [(int(r[0]), str(r[1]), r[2]) for r in await db.fetch(
            "SELECT id, status, message_ref FROM alerts WHERE due_at <= ? AND status <> 'skipped'", now_iso)]
        waiting = await fetchval(db, "SELECT COUNT(*) FROM alerts WHERE status IN ('pending', 'claimed') AND "
                                     "due_at <= ?", now_iso)
        opted = await fetchval(db, "SELECT COUNT(*) FROM people WHERE settings LIKE '%\"digest\": true%'")
        digests = {str(r[0]): int(r[1]) for r in await db.fetch("SELECT status, COUNT(*) FROM digests GROUP BY 1")}
        unsynced = await fetchval(db, "SELECT COUNT(*) FROM sync_state WHERE last_finished_at IS NULL OR "
                                      "last_finished_at < ?", synced_since_iso)
        created = await fetchval(db, "SELECT COUNT(*) FROM alerts")
        leader = await fetchval(db, "SELECT owner FROM leases WHERE name='scheduler'")
    return {"alerts_due": due, "alerts_waiting": int(waiting), "digest_people": int(opted), "digests": digests,
            "unsynced": int(unsynced), "alerts_created": int(created), "leader": leader}


async def everyone_due(store: Store) -> None:
    """Every linked person's history counts as never synced (the next sync wave takes them all)."""
    async with store.unit() as uow:
        await uow.db.execute("UPDATE sync_state SET last_finished_at = NULL")


async def all_rows(store: Store, table: str) -> list[dict[str, object]]:
    """Every row of ``table``, by column (a forgetting test reads everything the store holds)."""
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}")
    async with store.read() as uow:
        return [dict(r) for r in await uow.db.fetch(f"SELECT * FROM {table}")]
