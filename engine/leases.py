"""Leases across processes (issue 15): a name, the process holding it, until when. The scheduler's fixed jobs run
only in the process holding the ``scheduler`` lease; with one process (SQLite) that is always this one."""

from __future__ import annotations

from datetime import timedelta

from .clock import Clock
from .store import Store


class Leases:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def hold(self, name: str, owner: str, ttl: timedelta) -> bool:
        """Take or renew ``name`` for ``owner`` for ``ttl``; False while another live process holds it."""
        now = self.clock.now()
        async with self.store.unit() as uow:
            return await uow.leases.take(name, owner, now + ttl, now)

    async def release(self, name: str, owner: str) -> None:
        async with self.store.unit() as uow:
            await uow.leases.release(name, owner)
