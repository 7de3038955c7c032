"""Shared look-ups (public lists, calendars, related shows, search results) cached in the store with a lifetime,
so every person and every process asks the outside service once per lifetime."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from engine.plumbing.clock import Clock

if TYPE_CHECKING:
    from engine.store import Store

PRUNE_EVERY = 256          # writes between two sweeps of expired entries


class CachedLookups:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._puts = 0

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
        """The cached body, or ``fetch()``'s (cached for ``ttl``). A failing fetch caches nothing."""
        hit = await self.get(key)
        if hit is not None:
            return hit
        body = await fetch()
        await self.put(key, body, ttl)
        return body
