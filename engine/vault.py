"""Trakt tokens at rest: encrypted with Fernet in SQLite; each save bumps a generation counter."""

from __future__ import annotations

from datetime import datetime

from .crypto import TokenCipher
from .sources.trakt import Tokens
from .store import Store


class StoreVault:
    def __init__(self, store: Store, cipher: TokenCipher) -> None:
        self.store = store
        self.cipher = cipher

    async def load(self, person_id: int) -> Tokens | None:
        got = await self.store.load_tokens(person_id)
        if got is None:
            return None
        blob, generation = got
        d = self.cipher.decrypt(blob)
        return Tokens(d["access"], d["refresh"], datetime.fromisoformat(d["expires_at"]), generation)

    async def save(self, person_id: int, tokens: Tokens) -> Tokens:
        gen = await self.store.save_tokens(person_id, self.cipher.encrypt(tokens.as_payload()), tokens.expires_at)
        return Tokens(tokens.access_token, tokens.refresh_token, tokens.expires_at, gen)

    async def delete(self, person_id: int) -> None:
        await self.store.delete_tokens(person_id)
