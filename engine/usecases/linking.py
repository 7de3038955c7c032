"""Linking a Trakt account by device code (RFC 8628): start, poll at Trakt's interval, store the tokens."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from engine.plumbing.clock import Clock
from engine.ports.trakt import TraktPort
from engine.store import Store
from engine.values.errors import LinkPending, LinkSlowDown, NotLinked
from engine.values.i18n import _
from engine.values.models import DeviceLink

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    device_code: str
    link: DeviceLink
    interval: float


class LinkingService:
    def __init__(self, store: Store, clock: Clock, trakt: TraktPort | None) -> None:
        self.store = store
        self.clock = clock
        self.trakt = trakt
        self._pending: dict[int, _Pending] = {}

    def _trakt(self) -> TraktPort:
        if self.trakt is None:
            raise NotLinked("demo mode", user_message=_("Trakt is not configured on this bot (demo mode)."))
        return self.trakt

    async def start(self, person_id: int) -> DeviceLink:
        code, link = await self._trakt().device_code()
        self._pending[person_id] = _Pending(code, link, float(link.interval_s))
        return link

    def poll_interval(self, person_id: int, default: float) -> float:
        """Seconds to wait before the next poll (grows when Trakt asks us to slow down)."""
        p = self._pending.get(person_id)
        return p.interval if p is not None else default

    def cancel(self, person_id: int) -> None:
        """Forget a link in progress (the person was forgotten, or started again)."""
        self._pending.pop(person_id, None)

    async def poll(self, person_id: int) -> str | None:
        """One poll: the Trakt username once approved, None while pending; raises on expiry or denial."""
        trakt = self._trakt()
        pending = self._pending.get(person_id)
        if pending is None:
            raise NotLinked("no link in progress", user_message=_("No link in progress: run /link first."))
        try:
            tokens = await trakt.poll_device_token(pending.device_code)
        except LinkSlowDown:
            pending.interval += 5                     # as RFC 8628 asks
            return None
        except LinkPending:
            return None
        except Exception:
            self._pending.pop(person_id, None)
            raise
        self._pending.pop(person_id, None)
        await trakt.store_new_tokens(person_id, tokens)
        account = await trakt.account(person_id)
        username = account.username or f"person-{person_id}"
        async with self.store.unit() as uow:
            await uow.people.set_trakt_account(person_id, vip=account.vip, timezone=account.timezone)
            await uow.people.attach_trakt_user(person_id, username)
        return username

    async def link(self, person_id: int, on_code: Callable[[DeviceLink], Awaitable[None]]) -> str:
        """Start linking, hand the code to the front end, then poll at Trakt's interval until done."""
        link = await self.start(person_id)
        await on_code(link)
        while True:
            await self.clock.sleep(self.poll_interval(person_id, link.interval_s))
            name = await self.poll(person_id)
            if name is not None:
                return name

    async def unlink(self, person_id: int) -> bool:
        """Unlinking always works here: revoking at Trakt is best effort (Trakt down, tokens that no longer
        decrypt after a key change); the tokens are deleted either way. Returns whether anything was linked."""
        async with self.store.read() as uow:
            person = await uow.people.get(person_id)
            linked = await uow.tokens.exists(person_id) or bool(person is not None and person.trakt_user)
        self.cancel(person_id)
        if self.trakt is not None:
            try:
                await self.trakt.revoke(person_id)
            except Exception as e:
                log.warning("revoke failed while unlinking person %s: %s", person_id, type(e).__name__)
            await self.trakt.forget_tokens(person_id)
        async with self.store.unit() as uow:
            await uow.people.set_trakt_user(person_id, None)
        return linked
