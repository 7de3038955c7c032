"""Telegram's side of one conversation: a ``TelegramChat`` answering one update (or a scheduled push) through the
Bot API, the pick cards and their inline keyboards, and the outbox that holds the bot to Telegram's flood limits."""

from __future__ import annotations

import html
import logging
from datetime import datetime
from typing import Any, Protocol

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden
from telegram.ext import AIORateLimiter, Application

from engine.values.models import GroupTally, Recommendation

from . import render, render_media
from .chat import NO, YES_DELETE, Progress, Speaker
from .i18n import N_, _

log = logging.getLogger(__name__)

PLATFORM = "telegram"
RETRIES = 5                                         # sends retried after a 429 before giving up
REACTABLE = ("👍", "👎", "👀")                      # in Telegram's reaction set
NO_DM = N_("{name}: I can't message you privately yet, and that answer is only for you. Open a chat with me, press "
           "Start, then ask again.")


class Front(Protocol):
    """What a chat needs of the front end: the running application (its bot sends)."""

    @property
    def app(self) -> Application[Any, Any, Any, Any, Any, Any]: ...


class Outbox(AIORateLimiter):
    """PTB's limiter, counting what waits in it: how far behind the bot's sending is, in seconds."""

    RATE = 30.0                                     # Telegram's ~30 messages a second per bot

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.waiting = 0

    def backlog(self) -> float:
        return self.waiting / self.RATE

    async def process_request(self, callback: Any, args: Any, kwargs: dict[str, Any], endpoint: str,
                              data: dict[str, Any], rate_limit_args: int | None) -> Any:
        counted = "chat_id" in data                 # only those go through the per-bot limit
        self.waiting += counted
        try:
            return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
        finally:
            self.waiting -= counted


def vote_keyboard(event_id: int, up: int = 0, down: int = 0) -> InlineKeyboardMarkup:
    """A group pick's vote buttons; their labels carry the live count."""
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(f"👍 {up}" if up or down else "👍 " + _("Vote for it"), callback_data=f"gv:{event_id}:up"),
        InlineKeyboardButton(f"👎 {down}" if up or down else "👎 " + _("Not this one"),
                             callback_data=f"gv:{event_id}:down")]])


def feedback_keyboard(event_id: int, requestable: bool = False) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(f"{f.emoji} {_(f.label)}", callback_data=f"fb:{event_id}:{f.kind}")
             for f in render.FEEDBACK if f.emoji in REACTABLE],
            [InlineKeyboardButton(f"{f.emoji} {_(f.label)}", callback_data=f"fb:{event_id}:{f.kind}")
             for f in render.FEEDBACK if f.emoji not in REACTABLE]]
    if requestable:
        emoji, label = render_media.REQUEST
        rows[1].append(InlineKeyboardButton(f"{emoji} {_(label)}", callback_data=render_media.request_token(event_id)))
    return InlineKeyboardMarkup(rows)


def pick_text(r: Recommendation) -> str:
    side = (" — " + html.escape(_("your {persona} side"), quote=False).format(
        persona=f"<i>{html.escape(r.persona_name[:100], quote=False)}</i>") if r.persona_name else "")
    year = f" ({r.year})" if r.year else ""
    where = render.where(r)
    links = " · ".join(f'<a href="{html.escape(u)}">{n}</a>' for n, u in (
        ("Trakt", r.trakt_url), ("TMDB", r.tmdb_url), ("IMDb", r.imdb_url)) if u)
    lines = [f"<b>{r.rank}. {html.escape(r.title[:300], quote=False)}</b>{year}{side}",
             html.escape(r.reason[:1500], quote=False)]
    if where or links:
        lines.append(" · ".join(x for x in (html.escape(where, quote=False), links) if x))
    facts = render.facts(r)
    if facts:
        lines.append(html.escape(facts, quote=False))
    if r.scores:
        lines.append(html.escape(render.scores_line(r), quote=False))
    return "\n".join(lines)


class _Progress:
    def __init__(self, message: Any) -> None:
        self.message = message

    def step(self, text: str) -> None:
        pass                                        # one edit at the end: edits are rate-limited too

    async def done(self, text: str) -> None:
        try:
            await self.message.edit_text(text)
        except BadRequest as e:                     # "message is not modified": it already says that
            if "not modified" not in str(e).lower():
                raise


