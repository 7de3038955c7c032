"""Trakt tokens at rest: an encrypted blob per person and a generation that moves with every save."""

from __future__ import annotations

from datetime import datetime

from engine.store.db import Db
from engine.values.times import iso


class TokenRepo:
    def __init__(self, db: Db) -> None:
        self.db = db

    async def save(self, person_id: int, ciphertext: bytes, expires_at: datetime, now: datetime) -> int:
        """Store (or rotate) the person's tokens; returns the new generation."""
        row = await self.db.fetchone(
            "INSERT INTO trakt_tokens(person_id, ciphertext, expires_at, generation, updated_at) VALUES (?,?,?,1,?) "
            "ON CONFLICT(person_id) DO UPDATE SET ciphertext=excluded.ciphertext, expires_at=excluded.expires_at, "
            "generation=trakt_tokens.generation+1, updated_at=excluded.updated_at RETURNING generation",
            person_id, ciphertext, iso(expires_at), iso(now))
        return int(row[0]) if row is not None else 0

    async def load(self, person_id: int) -> tuple[bytes, int] | None:
        row = await self.db.fetchone("SELECT ciphertext, generation FROM trakt_tokens WHERE person_id=?", person_id)
        return (bytes(row[0]), int(row[1])) if row is not None else None

    async def exists(self, person_id: int) -> bool:
        return await self.db.fetchone("SELECT 1 FROM trakt_tokens WHERE person_id=?", person_id) is not None

    async def delete(self, person_id: int, generation: int | None = None) -> None:
        """Delete the tokens (only those of ``generation`` when given: a newer pair saved meanwhile stays)."""
        if generation is None:
            await self.db.execute("DELETE FROM trakt_tokens WHERE person_id=?", person_id)
        else:
            await self.db.execute("DELETE FROM trakt_tokens WHERE person_id=? AND generation=?", person_id,
                                  generation)

    async def linked_people(self) -> list[int]:
        return [int(r[0]) for r in await self.db.fetch("SELECT person_id FROM trakt_tokens ORDER BY person_id")]
