"""The request ports: a pick sent to the owner's Seerr (Jellyseerr/Overseerr, as the person's own Seerr user) or
straight to Sonarr — what ``engine.usecases.media`` needs from either."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from engine.values.plans import Outcome


@dataclass(frozen=True, slots=True)
class SeerrAnswer:
    outcome: Outcome
    request_id: int | None = None
    message: str = ""


class SeerrPort(Protocol):
    async def user_for(self, server: str, server_user_id: str) -> int | None:
        """The Seerr user whose media-server account this is (None: they have none)."""
        ...

    async def request(self, seerr_user: int, tmdb_id: int, tvdb_id: int | None) -> SeerrAnswer: ...


class SonarrPort(Protocol):
    async def add(self, tvdb_id: int | None, tmdb_id: int | None) -> Outcome: ...
