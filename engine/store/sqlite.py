"""The embedded backend: SQLite through aiosqlite, WAL, foreign keys, numbered migrations (``PRAGMA user_version``).

One connection per process; a unit of work holds it for its duration (``async with store.unit() as uow``: one
``BEGIN IMMEDIATE`` transaction, committed at the end, rolled back on any exception *including cancellation*).
``store.read()`` is the same without the write lock (a deferred transaction: one consistent snapshot).

Cancellation safety: aiosqlite runs statements in order on its own thread, and a statement is queued before the
awaiting task can be cancelled. So whatever await a task is cancelled at — ``BEGIN``, a statement, ``COMMIT`` —
the ``ROLLBACK`` queued on the way out runs after it and before anything the next unit queues; a cancelled task
never leaves a transaction open. Units do not nest (that would deadlock on the lock): a nested one is an error.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from engine.store.db import Row
from engine.store.unit import ShowIdCache, Unit, inside, not_nested


def migrations() -> list[tuple[int, str]]:
    out = []
    for entry in resources.files("engine.store").joinpath("migrations").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            out.append((int(name[:4]), entry.read_text(encoding="utf-8")))
    return sorted(out)


def _split_sql(sql: str) -> list[str]:
    lines = [ln for ln in sql.splitlines() if not ln.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


class SqliteDb:
    """The ``Db`` port over one aiosqlite connection."""

    dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        return list(await self.conn.execute_fetchall(sql, args))

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        rows = list(await self.conn.execute_fetchall(sql, args))     # one round trip to the database thread
        return rows[0] if rows else None

    async def execute(self, sql: str, *args: Any) -> int:
        cur = await self.conn.execute(sql, args)
        n = int(cur.rowcount)
        await cur.close()
        return n

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self.conn.executemany(sql, list(rows))


class SqliteStore:
    backend = "sqlite"

    def __init__(self, path: str | Path, *, up_to: int | None = None) -> None:
        self.path = str(path)
        self.up_to = up_to                      # stop migrating at this version (tests of the upgrade path)
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self.shows = ShowIdCache()

    # -- lifecycle -----------------------------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self._conn is not None

    async def open(self) -> SqliteStore:
        if self._conn is not None:
            return self
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=10000", "synchronous=NORMAL"):
                await conn.execute(f"PRAGMA {pragma}")
            self._conn = conn
            await self.migrate()
        except BaseException:
            # aiosqlite's worker thread is not a daemon: a connection left open after a failed migration (a
            # damaged file, a schema from a newer release) would keep the process alive after it reported the error
            self._conn = None
            await conn.close()
            raise
        return self

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def __aenter__(self) -> SqliteStore:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("store is not open")
        return self._conn

    async def migrate(self) -> None:
        async with self._lock:
            current = await self._user_version()
            for number, sql in migrations():
                if number <= current or (self.up_to is not None and number > self.up_to):
                    continue
                # a migration that rebuilds tables must run with foreign keys off (SQLite's 12-step recipe);
                # the pragma is a no-op inside a transaction, so it is set around it
                rebuild = "-- rebuilds tables" in sql
                if rebuild:
                    await self.conn.execute("PRAGMA foreign_keys=OFF")
                try:
                    await self.conn.execute("BEGIN IMMEDIATE")
                    try:
                        for stmt in _split_sql(sql):
                            await self.conn.execute(stmt)
                        if rebuild:
                            bad = await self.conn.execute_fetchall("PRAGMA foreign_key_check")
                            if list(bad):
                                raise RuntimeError(f"migration {number} broke foreign keys: {list(bad)[:3]}")
                        await self.conn.execute(f"PRAGMA user_version={number}")
                        await self.conn.execute("COMMIT")
                    except BaseException:
                        await _rollback(self.conn)
                        raise
                finally:
                    if rebuild:
                        await self.conn.execute("PRAGMA foreign_keys=ON")

    async def _user_version(self) -> int:
        rows = list(await self.conn.execute_fetchall("PRAGMA user_version"))
        return int(rows[0][0]) if rows else 0

    async def schema_version(self) -> int:
        async with self._lock:
            return await self._user_version()

    # -- units of work -------------------------------------------------------------------------------------------
    @asynccontextmanager
    async def unit(self) -> AsyncIterator[Unit]:
        """One write transaction (``BEGIN IMMEDIATE``): all of it lands, or none of it."""
        async with self._transaction("BEGIN IMMEDIATE") as u:
            yield u

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Unit]:
        """A consistent read (deferred transaction); writes in it are an error of the caller."""
        async with self._transaction("BEGIN") as u:
            yield u

    @asynccontextmanager
    async def _transaction(self, begin: str) -> AsyncIterator[Unit]:
        not_nested(self)
        conn = self.conn
        async with self._lock:
            with inside(self):
                unit = Unit(SqliteDb(conn), self.shows)
                try:
                    await conn.execute(begin)
                    yield unit
                    await conn.execute("COMMIT")
                except BaseException:
                    unit.discard()
                    await _rollback(conn)
                    raise
                else:
                    unit.committed()

    @property
    def in_transaction(self) -> bool:
        return self._conn is not None and self._conn.in_transaction


async def _rollback(conn: aiosqlite.Connection) -> None:
    """Roll back whatever is open. The statement is queued before this task can be interrupted again, so it runs
    even if this await is cancelled; 'no transaction is active' (BEGIN never ran, or COMMIT did) is fine."""
    try:
        await conn.execute("ROLLBACK")
    except sqlite3.OperationalError as e:
        if "no transaction is active" not in str(e):
            raise
