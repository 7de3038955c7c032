"""Telegram front end (python-telegram-bot): an I/O adapter over the shared conversation.

Updates (commands, button presses, reactions, documents) become conversation events with a ``TelegramChat`` that
answers through the Bot API; the base URL comes from the configuration (self-hosted Bot API servers, or the
loopback fake in tests). Reactions need ``message_reaction`` in ``allowed_updates`` (and admin rights in groups);
buttons are the reliable path. Telegram's fixed reaction set has no 📌: that one is a button only.
"""

from __future__ import annotations

import html
import logging
from datetime import datetime
from typing import Any

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    MessageEntity,
    ReactionTypeEmoji,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    MessageReactionHandler,
    filters,
)

from engine import Engine
from engine.values.models import Alert, Digest, GroupTally, Recommendation

from . import render
from .chat import Progress, Speaker
from .conversation import COMMANDS, Conversation
from .identity import Refusal, telegram_refusal, telegram_user_refusal
from .ratelimit import Admission

log = logging.getLogger(__name__)

PLATFORM = "telegram"
RETRIES = 5                                         # sends retried after a 429 before giving up
REACTABLE = ("👍", "👎", "👀")                      # in Telegram's reaction set
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "message_reaction"]
NO_DM = ("{name}: I can't message you privately yet, and that answer is only for you. Open a chat with me, press "
         "Start, then ask again.")


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
        InlineKeyboardButton(f"👍 {up}" if up or down else "👍 Vote for it", callback_data=f"gv:{event_id}:up"),
        InlineKeyboardButton(f"👎 {down}" if up or down else "👎 Not this one", callback_data=f"gv:{event_id}:down")]])


def feedback_keyboard(event_id: int, requestable: bool = False) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(f"{f.emoji} {f.label}", callback_data=f"fb:{event_id}:{f.kind}")
             for f in render.FEEDBACK if f.emoji in REACTABLE],
            [InlineKeyboardButton(f"{f.emoji} {f.label}", callback_data=f"fb:{event_id}:{f.kind}")
             for f in render.FEEDBACK if f.emoji not in REACTABLE]]
    if requestable:
        emoji, label = render.REQUEST
        rows[1].append(InlineKeyboardButton(f"{emoji} {label}", callback_data=render.request_token(event_id)))
    return InlineKeyboardMarkup(rows)


def pick_text(r: Recommendation) -> str:
    side = f" — your <i>{html.escape(r.persona_name[:100], quote=False)}</i> side" if r.persona_name else ""
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

    def __init__(self, fe: TelegramFrontend, update: Update | None, *, chat_id: int, user: Any = None) -> None:
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
        return Speaker(PLATFORM, str(u.id) if u is not None else "0", getattr(u, "first_name", None))

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
                await self.bot.send_message(self._chat_id, NO_DM.format(name=self.speaker.display_name or "you"))
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
        await self.bot.send_message(self._chat_id, "None of these?", reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("🎲 Re-roll", callback_data=f"rr:{request_id}")]]))

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
            await self.bot.send_message(self._chat_id, NO_DM.format(name=self.speaker.display_name or "you"))

    async def send_image(self, png: bytes, caption: str, name: str | None = None) -> None:
        await self.bot.send_photo(self._chat_id, png, caption=caption)

    async def confirm(self, question: str, token: str, yes: str = "Yes, delete it all", no: str = "No") -> None:
        await self.bot.send_message(self._chat_id, question, reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton(yes, callback_data=f"cf:{token}:yes"),
              InlineKeyboardButton(no, callback_data=f"cf:{token}:no")]]))

    async def ack(self, text: str, *, alert: bool = False) -> None:
        q = self.update.callback_query if self.update is not None else None
        if q is not None:
            await q.answer(text[:200], show_alert=alert)
        else:
            await self.bot.send_message(self._chat_id, text)

    async def progress(self, text: str) -> Progress:
        return _Progress(await self.bot.send_message(self._chat_id, text))


