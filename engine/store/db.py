"""The one port a storage backend implements: run a statement on the connection of the current unit of work.

Repositories (``engine/store/repos``) are written once, in SQL that SQLite (3.35+) and PostgreSQL both accept:
``?`` placeholders (a backend may rewrite them), ``ON CONFLICT … DO UPDATE/NOTHING`` instead of ``INSERT OR …``,
``RETURNING`` instead of ``lastrowid``, ``CAST(… AS TEXT)`` before ``||``, timestamps as ISO-8601 text. So a second
backend implements this small protocol and its migrations, not every repository.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol


class Row(Protocol):
    """A result row: by position or by column name (sqlite3.Row and asyncpg.Record both are)."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def keys(self) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...


class Db(Protocol):
    dialect: str                       # "sqlite" | "postgresql"

    async def fetch(self, sql: str, *args: Any) -> list[Row]: ...

    async def fetchone(self, sql: str, *args: Any) -> Row | None: ...

    async def execute(self, sql: str, *args: Any) -> int:
        """Run one statement; the number of rows it changed."""
        ...

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...


async def fetchval(db: Db, sql: str, *args: Any) -> Any:
    row = await db.fetchone(sql, *args)
    return row[0] if row is not None else None


def marks(n: int) -> str:
    return ",".join("?" * n)


def chunks(xs: Sequence[Any], n: int = 900) -> list[list[Any]]:
    """Keep statements far below every engine's parameter limit."""
    return [list(xs[i:i + n]) for i in range(0, len(xs), n)]
