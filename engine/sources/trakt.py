"""Trakt API client: device linking, rotating refresh tokens, pagination, and typed parsing of sync payloads.

Wire facts (see docs.trakt.tv): required headers ``trakt-api-version: 2`` and ``trakt-api-key``; device polling
answers 400 pending, 404 unknown, 409 already used, 410 expired, 418 denied, 429 slow down; refresh tokens are
single use, so a new pair is saved atomically before it is used, and when several requests hit 401 at once only
one of them refreshes (the others see the token generation move and retry with the new token).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx

from ..aio import run_all
from ..clock import Clock, parse_ts
from ..config import TraktSettings
from ..errors import (
    LinkAlreadyUsed,
    LinkDenied,
    LinkExpired,
    LinkPending,
    LinkSlowDown,
    LinkUnknown,
    MultitudesError,
    TraktAccountLimit,
    TraktAccountLocked,
    TraktForbidden,
    TraktReauthRequired,
    TraktVipRequired,
)
from ..http import HttpService
from ..models import DeviceLink, Play, ShowIds, ShowRef

log = logging.getLogger(__name__)


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
    """Where tokens live (encrypted SQLite in production)."""

    async def load(self, person_id: int) -> Tokens | None: ...

    async def save(self, person_id: int, tokens: Tokens) -> Tokens: ...

    async def delete(self, person_id: int) -> None: ...


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Any]
    page: int
    page_count: int
    item_count: int | None


def parse_ids(raw: dict[str, Any] | None) -> ShowIds:
    raw = raw or {}

    def _int(v: Any) -> int | None:
        try:
            return int(v) if v not in (None, "", 0, "0") else None
        except (TypeError, ValueError):
            return None

    imdb = raw.get("imdb")
    return ShowIds(
        trakt=_int(raw.get("trakt")), tmdb=_int(raw.get("tmdb")), imdb=imdb if isinstance(imdb, str) and imdb else None,
        tvdb=_int(raw.get("tvdb")), slug=raw.get("slug") if isinstance(raw.get("slug"), str) else None,
    )


def parse_show(raw: dict[str, Any]) -> ShowRef:
    aired = raw.get("aired_episodes")
    return ShowRef(
        ids=parse_ids(raw.get("ids")), title=str(raw.get("title") or "?"),
        year=raw.get("year") if isinstance(raw.get("year"), int) else None,
        aired_episodes=aired if isinstance(aired, int) else None,
    )


def parse_history_item(item: dict[str, Any]) -> Play | None:
    """One row of /sync/history/shows; None for rows that are not episodes of a show."""
    if item.get("type", "episode") != "episode" or "show" not in item or "episode" not in item:
        return None
    ep = item["episode"]
    watched = parse_ts(item.get("watched_at"))
    if watched is None or ep.get("season") is None:
        return None
    hid = item.get("id")
    return Play(
        show=parse_show(item["show"]), season=int(ep["season"]),
        episode=int(ep["number"]) if ep.get("number") is not None else None,
        watched_at=watched, history_id=int(hid) if hid is not None else None,
        action=item.get("action"), episode_title=ep.get("title"),
    )


class TraktClient:
    def __init__(self, settings: TraktSettings, client_id: str, client_secret: str, http: HttpService,
                 vault: TokenVault, clock: Clock) -> None:
        self.settings = settings
        self.client_id = client_id
        self.client_secret = client_secret
        self.http = http
        self.vault = vault
        self.clock = clock
        self._locks: dict[int, asyncio.Lock] = {}
        self._cache: dict[int, Tokens] = {}
        self.refreshes = 0

    @property
    def base(self) -> str:
        return self.settings.base_url

    def _headers(self, access: str | None = None) -> dict[str, str]:
        h = {
            "Content-Type": "application/json",
            "trakt-api-version": "2",
            "trakt-api-key": self.client_id,
            "User-Agent": self.settings.user_agent,
        }
        if access:
            h["Authorization"] = f"Bearer {access}"
        return h

    # -- device linking ----------------------------------------------------------------------------------------
    async def device_code(self) -> tuple[str, DeviceLink]:
        resp = await self.http.request(
            "POST", f"{self.base}/oauth/device/code", json={"client_id": self.client_id}, headers=self._headers()
        )
        self._raise_for_status(resp)
        body = resp.json()
        link = DeviceLink(
            user_code=body["user_code"], verification_url=body["verification_url"],
            expires_at=self.clock.now() + timedelta(seconds=int(body["expires_in"])),
            interval_s=int(body["interval"]) if body.get("interval") is not None else 5,
        )
        return str(body["device_code"]), link

    async def poll_device_token(self, device_code: str) -> Tokens:
        """One poll. Raises LinkPending while waiting (and on 429 slow-down), or the matching terminal error."""
        resp = await self.http.request(
            "POST", f"{self.base}/oauth/device/token",
            json={"code": device_code, "client_id": self.client_id, "client_secret": self.client_secret},
            headers=self._headers(), retry_429=False,   # 429 here means "poll more slowly", not "retry now"
        )
        match resp.status_code:
            case 200:
                return Tokens.from_response(resp.json())
            case 400:
                raise LinkPending("device code pending")
            case 429:
                raise LinkSlowDown("polling too fast")
            case 404:
                raise LinkUnknown("device code not found")
            case 409:
                raise LinkAlreadyUsed("device code already used")
            case 410:
                raise LinkExpired("device code expired")
            case 418:
                raise LinkDenied("device code denied")
        self._raise_for_status(resp)
        raise MultitudesError(f"unexpected device token status {resp.status_code}")

    async def revoke(self, person_id: int) -> None:
        tok = await self.vault.load(person_id)
        if tok is None:
            return
        resp = await self.http.request(
            "POST", f"{self.base}/oauth/revoke",
            json={"token": tok.access_token, "client_id": self.client_id, "client_secret": self.client_secret},
            headers=self._headers(),
        )
        if resp.status_code >= 400 and resp.status_code not in (401, 403):
            log.warning("trakt revoke answered %s", resp.status_code)

    # -- tokens ------------------------------------------------------------------------------------------------
    def _lock(self, person_id: int) -> asyncio.Lock:
        return self._locks.setdefault(person_id, asyncio.Lock())

    async def store_new_tokens(self, person_id: int, tokens: Tokens) -> Tokens:
        saved = await self.vault.save(person_id, tokens)
        self._cache[person_id] = saved
        return saved

    async def _current(self, person_id: int) -> Tokens:
        tok = self._cache.get(person_id)
        if tok is None:
            tok = await self.vault.load(person_id)
            if tok is None:
                raise TraktReauthRequired("no tokens stored", user_message="Link your Trakt account first: /link")
            self._cache[person_id] = tok
        if tok.expires_at - timedelta(seconds=self.settings.refresh_margin_s) <= self.clock.now():
            tok = await self._refresh(person_id, tok.generation)
        return tok

    async def _refresh(self, person_id: int, seen_generation: int) -> Tokens:
        async with self._lock(person_id):
            current = await self.vault.load(person_id)
            if current is None:
                raise TraktReauthRequired("tokens deleted")
            if current.generation != seen_generation:   # someone refreshed while we waited
                self._cache[person_id] = current
                return current
            resp = await self.http.request(
                "POST", f"{self.base}/oauth/token",
                json={"refresh_token": current.refresh_token, "client_id": self.client_id,
                      "client_secret": self.client_secret, "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
                      "grant_type": "refresh_token"},
                headers=self._headers(),
            )
            if resp.status_code in (400, 401):
                # maybe another process rotated it first; its tokens are then in the vault
                again = await self.vault.load(person_id)
                if again is not None and again.generation != current.generation:
                    self._cache[person_id] = again
                    return again
                self._cache.pop(person_id, None)
                raise TraktReauthRequired(f"refresh refused ({resp.status_code})")
            self._raise_for_status(resp)
            self.refreshes += 1
            return await self.store_new_tokens(person_id, Tokens.from_response(resp.json()))

    # -- requests ----------------------------------------------------------------------------------------------
    def _raise_for_status(self, resp: httpx.Response) -> None:
        code = resp.status_code
        if code < 400:
            return
        path = resp.request.url.path if resp.request else "?"
        if code == 403:
            raise TraktForbidden(f"403 on {path}")
        if code == 420:
            raise TraktAccountLimit(f"420 on {path}")
        if code == 423:
            raise TraktAccountLocked(
                f"423 on {path} locked={resp.headers.get('X-Account-Locked')} "
                f"deactivated={resp.headers.get('X-Account-Deactivated')}"
            )
        if code == 426:
            raise TraktVipRequired(f"426 on {path}")
        raise MultitudesError(f"Trakt answered {code} on {path}", user_message=f"Trakt refused the request ({code}).")

    async def request(self, method: str, path: str, *, person_id: int | None = None,
                      params: dict[str, Any] | None = None, json: Any = None) -> httpx.Response:
        url = f"{self.base}{path}"
        if person_id is None:
            resp = await self.http.request(method, url, params=params, json=json, headers=self._headers())
        else:
            tok = await self._current(person_id)
            resp = await self.http.request(
                method, url, params=params, json=json, headers=self._headers(tok.access_token)
            )
            if resp.status_code == 401:
                tok = await self._refresh(person_id, tok.generation)
                resp = await self.http.request(
                    method, url, params=params, json=json, headers=self._headers(tok.access_token)
                )
                if resp.status_code == 401:
                    raise TraktReauthRequired(f"401 after refresh on {path}")
        self._raise_for_status(resp)
        return resp

    async def get(self, path: str, *, person_id: int | None = None, params: dict[str, Any] | None = None) -> Any:
        resp = await self.request("GET", path, person_id=person_id, params=params)
        if resp.status_code == 204 or not resp.content:
            return None
        return resp.json()

    async def page(self, path: str, page: int, *, person_id: int | None = None,
                   params: dict[str, Any] | None = None, limit: int | None = None) -> Page:
        q = dict(params or {})
        q["page"] = page
        q["limit"] = limit or self.settings.page_limit
        resp = await self.request("GET", path, person_id=person_id, params=q)
        items = resp.json() if resp.content else []
        h = resp.headers
        count = int(h.get("X-Pagination-Page-Count") or 1)
        total = h.get("X-Pagination-Item-Count")
        return Page(items=items, page=page, page_count=count, item_count=int(total) if total else None)

    async def all_pages(self, path: str, *, person_id: int | None = None, params: dict[str, Any] | None = None,
                        on_page: Callable[[Page], Awaitable[None]] | None = None,
                        skip_pages: frozenset[int] = frozenset()) -> list[Any]:
        """Read every page: page 1 first (it tells the page count), then the rest with bounded concurrency."""
        first = await self.page(path, 1, person_id=person_id, params=params)
        results: dict[int, list[Any]] = {1: first.items}
        if on_page is not None:
            await on_page(first)
        sem = asyncio.Semaphore(self.settings.page_concurrency)

        async def one(n: int) -> None:
            async with sem:
                pg = await self.page(path, n, person_id=person_id, params=params)
            results[n] = pg.items
            if on_page is not None:
                await on_page(pg)

        await run_all(one(n) for n in range(2, first.page_count + 1) if n not in skip_pages)
        return [x for n in sorted(results) for x in results[n]]

    async def paginated_optional(self, path: str, *, person_id: int, params: dict[str, Any] | None = None) -> list[Any]:
        """Endpoints with optional pagination return everything without page/limit; still follow page headers."""
        resp = await self.request("GET", path, person_id=person_id, params=params)
        items: list[Any] = resp.json() if resp.content else []
        count = int(resp.headers.get("X-Pagination-Page-Count") or 1)
        if count > 1:
            limit = int(resp.headers.get("X-Pagination-Limit") or len(items) or self.settings.page_limit)
            for n in range(2, count + 1):
                pg = await self.page(path, n, person_id=person_id, params=params, limit=limit)
                items.extend(pg.items)
        return items
