"""Trakt tokens at rest: encrypted with Fernet in the store; each save bumps a generation counter."""

from __future__ import annotations

from datetime import datetime

from .clock import Clock
from .crypto import TokenCipher
from .sources.trakt import Tokens
from .store import Store


class StoreVault:
    def __init__(self, store: Store, cipher: TokenCipher, clock: Clock) -> None:
        self.store = store
        self.cipher = cipher
        self.clock = clock

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
