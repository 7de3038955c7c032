"""Leases across processes (issue 15): a name, the process holding it, until when. The scheduler's fixed jobs run
only in the process holding the ``scheduler`` lease; with one process (SQLite) that is always this one."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from engine.plumbing.clock import Clock
from engine.store import Store


def new_owner() -> str:
    """Who holds a lease or a claim: ``host:pid:random`` — unique per holder, and a dead process on this host can be
    told from its pid (``engine.usecases.sync.lease_is_stale``)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


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