class TelegramFrontend:
    platform = PLATFORM

    def __init__(self, engine: Engine, token: str, *, conversation: Conversation | None = None,
                 poll: bool = True) -> None:
        """``poll=False``: send only (alerts, digests, notices) — Telegram allows one getUpdates poller per token,
        so the other processes of a sharded deployment deliver without polling."""
        self.engine = engine
        self.poll = poll
        # PTB's own limiter: keeps under Telegram's flood limits and, on a 429, waits the retry_after the server
        # names and sends again (a reply is never dropped for a rate limit); how far behind it is sheds new work
        self.outbox = Outbox(max_retries=RETRIES)
        # @usernames the bot has seen, to the account they belong to: Telegram sends an @mention as text only
        self.usernames: dict[str, tuple[int, str]] = {}
        self.conversation = conversation or Conversation(engine, admission=Admission(backlog=self.outbox.backlog))
        tg = engine.settings.telegram
        self.app: Application[Any, Any, Any, Any, Any, Any] = (
            Application.builder().token(token).base_url(tg.base_url).base_file_url(tg.base_file_url)
            .rate_limiter(self.outbox).concurrent_updates(True).build())
        for name in (*COMMANDS, "start"):
            self.app.add_handler(CommandHandler(name, self.on_command))
        self.app.add_handler(MessageHandler(filters.Document.ALL & filters.ChatType.PRIVATE, self.on_document))
        self.app.add_handler(CallbackQueryHandler(self.on_button))
        self.app.add_handler(MessageReactionHandler(self.on_reaction))

    async def start(self) -> None:
        await self.app.initialize()
        if not self.poll:
            return                           # the bot's HTTP client is ready: enough to send
        await self.app.bot.set_my_commands([BotCommand(c, d.description[:256]) for c, d in COMMANDS.items()])
        await self.app.start()
        assert self.app.updater is not None
        await self.app.updater.start_polling(allowed_updates=ALLOWED_UPDATES, poll_interval=0.0, timeout=1)

    async def stop(self) -> None:
        await self.conversation.close()
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()

    def _chat(self, update: Update) -> TelegramChat:
        chat, user = update.effective_chat, update.effective_user
        return TelegramChat(self, update, chat_id=chat.id if chat is not None else (user.id if user else 0),
                            user=user)

    # -- platform events -> conversation events ---------------------------------------------------------------
    async def _refused(self, update: Update, refusal: Refusal | None) -> bool:
        """Say why an event is nobody's (``bot.identity``); True when it was refused."""
        if refusal is None:
            return False
        chat = update.effective_chat
        if refusal.reply and chat is not None:
            try:
                await self.app.bot.send_message(chat.id, refusal.reply)
            except TelegramError:
                log.info("telegram: could not tell a chat why its message was refused", exc_info=True)
        return True

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or not message.text:
            return
        if await self._refused(update, telegram_refusal(message, update.effective_user,
                                                        edited=update.edited_message is not None)):
            return
        head, _, args = message.text.partition(" ")
        name = head.lstrip("/").split("@", 1)[0].lower()
        await self.conversation.command(self._chat(update), "help" if name == "start" else name, args,
                                        mentions=self._mentions(message))

    def _mentions(self, message: Message) -> list[Speaker]:
        """Who a command names: the author of the message it replies to, and its mentions — a text mention carries
        the account; an @username is resolved from the accounts seen here (unknown ones stay unresolved, so the
        conversation can say who it does not know)."""
        who = message.from_user
        if who is not None and who.username:
            self.usernames[who.username.casefold()] = (who.id, who.first_name)
        out: list[Speaker] = []
        replied = message.reply_to_message.from_user if message.reply_to_message is not None else None
        if replied is not None and not replied.is_bot and (who is None or replied.id != who.id):
            out.append(Speaker(PLATFORM, str(replied.id), replied.first_name))
        for entity, text in message.parse_entities([MessageEntity.TEXT_MENTION, MessageEntity.MENTION]).items():
            if entity.type == MessageEntity.TEXT_MENTION and entity.user is not None and not entity.user.is_bot:
                out.append(Speaker(PLATFORM, str(entity.user.id), entity.user.first_name))
            elif entity.type == MessageEntity.MENTION:
                known = self.usernames.get(text.lstrip("@").casefold())
                out.append(Speaker(PLATFORM, str(known[0]), known[1]) if known is not None
                           else Speaker(PLATFORM, text, text))
        return list({s.user_id: s for s in out}.values())

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        q = update.callback_query
        if q is None or await self._refused(update, telegram_user_refusal(q.from_user)):
            return
        data = q.data or ""
        await self.conversation.button(self._chat(update), data)
        kind = data.split(":")[2] if data.startswith("fb:") and data.count(":") == 2 else None
        emoji = next((f.emoji for f in render.FEEDBACK if str(f.kind) == kind), None)
        if emoji in REACTABLE and q.message is not None and self.outbox.backlog() < 1.0:
            # mirror the press as a reaction where the chat allows it: a courtesy, skipped while replies wait
            try:
                await self.app.bot.set_message_reaction(q.message.chat.id, q.message.message_id,
                                                        [ReactionTypeEmoji(emoji)])
            except TelegramError:
                pass

    async def on_reaction(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        mr = update.message_reaction
        if mr is None or mr.user is None or telegram_user_refusal(mr.user) is not None:
            return   # anonymous reactions (a chat reacting) and bots cannot be attributed to a person
        old = {r.emoji for r in mr.old_reaction if isinstance(r, ReactionTypeEmoji)}
        new = {r.emoji for r in mr.new_reaction if isinstance(r, ReactionTypeEmoji)}
        chat = TelegramChat(self, update, chat_id=mr.chat.id, user=mr.user)
        ref = f"{mr.chat.id}:{mr.message_id}"
        for emoji, added in [(e, True) for e in new - old] + [(e, False) for e in old - new]:
            await self.conversation.reaction(chat, ref, emoji, added, at=mr.date)

    async def on_document(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A Trakt export or Netflix viewing-activity CSV sent in a private chat is imported."""
        message = update.effective_message
        if message is None or message.document is None:
            return
        if await self._refused(update, telegram_refusal(message, update.effective_user,
                                                        edited=update.edited_message is not None)):
            return
        chat = self._chat(update)
        doc = message.document
        refusal = self.conversation.too_big(doc.file_size)
        if refusal:
            await chat.reply(refusal)
            return
        data = bytes(await (await doc.get_file()).download_as_bytearray())
        await self.conversation.document(chat, doc.file_name or "upload", data, message.caption)

    # -- the notifier port: scheduled alerts and digests ------------------------------------------------------
    @staticmethod
    def _target(target: str) -> int:
        kind, _, ident = target.partition(":")
        if kind not in ("user", "channel") or not ident.lstrip("-").isdigit():
            raise ValueError(f"not a Telegram target: {target!r}")
        return int(ident)            # a private chat's id is the user's id

    async def send_alert(self, target: str, alert: Alert) -> str:
        chat = self._target(target)
        msg = await self.app.bot.send_message(chat, render.alert(alert), disable_web_page_preview=True)
        return f"{chat}:{msg.message_id}"

    async def send_notice(self, target: str, text: str) -> str:
        chat = self._target(target)
        msg = await self.app.bot.send_message(chat, text, disable_web_page_preview=True)
        return f"{chat}:{msg.message_id}"

    async def send_digest(self, target: str, digest: Digest) -> str:
        chat = self._target(target)
        msg = await self.app.bot.send_message(chat, render.digest(digest), disable_web_page_preview=True)
        await self.conversation.deliver_picks(TelegramChat(self, None, chat_id=chat), digest.picks)
        return f"{chat}:{msg.message_id}"
