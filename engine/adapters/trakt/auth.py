"""Trakt's authenticated session: device linking (RFC 8628 polling answers), rotating single-use refresh tokens, and
the one place a request is sent and its status turned into an error of ours."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import httpx

from engine.plumbing.caching import CachedLookups
from engine.plumbing.clock import Clock
from engine.plumbing.config import TraktSettings
from engine.plumbing.http import HttpService
from engine.ports.trakt import Tokens, TokenVault
from engine.values.errors import (
    LinkAlreadyUsed,
    LinkDenied,
    LinkExpired,
    LinkPending,
    LinkSlowDown,
    LinkUnknown,
    MultitudesError,
    OutcomeUnknown,
    TraktAccountLimit,
    TraktAccountLocked,
    TraktForbidden,
    TraktReauthRequired,
    TraktRenewalLost,
    TraktVipRequired,
)
from engine.values.i18n import _
from engine.values.models import DeviceLink

log = logging.getLogger(__name__)


class TraktSession:
    """One app's authenticated session with Trakt: device linking, rotating refresh tokens (one renewal at a
    time, across processes), and the one place a request is sent and its status read."""

    def __init__(self, settings: TraktSettings, client_id: str, client_secret: str, http: HttpService,
                 vault: TokenVault, clock: Clock, cache: CachedLookups | None = None) -> None:
        self.settings = settings
        self.client_id = client_id
        self.client_secret = client_secret
        self.http = http
        self.vault = vault
        self.clock = clock
        self.cache = cache              # CachedLookups (engine.plumbing.caching) for the public, shared look-ups
        self._locks: dict[int, asyncio.Lock] = {}
        self._cache: dict[int, Tokens] = {}
        self._in_doubt: dict[int, int] = {}      # person -> token generation whose renewal got no answer
        self.refreshes = 0

    @property
    def requests(self) -> int:
        return self.http.requests

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

    async def forget_tokens(self, person_id: int) -> None:
        self._cache.pop(person_id, None)
        await self.vault.delete(person_id)

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
                raise TraktReauthRequired("no tokens stored", user_message=_("Link your Trakt account first: /link"))
            self._cache[person_id] = tok
        if tok.expires_at - timedelta(seconds=self.settings.refresh_margin_s) <= self.clock.now():
            tok = await self._refresh(person_id, tok.generation)
        return tok

    async def _refresh(self, person_id: int, seen_generation: int) -> Tokens:
        async with self._lock(person_id), self.vault.refreshing(person_id):
            current = await self.vault.load(person_id)
            if current is None:
                raise TraktReauthRequired("tokens deleted")
            if current.generation != seen_generation:   # someone refreshed while we waited
                self._cache[person_id] = current
                return current
            try:
                # the refresh token is single-use: a renewal that got no answer is never sent again (Trakt may
                # have rotated it already; a second try would be refused and read as a revocation)
                resp = await self.http.request(
                    "POST", f"{self.base}/oauth/token",
                    json={"refresh_token": current.refresh_token, "client_id": self.client_id,
                          "client_secret": self.client_secret, "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
                          "grant_type": "refresh_token"},
                    headers=self._headers(), once=True,
                )
            except OutcomeUnknown:
                self._in_doubt[person_id] = current.generation      # the tokens stay: nothing is known yet
                raise
            if resp.status_code in (400, 401):
                # maybe another process rotated it first; its tokens are then in the vault
                again = await self.vault.load(person_id)
                if again is not None and again.generation != current.generation:
                    self._cache[person_id] = again
                    return again
                # revoked or expired for good (or spent by a renewal whose answer never came): unlink now, so the
                # next request says "link again" at once instead of trying a dead refresh token every time
                self._cache.pop(person_id, None)
                await self.vault.delete(person_id, current.generation)
                lost = self._in_doubt.pop(person_id, None) == current.generation
                err = (TraktRenewalLost if lost else TraktReauthRequired)(f"refresh refused ({resp.status_code})")
                err.generation = current.generation
                raise err
            self._in_doubt.pop(person_id, None)
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
        raise MultitudesError(f"Trakt answered {code} on {path}",
                              user_message=_("Trakt refused the request ({code}).").format(code=code))

    async def request(self, method: str, path: str, *, person_id: int | None = None,
                      params: dict[str, Any] | None = None, json: Any = None,
                      accept: tuple[int, ...] = (), once: bool = False) -> httpx.Response:
        """``accept``: error statuses the caller handles itself (e.g. 404 for "Trakt does not know this show")."""
        url = f"{self.base}{path}"
        if person_id is None:
            resp = await self.http.request(method, url, params=params, json=json, headers=self._headers())
        else:
            tok = await self._current(person_id)
            resp = await self.http.request(
                method, url, params=params, json=json, headers=self._headers(tok.access_token), once=once
            )
            if resp.status_code == 401:
                tok = await self._refresh(person_id, tok.generation)
                resp = await self.http.request(
                    method, url, params=params, json=json, headers=self._headers(tok.access_token), once=once
                )
                if resp.status_code == 401:
                    raise TraktReauthRequired(f"401 after refresh on {path}")
        if resp.status_code not in accept:
            self._raise_for_status(resp)
        return resp

    async def get(self, path: str, *, person_id: int | None = None, params: dict[str, Any] | None = None) -> Any:
        resp = await self.request("GET", path, person_id=person_id, params=params)
        if resp.status_code == 204 or not resp.content:
            return None
        return resp.json()
