"""Trakt tokens at rest: encrypted with Fernet in the store; each save bumps a generation counter. A refresh holds
the lease ``trakt-refresh:<person>`` in the store, so two processes never spend one single-use refresh token."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from engine.plumbing.clock import Clock
from engine.plumbing.crypto import TokenCipher
from engine.plumbing.leases import new_owner
from engine.ports.trakt import Tokens
from engine.store import Store

REFRESH_TTL = timedelta(seconds=60)     # longer than a refresh takes with its retries; a dead holder's lapses
REFRESH_POLL_S = 0.2


class StoreVault:
    def __init__(self, store: Store, cipher: TokenCipher, clock: Clock) -> None:
        self.store = store
        self.cipher = cipher
        self.clock = clock
        self.owner = new_owner()

    @asynccontextmanager
    async def refreshing(self, person_id: int) -> AsyncIterator[None]:
        """Wait until no other process is refreshing this person's tokens, then hold the lease while we do; the
        caller re-reads the tokens inside (the other process's new ones, most of the time)."""
        name = f"trakt-refresh:{person_id}"
        waited = 0.0
        while True:
            now = self.clock.now()
            async with self.store.unit() as uow:
                if await uow.leases.take(name, self.owner, now + REFRESH_TTL, now):
                    break
            if waited >= REFRESH_TTL.total_seconds():     # the holder is stuck past any refresh: go ahead
                break
            await asyncio.sleep(REFRESH_POLL_S)
            waited += REFRESH_POLL_S
        try:
            yield
        finally:
            async with self.store.unit() as uow:
                await uow.leases.release(name, self.owner)

    async def load(self, person_id: int) -> Tokens | None:
        async with self.store.read() as uow:
            got = await uow.tokens.load(person_id)
        if got is None:
            return None
        blob, generation = got
        d = self.cipher.decrypt(blob)
        return Tokens(d["access"], d["refresh"], datetime.fromisoformat(d["expires_at"]), generation)

    async def save(self, person_id: int, tokens: Tokens) -> Tokens:
        blob = self.cipher.encrypt(tokens.as_payload())
        async with self.store.unit() as uow:
            gen = await uow.tokens.save(person_id, blob, tokens.expires_at, self.clock.now())
        return Tokens(tokens.access_token, tokens.refresh_token, tokens.expires_at, gen)

    async def delete(self, person_id: int, generation: int | None = None) -> None:
        async with self.store.unit() as uow:
            await uow.tokens.delete(person_id, generation)
