"""Shared look-ups (public lists, calendars, related shows, search results) cached in the store with a lifetime,
so every person and every process asks the outside service once per lifetime.

Each process also keeps the answers it read last in memory (``Memo``) until the stored entry expires: a list
gathers some thirty of them on every request, and reading and decoding each from the store again cost more than
the rest of gathering. The store stays the one source: a memo is filled only from it (or from what was just
written to it) and never outlives the stored entry's lifetime."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from engine.plumbing.clock import Clock

if TYPE_CHECKING:
    from engine.store import Store

PRUNE_EVERY = 256          # writes between two sweeps of expired entries
MEMO_SIZE = 512            # answers a process keeps decoded (a few MB; the oldest read goes first)


class Memo:
    """Decoded answers with the moment their stored entry expires, newest last. Callers only read what they get."""

    def __init__(self, size: int = MEMO_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[str, tuple[datetime, Any]] = OrderedDict()

    def get(self, key: str, now: datetime) -> Any | None:
        got = self._items.get(key)
        if got is None:
            return None
        if got[0] <= now:
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return got[1]

    def put(self, key: str, body: Any, until: datetime) -> None:
        self._items[key] = (until, body)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


class CachedLookups:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._puts = 0
        self.memo = Memo()

    async def get(self, key: str) -> Any | None:
        async with self.store.read() as uow:
            return await uow.cache.get(key, self.clock.now())

    async def put(self, key: str, body: Any, ttl: timedelta) -> None:
        """Cache ``body``; every ``PRUNE_EVERY`` writes, expired entries are deleted (the cache never grows without
        bound, and nothing outlives its lifetime in it)."""
        now = self.clock.now()
        self._puts += 1
        async with self.store.unit() as uow:
            await uow.cache.put(key, body, now, now + ttl)
            if self._puts % PRUNE_EVERY == 1:
                await uow.cache.prune(now)

    async def get_or_fetch(self, key: str, ttl: timedelta, fetch: Callable[[], Awaitable[Any]]) -> Any:
        """The cached body (this process's decoded copy while the stored entry lives), or ``fetch()``'s (cached for
        ``ttl``). A failing fetch caches nothing."""
        now = self.clock.now()
        hit = self.memo.get(key, now)
        if hit is not None:
            return hit
        async with self.store.read() as uow:
            entry = await uow.cache.entry(key, now)
        if entry is not None:
            self.memo.put(key, entry[0], entry[1])
            return entry[0]
        body = await fetch()
        await self.put(key, body, ttl)
        self.memo.put(key, body, now + ttl)
        return body
