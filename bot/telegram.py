"""Telegram front end (python-telegram-bot): an I/O adapter over the shared conversation.

Updates (commands, button presses, reactions, documents) become conversation events with a ``TelegramChat`` that
answers through the Bot API; the base URL comes from the configuration (self-hosted Bot API servers, or the
loopback fake in tests). Reactions need ``message_reaction`` in ``allowed_updates`` (and admin rights in groups);
buttons are the reliable path. Telegram's fixed reaction set has no 📌: that one is a button only.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import (
    BotCommand,
    Message,
    MessageEntity,
    ReactionTypeEmoji,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    MessageReactionHandler,
    filters,
)

from engine import Engine
from engine.values.alerts import Alert, Digest

from . import render, render_alerts
from .chat import Speaker
from .commands import COMMANDS
from .conversation import Conversation
from .i18n import LANGUAGES, gettext, warm
from .identity import Refusal, telegram_refusal, telegram_user_refusal
from .ratelimit import Admission
from .telegram_chat import PLATFORM, REACTABLE, RETRIES, Outbox, TelegramChat

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "message_reaction"]


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
        await asyncio.to_thread(warm)        # the catalogues, read off the loop
        if not self.poll:
            return                           # the bot's HTTP client is ready: enough to send
        await self.app.bot.set_my_commands([BotCommand(c, d.description[:256]) for c, d in COMMANDS.items()])
        for lang in LANGUAGES:              # the menu in the language of each person's app, where we have it
            await self.app.bot.set_my_commands([BotCommand(c, gettext(lang, d.description)[:256])
                                                for c, d in COMMANDS.items()], language_code=lang)
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
                user = update.effective_user
                await self.app.bot.send_message(chat.id, gettext(user.language_code if user else None, refusal.reply))
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
        head, _sep, args = message.text.partition(" ")
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
        refusal = self.conversation.too_big(doc.file_size, chat.speaker.locale)
        if refusal:
            await chat.reply(refusal)
            return
        data = bytes(await (await doc.get_file()).download_as_bytearray())
        await self.conversation.document(chat, doc.file_name or "upload", data, message.caption)

    # -- the notifier port: scheduled alerts and digests ------------------------------------------------------
    @staticmethod
    def _target(target: str) -> int:
        kind, _sep, ident = target.partition(":")
        if kind not in ("user", "channel") or not ident.lstrip("-").isdigit():
            raise ValueError(f"not a Telegram target: {target!r}")
        return int(ident)            # a private chat's id is the user's id

    async def send_alert(self, target: str, alert: Alert) -> str:
        chat = self._target(target)
        msg = await self.app.bot.send_message(chat, render_alerts.alert(alert), disable_web_page_preview=True)
        return f"{chat}:{msg.message_id}"

    async def send_notice(self, target: str, text: str) -> str:
        chat = self._target(target)
        msg = await self.app.bot.send_message(chat, text, disable_web_page_preview=True)
        return f"{chat}:{msg.message_id}"

    async def send_digest(self, target: str, digest: Digest) -> str:
        chat = self._target(target)
        msg = await self.app.bot.send_message(chat, render_alerts.digest(digest), disable_web_page_preview=True)
        await self.conversation.deliver_picks(TelegramChat(self, None, chat_id=chat), digest.picks)
        return f"{chat}:{msg.message_id}"
