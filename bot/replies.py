"""What every conversation handler stands on: the engine and the limits, one place for errors (a person sees a clear
sentence; the log gets the rest), who is speaking, questions bound to the person who was asked, background work,
and picks delivered one message each."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from engine.values.errors import MultitudesError
from engine.values.models import RecommendationList

from . import render
from .chat import Chat
from .i18n import _
from .ratelimit import Admission, PersonLimiter

if TYPE_CHECKING:
    from engine import Engine

log = logging.getLogger(__name__)

CONFIRM_TTL = timedelta(minutes=10)


@dataclass
class _Confirmation:
    platform: str
    user_id: str
    action: str
    until: datetime


class Replies:
    def __init__(self, engine: Engine, *, limiter: PersonLimiter | None = None,
                 admission: Admission | None = None) -> None:
        """``limiter``: per-person limits (the console passes ``NoLimits``: its one user shares it with nobody);
        ``admission``: the global gate for expensive work (sheds with a "busy" reply beyond its line)."""
        self.engine = engine
        self.limiter = limiter or PersonLimiter()
        self.admission = admission or Admission()
        self._confirmations: dict[str, _Confirmation] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._reacting: dict[tuple[str, str, str], asyncio.Lock] = {}

    async def close(self) -> None:
        """Stop background work (link polls) started by this conversation."""
        for t in list(self._tasks):
            t.cancel()
        for t in list(self._tasks):
            try:
                await t
            except (asyncio.CancelledError, Exception):
                pass

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- one place for errors ----------------------------------------------------------------------------------
    async def _guard(self, chat: Chat, fn: Callable[[], Awaitable[None]], *, private: bool = False,
                     button: bool = False) -> None:
        try:
            await fn()
        except MultitudesError as e:
            await self._say_error(chat, e.user_message, private=private, button=button)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s event failed", chat.platform)
            await self._say_error(chat, _("Sorry, something went wrong on my side. Please try again."),
                                  private=private, button=button)

    async def _say_error(self, chat: Chat, text: str, *, private: bool, button: bool) -> None:
        try:
            if button:
                await chat.ack(text[:200], alert=True)
            else:
                await chat.reply(text, private=private)
        except Exception:
            log.warning("could not tell %s about an error", chat.platform, exc_info=True)

    async def language(self, chat: Chat) -> str | None:
        """The language to answer in: the person's ``/settings lang:``, else their app's (nobody is created)."""
        try:
            pid = await self.engine.find_person(chat.platform, chat.speaker.user_id)
            lang = (await self.engine.person_settings(pid)).lang
        except MultitudesError:
            lang = None
        return lang or chat.speaker.locale

    async def _person(self, chat: Chat) -> int:
        s = chat.speaker
        pid = await self.engine.person(s.platform, s.user_id, s.display_name)
        if chat.is_group and chat.group_id is not None:
            await self.engine.note_chat_member(s.platform, chat.group_id, pid)
        return pid

    def _ask(self, chat: Chat, action: str) -> str:
        """A question only this person may answer, for ``CONFIRM_TTL``: its token for the buttons."""
        token = secrets.token_hex(6)
        now = self.engine.clock.now()
        self._confirmations = {t: c for t, c in self._confirmations.items() if c.until > now}
        self._confirmations[token] = _Confirmation(chat.platform, chat.speaker.user_id, action, now + CONFIRM_TTL)
        return token

    # -- picks ---------------------------------------------------------------------------------------------------
    async def _deliver(self, chat: Chat, result: RecommendationList, *, group: bool = False,
                       heading: str | None = None) -> None:
        if not result.items:
            await chat.reply(result.note or (_("Nothing fits everyone right now.") if group
                                             else _("Nothing new to recommend right now.")))
            return
        try:
            await chat.reply(heading or render.heading(result))
        except Exception:
            await self.engine.withdraw_picks([r.event_id for r in result.items])    # none of them reached anyone
            raise
        await self.deliver_picks(chat, result, group=group)
        if group:
            await chat.offer_reroll(result.request_id)

    async def deliver_picks(self, chat: Chat, result: RecommendationList | None, *, group: bool = False) -> None:
        """Each pick as its own message with its buttons, attached to its event so reactions on it count."""
        undelivered: list[int] = []
        failure: BaseException | None = None
        for r in result.items if result is not None else ():
            if failure is not None:                 # the platform refused one after its own retries: stop there
                undelivered.append(r.event_id)
                continue
            try:
                ref = await chat.send_pick(r, group=group)
            except Exception as e:
                failure = e
                undelivered.append(r.event_id)
                continue
            if ref is not None:
                await self.engine.attach_message([r.event_id], chat.platform, ref)
        if undelivered:                             # recorded as shown only once delivered
            await self.engine.withdraw_picks(undelivered)
            log.warning("%s: %d picks not delivered (%s); withdrawn", chat.platform, len(undelivered),
                        type(failure).__name__)
            raise MultitudesError("undelivered", user_message=_("Some picks could not be sent; ask again in a moment."))
