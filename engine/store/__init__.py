"""Storage: repositories per data area behind a unit of work.

    async with store.unit() as uow:          # one write transaction
        await uow.feedback.set(person_id, event_id, FeedbackKind.LIKED, True, now)
    async with store.read() as uow:          # one consistent read
        person = await uow.people.get(person_id)

SQL exists only in this package. SQLite (``SqliteStore``) is the embedded default.
"""

from .records import ShowRecord
from .sqlite import SqliteStore
from .unit import Unit

Store = SqliteStore

__all__ = ["ShowRecord", "SqliteStore", "Store", "Unit", "open_store"]


def open_store(url: str) -> SqliteStore:
    """A store for ``storage.path`` (a file path, or ``:memory:``)."""
    return SqliteStore(url)