class TelegramChat:
    """One update, as the conversation sees it."""

    def __init__(self, fe: Front, update: Update | None, *, chat_id: int, user: Any = None) -> None:
        self.fe = fe
        self.update = update
        self._chat_id = chat_id
        self._user = user

    @property
    def bot(self) -> Any:
        return self.fe.app.bot

    @property
    def platform(self) -> str:
        return PLATFORM

    @property
    def speaker(self) -> Speaker:
        u = self._user
        return Speaker(PLATFORM, str(u.id) if u is not None else "0", getattr(u, "first_name", None),
                       getattr(u, "language_code", None))

    @property
    def chat_id(self) -> str | None:
        return str(self._chat_id) if self.is_group else None

    @property
    def is_group(self) -> bool:
        return self._user is not None and self._chat_id != self._user.id

    @property
    def group_id(self) -> str | None:
        return self.chat_id

    async def is_member(self, user_id: str) -> bool:
        try:
            member = await self.bot.get_chat_member(self._chat_id, int(user_id))
        except BadRequest:                          # "user not found": not in this chat
            return False
        return member.status not in ("left", "kicked")

    async def announce(self, text: str) -> None:
        await self.bot.send_message(self._chat_id, text[:4096], disable_web_page_preview=True)

    async def reply(self, text: str, *, private: bool = False) -> None:
        if private and self.is_group:
            if not await self.tell_privately(text):     # private stays private: only a pointer in the group
                await self.bot.send_message(self._chat_id, _(NO_DM).format(name=self.speaker.display_name or _("you")))
            return
        await self.bot.send_message(self._chat_id, text[:4096], disable_web_page_preview=True)

    async def tell_privately(self, text: str) -> bool:
        if self._user is None:
            return False
        try:
            await self.bot.send_message(self._user.id, text[:4096], disable_web_page_preview=True)
        except (Forbidden, BadRequest) as e:        # never opened a private chat with the bot, or blocked it
            log.info("no private chat with a Telegram user: %s", type(e).__name__)
            return False
        return True

    async def send_pick(self, rec: Recommendation, *, group: bool = False) -> str | None:
        """A pick with its poster (a photo with the card as caption) when TMDB has one, else a text message."""
        keyboard = vote_keyboard(rec.event_id) if group else feedback_keyboard(rec.event_id, rec.requestable)
        text = pick_text(rec)
        if rec.poster_url and len(text) <= 1024:          # Telegram's caption limit
            try:
                msg = await self.bot.send_photo(self._chat_id, rec.poster_url, caption=text,
                                                parse_mode=ParseMode.HTML, reply_markup=keyboard)
                return f"{self._chat_id}:{msg.message_id}"
            except BadRequest as e:                   # Telegram could not fetch the image: the card alone
                log.info("poster refused for %s: %s", rec.title, e)
        msg = await self.bot.send_message(self._chat_id, text, parse_mode=ParseMode.HTML,
                                          reply_markup=keyboard, disable_web_page_preview=True)
        return f"{self._chat_id}:{msg.message_id}"

    async def show_tally(self, tally: GroupTally) -> None:
        q = self.update.callback_query if self.update is not None else None
        data = q.data if q is not None else None
        if q is None or not data or not data.startswith("gv:"):
            return
        event = int(data.split(":")[1])
        try:
            await q.edit_message_reply_markup(vote_keyboard(event, tally.up, tally.down))
        except BadRequest as e:                     # "message is not modified": the count did not change
            if "not modified" not in str(e).lower():
                raise

    async def offer_rating(self, event_id: int, title: str) -> None:
        rows = [[InlineKeyboardButton(str(n), callback_data=f"rt:{event_id}:{n}") for n in range(a, a + 5)]
                for a in (1, 6)]
        target = self._user.id if self.is_group and self._user is not None else self._chat_id
        try:
            await self.bot.send_message(target, render.rate_question(title), reply_markup=InlineKeyboardMarkup(rows))
        except Forbidden:
            log.info("no private chat to offer a rating in")        # they never started one with the bot

    async def offer_reroll(self, request_id: str) -> None:
        await self.bot.send_message(self._chat_id, _("None of these?"), reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("🎲 " + _("Re-roll"), callback_data=f"rr:{request_id}")]]))

    async def schedule_event(self, title: str, at: datetime) -> bool:
        return False                                # no events here: the announcement says the time

    async def send_file(self, name: str, data: bytes, caption: str) -> None:
        target = self._user.id if self.is_group and self._user is not None else self._chat_id
        try:
            await self.bot.send_document(target, InputFile(data, filename=name), caption=caption[:1024])
        except (Forbidden, BadRequest) as e:
            if not self.is_group:
                raise
            log.info("no private chat for a file: %s", type(e).__name__)
            await self.bot.send_message(self._chat_id, _(NO_DM).format(name=self.speaker.display_name or _("you")))

    async def send_image(self, png: bytes, caption: str, name: str | None = None) -> None:
        await self.bot.send_photo(self._chat_id, png, caption=caption)

    async def confirm(self, question: str, token: str, yes: str = YES_DELETE, no: str = NO) -> None:
        await self.bot.send_message(self._chat_id, question, reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton(_(yes), callback_data=f"cf:{token}:yes"),
              InlineKeyboardButton(_(no), callback_data=f"cf:{token}:no")]]))

    async def ack(self, text: str, *, alert: bool = False) -> None:
        q = self.update.callback_query if self.update is not None else None
        if q is not None:
            await q.answer(text[:200], show_alert=alert)
        else:
            await self.bot.send_message(self._chat_id, text)

    async def progress(self, text: str) -> Progress:
        return _Progress(await self.bot.send_message(self._chat_id, text))
