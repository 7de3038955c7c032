"""The Trakt port: what the engine asks of Trakt, and the plain values it answers with."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, Protocol

from engine.values.models import DeviceLink, Play, ShowIds, ShowRef

PublicList = Literal["trending", "popular", "anticipated"]
Listed = tuple[ShowRef, str | None, Any]     # (show, when, rating or None)


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_at: datetime
    generation: int = 0

    @classmethod
    def from_response(cls, body: dict[str, Any], generation: int = 0) -> Tokens:
        created = datetime.fromtimestamp(int(body.get("created_at") or datetime.now(UTC).timestamp()), UTC)
        return cls(
            access_token=str(body["access_token"]),
            refresh_token=str(body["refresh_token"]),
            expires_at=created + timedelta(seconds=int(body.get("expires_in") or 0)),
            generation=generation,
        )

    def as_payload(self) -> dict[str, Any]:
        return {"access": self.access_token, "refresh": self.refresh_token, "expires_at": self.expires_at.isoformat()}


class TokenVault(Protocol):
    """Where tokens live (encrypted in the store in production)."""

    async def load(self, person_id: int) -> Tokens | None: ...

    async def save(self, person_id: int, tokens: Tokens) -> Tokens: ...

    async def delete(self, person_id: int, generation: int | None = None) -> None: ...

    def refreshing(self, person_id: int) -> AbstractAsyncContextManager[None]:
        """Held while one process refreshes the person's tokens: refresh tokens are single use, so a second
        process refreshing at the same time would be refused and take the person for unlinked."""
        ...


@dataclass(frozen=True, slots=True)
class TraktAccount:
    """What /users/settings says about a person."""
    username: str | None
    vip: bool
    timezone: str | None
    watchlist_limit: int | None


@dataclass(frozen=True, slots=True)
class WatchedShow:
    show: ShowRef
    plays: int
    last_updated_at: str | None


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    show: ShowRef
    season: int
    episode: int
    first_aired: datetime
    title: str | None = None            # the episode's (a person's own calendar; public ones do not need it)
    runtime: int | None = None


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Any]
    page: int
    page_count: int
    item_count: int | None


class TraktPort(Protocol):
    """Everything the engine asks of Trakt, in domain terms."""

    @property
    def requests(self) -> int:
        """Requests put on the wire so far (retries included)."""
        ...

    async def device_code(self) -> tuple[str, DeviceLink]: ...

    async def poll_device_token(self, device_code: str) -> Tokens: ...

    async def store_new_tokens(self, person_id: int, tokens: Tokens) -> Tokens: ...

    async def revoke(self, person_id: int) -> None: ...

    async def forget_tokens(self, person_id: int) -> None: ...

    async def account(self, person_id: int) -> TraktAccount: ...

    async def last_activities(self, person_id: int) -> dict[str, Any]: ...

    async def history(self, person_id: int, *, start_at: str | None, end_at: str | None,
                      on_page: Callable[[int, list[Play]], Awaitable[None]], skip_pages: frozenset[int]) -> None: ...

    async def show_history(self, person_id: int, trakt_id: int) -> list[Play]: ...

    async def watched_shows(self, person_id: int) -> list[WatchedShow]: ...

    async def ratings(self, person_id: int) -> list[Listed]: ...

    async def watchlist(self, person_id: int) -> list[Listed]: ...

    async def hidden(self, person_id: int, section: Literal["progress_watched", "dropped"]) -> list[Listed]: ...

    async def recommendations(self, person_id: int, limit: int = 50) -> list[ShowRef]: ...

    async def public_shows(self, which: PublicList, limit: int = 40) -> list[ShowRef]: ...

    async def related(self, trakt_id: int, limit: int = 30) -> list[ShowRef]: ...

    async def calendar(self, which: Literal["premieres", "finales"], start: date, days: int,
                       ttl: timedelta = ...) -> list[CalendarEntry]: ...

    async def my_calendar(self, person_id: int, start: date, days: int) -> list[CalendarEntry]: ...

    async def mark_watched(self, person_id: int, ids: ShowIds, upto: tuple[int, int] | None = None) -> int: ...

    async def rate(self, person_id: int, ids: ShowIds, rating: int | None, at: datetime) -> None: ...

    async def hide_recommendation(self, person_id: int, ids: ShowIds, hidden: bool) -> None: ...

    async def add_to_watchlist(self, person_id: int, ids: ShowIds) -> None: ...

    async def publish_list(self, person_id: int, name: str, description: str,
                           shows: Sequence[ShowIds]) -> tuple[int, int]: ...


class PublicSource(Protocol):
    """What the graph reads: one page of a public Trakt endpoint, None when it is not public. ``TraktClient`` is
    one; the evaluation's adapter over a dataset's other people is another (the same calls, counted the same)."""

    async def public_page(self, path: str, page: int = 1, limit: int | None = None) -> Page | None: ...
