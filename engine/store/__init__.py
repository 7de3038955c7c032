"""Storage: repositories per data area behind a unit of work.

    async with store.unit() as uow:          # one write transaction
        await uow.feedback.set(person_id, event_id, FeedbackKind.LIKED, True, now)
    async with store.read() as uow:          # one consistent read
        person = await uow.people.get(person_id)

SQL exists only in this package. SQLite (``SqliteStore``) is the embedded default; PostgreSQL (``PostgresStore``)
serves several processes on one database (``storage.url = "postgresql://…"``).
"""

from engine.store.postgres import PostgresStore
from engine.store.records import ShowRecord
from engine.store.sqlite import SqliteStore
from engine.store.unit import Unit

Store = SqliteStore | PostgresStore

__all__ = ["PostgresStore", "ShowRecord", "SqliteStore", "Store", "Unit", "is_postgres", "open_store"]


def is_postgres(target: str | None) -> bool:
    return bool(target) and str(target).startswith(("postgresql://", "postgres://"))


def open_store(target: str) -> Store:
    """A store for ``storage.url`` (``postgresql://…``) or ``storage.path`` (a SQLite file, or ``:memory:``)."""
    return PostgresStore(target) if is_postgres(target) else SqliteStore(target)
