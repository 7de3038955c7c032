"""A unit of work: the repositories of every data area, bound to one transaction of one backend."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from engine.store.db import Db
from engine.store.repos.alerts import AlertRepo
from engine.store.repos.cache import CacheRepo
from engine.store.repos.crowd import CrowdRepo
from engine.store.repos.events import EventRepo
from engine.store.repos.feedback import FeedbackRepo
from engine.store.repos.history import HistoryRepo
from engine.store.repos.leases import LeaseRepo
from engine.store.repos.media import MediaRepo
from engine.store.repos.people import PeopleRepo
from engine.store.repos.personal import PersonalRepo
from engine.store.repos.personas import PersonaRepo
from engine.store.repos.providers import ProviderRepo
from engine.store.repos.shows import ShowRepo
from engine.store.repos.sync import SyncRepo
from engine.store.repos.tokens import TokenRepo

ShowKey = tuple[str, Any]

_inside: contextvars.ContextVar[object | None] = contextvars.ContextVar("multitudes_unit", default=None)


def not_nested(store: object) -> None:
    """Refuse a unit inside another unit of the same store (checked before waiting for the connection: a nested
    unit would wait for the one it sits in)."""
    if _inside.get() is store:
        raise RuntimeError("units of work do not nest: finish the outer one first")


@contextmanager
def inside(store: object) -> Iterator[None]:
    """Mark this task as inside a unit of ``store`` for the block."""
    token = _inside.set(store)
    try:
        yield
    finally:
        _inside.reset(token)


def is_inside(store: object) -> bool:
    return _inside.get() is store


class ShowIdCache:
    """Show ids already stored, with what the row holds: a page of plays of known shows costs no show query.
    Filled only from committed transactions (a rolled-back unit's inserts never reach it)."""

    def __init__(self) -> None:
        self.committed: dict[ShowKey, tuple[int, tuple[Any, ...]]] = {}

    def clear(self) -> None:
        self.committed.clear()


class Unit:
    def __init__(self, db: Db, shows: ShowIdCache) -> None:
        self.db = db
        self._cache = shows
        self._pending: dict[ShowKey, tuple[int, tuple[Any, ...]]] = {}
        self.people = PeopleRepo(db)
        self.tokens = TokenRepo(db)
        self.shows = ShowRepo(db, shows.committed, self._pending)
        self.history = HistoryRepo(db, self.shows)
        self.sync = SyncRepo(db)
        self.personas = PersonaRepo(db)
        self.events = EventRepo(db)
        self.feedback = FeedbackRepo(db)
        self.alerts = AlertRepo(db)
        self.cache = CacheRepo(db)
        self.crowd = CrowdRepo(db)
        self.leases = LeaseRepo(db)
        self.personal = PersonalRepo(db, self.shows)
        self.media = MediaRepo(db)
        self.providers = ProviderRepo(db)

    def committed(self) -> None:
        self._cache.committed.update(self._pending)
        self._pending.clear()

    def discard(self) -> None:
        self._pending.clear()
