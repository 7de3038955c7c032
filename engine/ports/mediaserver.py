"""The media-server port: a person's plays and the server's shows from Jellyfin, Emby or Plex, a linking code, and
a published collection — what ``engine.usecases.media`` and ``engine.usecases.publish`` need, as values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from engine.plumbing.http import HttpService
from engine.values.models import ShowRef

Kind = Literal["jellyfin", "emby", "plex"]
NAMES = {"jellyfin": "Jellyfin", "emby": "Emby", "plex": "Plex"}


@dataclass(frozen=True, slots=True)
class ServerUser:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class ServerShow:
    item_id: str
    ref: ShowRef | None             # None: the server knows no TMDB, TVDB or IMDb id for it


@dataclass(frozen=True, slots=True)
class ServerPlay:
    item_id: str                    # the episode
    series_id: str
    series_title: str
    season: int
    episode: int | None
    title: str | None
    played_at: datetime


@dataclass(frozen=True, slots=True)
class PlayedPage:
    plays: list[ServerPlay]
    total: int                      # every played episode of the user, on every page
    size: int = 0                   # items on this page, the ones without a date or season included


@dataclass(frozen=True, slots=True)
class QuickCode:
    code: str                       # what the person types in their server's Quick Connect page
    secret: str


class MediaServerPort(Protocol):
    """One media server as a history source (``engine.adapters.jellyfin`` for Jellyfin and Emby,
    ``engine.adapters.plex``)."""
    http: HttpService

    @property
    def kind(self) -> str: ...

    async def users(self) -> list[ServerUser]: ...
    async def start_code(self) -> QuickCode: ...
    async def code_user(self, secret: str) -> ServerUser | None: ...
    async def played(self, user_id: str, start: int, limit: int) -> PlayedPage: ...
    async def shows(self, user_id: str | None, start: int, limit: int,
                    ids: list[str] | None = None) -> tuple[list[ServerShow], int]: ...
    async def publish_collection(self, name: str, ref: str | None, items: list[str]) -> str | None: ...
