"""Telegram front end (python-telegram-bot): commands, one message per pick with 👍 👎 👀 buttons, reactions.

The Bot API base URL comes from the configuration (self-hosted Bot API servers, or the loopback fake in tests).
Reactions need ``message_reaction`` in ``allowed_updates`` (and admin rights in groups); buttons are the
reliable path. Feedback reaches the engine with the recommendation event it belongs to.
"""

from __future__ import annotations

import asyncio
import html
import logging
import shlex
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReactionTypeEmoji,
    Update,
)
from telegram.constants import ParseMode
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

from engine import Engine, MultitudesError
from engine.models import Alert, Digest, Recommendation

from . import render, replies
from .grammar import parse_recommend, parse_settings, resolve_channel, settings_text, with_defaults
from .ratelimit import PersonLimiter

log = logging.getLogger(__name__)

PLATFORM = "telegram"
REACTIONS = {"👍": "liked", "👎": "not_for_me", "👀": "seen"}
BUTTONS = (("👍 Liked", "liked"), ("👎 Not for me", "not_for_me"), ("👀 Seen it", "seen"))
MORE_BUTTONS = (("📌 Add to watchlist", "watchlist"),)     # Telegram offers no pin reaction: a button only
ALLOWED_UPDATES = ["message", "callback_query", "message_reaction"]
COMMANDS = [("recommend", "shows for you (all, bridge A + B, like:SHOW, mood:\"…\")"),
            ("bridge", "shows between two of your personas: /bridge A + B"), ("unlink", "disconnect Trakt"),
            ("personas", "your taste personas"), ("link", "connect Trakt"), ("sync", "fetch new plays"),
            ("stats", "your viewing in numbers"), ("upcoming", "what is coming for your shows"),
            ("groupwatch", "a pick for this group (opted-in members)"),
            ("settings", "group:on tz:Europe/Paris quiet:23-08 alerts:on binge:off digest:on watchlist:on "
                         "channel:here"),
            ("forget", "delete everything about you"),
            ("help", "how to")]
HELP = ("I recommend TV shows from your Trakt history, one taste persona at a time.\n"
        "No Trakt? Send me your Trakt export (.json/.zip) or Netflix viewing activity (.csv) as a file.\n"
        "/link — connect Trakt · /sync — fetch new plays · /personas — your tastes\n"
        "/recommend [all | bridge A + B | persona NAME | like:SHOW | mood:\"…\"] [genre:-horror runtime:<45 k:5]\n"
        "Rate picks with the buttons or react 👍 👎 👀; 📌 adds one to your watchlist. /upcoming — what is coming.\n"
        "/settings — time zone, quiet hours, alerts per kind, weekly digest. /forget deletes everything about you.\n"
        "This product uses the TMDB API but is not endorsed or certified by TMDB.")

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


def feedback_keyboard(event_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=f"fb:{event_id}:{kind}")
                                  for label, kind in row] for row in (BUTTONS, MORE_BUTTONS)])


def pick_text(r: Recommendation) -> str:
    side = f" — your <i>{html.escape(r.persona_name, quote=False)}</i> side" if r.persona_name else ""
    year = f" ({r.year})" if r.year else ""
    where = ", ".join(r.providers[:2]) or (r.network or "")
    links = " · ".join(f'<a href="{u}">{n}</a>' for n, u in (("Trakt", r.trakt_url), ("TMDB", r.tmdb_url)) if u)
    lines = [f"<b>{r.rank}. {html.escape(r.title, quote=False)}</b>{year}{side}", html.escape(r.reason, quote=False)]
    if where or links:
        lines.append(" · ".join(x for x in (html.escape(where, quote=False), links) if x))
    return "\n".join(lines)


class TelegramFrontend:
    def __init__(self, engine: Engine, token: str) -> None:
        self.engine = engine
        tg = engine.settings.telegram
        self.app: Application[Any, Any, Any, Any, Any, Any] = (
            Application.builder().token(token).base_url(tg.base_url).base_file_url(tg.base_file_url)
            .concurrent_updates(True).build())
        for name, fn in (("start", self.cmd_help), ("help", self.cmd_help), ("link", self.cmd_link),
                         ("unlink", self.cmd_unlink), ("bridge", self.cmd_bridge), ("upcoming", self.cmd_upcoming),
                         ("settings", self.cmd_settings), ("groupwatch", self.cmd_groupwatch),
                         ("sync", self.cmd_sync), ("personas", self.cmd_personas), ("recommend", self.cmd_recommend),
                         ("stats", self.cmd_stats), ("forget", self.cmd_forget)):
            self.app.add_handler(CommandHandler(name, self._guard(fn)))
        self.app.add_handler(MessageHandler(filters.Document.ALL & filters.ChatType.PRIVATE,
                                            self._guard(self.on_document)))
        self.app.add_handler(CallbackQueryHandler(self._guard(self.on_button), pattern=r"^(fb|forget):"))
        self.app.add_handler(CallbackQueryHandler(self._guard(self.on_reroll), pattern=r"^rr:"))
        self.app.add_handler(MessageReactionHandler(self._guard(self.on_reaction)))
        self._tasks: set[asyncio.Task[Any]] = set()
        self.limiter = PersonLimiter()

    async def start(self) -> None:
        await self.app.initialize()
        await self.app.bot.set_my_commands([BotCommand(c, d[:256]) for c, d in COMMANDS])
        await self.app.start()
        assert self.app.updater is not None
        await self.app.updater.start_polling(allowed_updates=ALLOWED_UPDATES, poll_interval=0.0, timeout=1)

    # -- the notifier port: scheduled alerts and digests ------------------------------------------------------
    platform = PLATFORM

    @staticmethod
    def _chat(target: str) -> int:
        kind, _, ident = target.partition(":")
        if kind not in ("user", "channel") or not ident.lstrip("-").isdigit():
            raise ValueError(f"not a Telegram target: {target!r}")
        return int(ident)            # a private chat's id is the user's id

    async def send_alert(self, target: str, alert: Alert) -> str:
        chat = self._chat(target)
        msg = await self.app.bot.send_message(chat, render.alert(alert), disable_web_page_preview=True)
        return f"{chat}:{msg.message_id}"

    async def send_digest(self, target: str, digest: Digest) -> str:
        chat = self._chat(target)
        msg = await self.app.bot.send_message(chat, render.digest(digest), disable_web_page_preview=True)
        for r in digest.picks.items if digest.picks is not None else ():
            sent = await self.app.bot.send_message(chat, pick_text(r), parse_mode=ParseMode.HTML,
                                                   reply_markup=feedback_keyboard(r.event_id),
                                                   disable_web_page_preview=True)
            await self.engine.attach_message([r.event_id], PLATFORM, f"{chat}:{sent.message_id}")
        return f"{chat}:{msg.message_id}"

    async def stop(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()

    def _guard(self, fn: Handler) -> Handler:
        async def run(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            try:
                await fn(update, context)
            except MultitudesError as e:
                await self._say(update, e.user_message)
            except TelegramError as e:
                log.warning("telegram error in %s: %s", fn.__name__, type(e).__name__)
            except Exception:
                log.exception("handler %s failed", fn.__name__)
                await self._say(update, "Sorry, something went wrong on my side. Please try again.")
        return run

    async def _say(self, update: Update, text: str) -> None:
        chat = update.effective_chat
        if chat is not None:
            await self.app.bot.send_message(chat.id, text)

    def _limit(self, update: Update, command: str) -> None:
        user = update.effective_user
        if user is not None:
            self.limiter.check(str(user.id), command)

    async def _person(self, update: Update) -> int:
        user = update.effective_user
        assert user is not None
        pid = await self.engine.person(PLATFORM, str(user.id), user.first_name)
        chat = update.effective_chat
        if chat is not None and chat.type != "private":
            await self.engine.note_chat_member(PLATFORM, str(chat.id), pid)
        return pid

    # -- commands ----------------------------------------------------------------------------------------------
    async def cmd_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._say(update, HELP)

    async def cmd_link(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        pid = await self._person(update)
        link = await self.engine.start_link(pid)
        user = update.effective_user
        assert user is not None
        await self.app.bot.send_message(user.id, render.link_instructions(link))   # the code goes to a private chat

        async def wait() -> None:
            try:
                while True:
                    await self.engine.clock.sleep(self.engine.link_poll_interval(pid, link.interval_s))
                    name = await self.engine.poll_link(pid)
                    if name is not None:
                        await self.app.bot.send_message(user.id, f"Linked to Trakt as {name}. Run /sync next.")
                        return
            except MultitudesError as e:
                await self.app.bot.send_message(user.id, e.user_message)

        task = asyncio.create_task(wait())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def cmd_unlink(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.engine.unlink(await self._person(update))
        await self._say(update, "Trakt unlinked; your tokens are deleted. /forget deletes the rest.")

    async def cmd_bridge(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        rest = (message.text or "").partition(" ")[2]
        message_text = f"/recommend bridge {rest}".strip()
        await self._recommend(update, context, message_text)

    async def cmd_sync(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        self._limit(update, "sync")
        pid = await self._person(update)
        chat = update.effective_chat
        assert chat is not None
        msg = await self.app.bot.send_message(chat.id, "Syncing your history…")
        report = await self.engine.sync(pid)
        await msg.edit_text(render.sync_report(report))

    async def cmd_personas(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        self._limit(update, "personas")
        pid = await self._person(update)
        chat = update.effective_chat
        assert chat is not None
        report = await self.engine.personas(pid)
        await self.app.bot.send_message(chat.id, render.personas(report))
        if report.personas:
            await self.app.bot.send_photo(chat.id, await self.engine.persona_chart(pid),
                                          caption="Your personas over time")

    async def cmd_upcoming(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._say(update, (await replies.upcoming(self.engine, await self._person(update)))[:4000])

    async def cmd_stats(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        pid = await self._person(update)
        user = update.effective_user
        assert user is not None
        text = await replies.stats(self.engine, pid, PLATFORM, str(user.id), " ".join(context.args or []))
        await self._say(update, text[:4000])

    async def cmd_recommend(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        await self._recommend(update, context, message.text or "")

    async def _recommend(self, update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
        self._limit(update, "recommend")
        pid = await self._person(update)
        chat = update.effective_chat
        assert chat is not None
        try:
            args = shlex.split(text.partition(" ")[2])
        except ValueError as e:
            raise MultitudesError(str(e), user_message="Unbalanced quotes in that command.") from e
        p = parse_recommend(with_defaults(args, (await self.engine.person_settings(pid)).get("default_filters")))
        result = await self.engine.recommend(p.request(pid, PLATFORM))
        if not result.items:
            await self._say(update, result.note or "Nothing new to recommend right now.")
            return
        if result.note:
            await self._say(update, result.note)
        for r in result.items:
            sent = await self.app.bot.send_message(chat.id, pick_text(r), parse_mode=ParseMode.HTML,
                                                   reply_markup=feedback_keyboard(r.event_id),
                                                   disable_web_page_preview=True)
            await self.engine.attach_message([r.event_id], PLATFORM, f"{chat.id}:{sent.message_id}")

    async def on_document(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A Trakt export or Netflix viewing-activity CSV sent to the bot in a private chat is imported."""
        message = update.effective_message
        assert message is not None and message.document is not None
        doc = message.document
        limit = self.engine.settings.imports.max_bytes
        if doc.file_size and doc.file_size > limit:
            raise MultitudesError("too big", user_message=f"That file is {doc.file_size:,} bytes; the limit is "
                                                          f"{limit:,}. Nothing was imported.")
        self._limit(update, "import")
        pid = await self._person(update)
        data = bytes(await (await doc.get_file()).download_as_bytearray())
        report = await self.engine.import_history(pid, doc.file_name or "upload", data)
        await self._say(update, render.import_report(report))

    async def cmd_settings(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/settings group:on|off tz:Europe/Paris"""
        pid = await self._person(update)
        message = update.effective_message
        assert message is not None
        try:
            tokens = shlex.split((message.text or "").partition(" ")[2])
        except ValueError as e:
            raise MultitudesError(str(e), user_message="Unbalanced quotes in that command.") from e
        chat = update.effective_chat
        changes = resolve_channel(parse_settings(tokens), PLATFORM, str(chat.id) if chat else None)
        now = await self.engine.update_settings(pid, **changes) if changes else await self.engine.person_settings(pid)
        await self._say(update, settings_text(now))

    async def cmd_groupwatch(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """In a group: a pick for the members who opted in (and have used the bot here) that nobody has seen."""
        self._limit(update, "groupwatch")
        pid = await self._person(update)
        chat = update.effective_chat
        assert chat is not None
        if chat.type == "private":
            raise MultitudesError("private", user_message="Use /groupwatch in a group chat with the people to watch "
                                  "with; each of them opts in with /settings group:on.")
        members = await self.engine.opted_in_members(PLATFORM, str(chat.id))
        if pid not in members:
            raise MultitudesError("not opted in", user_message="Opt in first with /settings group:on.")
        await self._group_picks(update, await self.engine.group_recommend(members, k=3, platform=PLATFORM),
                                len(members))

    async def on_reroll(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        q = update.callback_query
        assert q is not None and q.data is not None
        self._limit(update, "groupwatch")
        pid = await self._person(update)
        result = await self.engine.reroll_group(q.data.split(":", 1)[1], pid, platform=PLATFORM)
        await q.answer("Re-rolling")
        await self._group_picks(update, result, None)

    async def _group_picks(self, update: Update, result: Any, members: int | None) -> None:
        chat = update.effective_chat
        assert chat is not None
        if not result.items:
            await self._say(update, result.note or "Nothing fits everyone right now.")
            return
        who = f"{members} of you" if members else "you"
        await self._say(update, f"Group picks for {who} — vote with the buttons:")
        for r in result.items:
            sent = await self.app.bot.send_message(chat.id, pick_text(r), parse_mode=ParseMode.HTML,
                                                   reply_markup=feedback_keyboard(r.event_id),
                                                   disable_web_page_preview=True)
            await self.engine.attach_message([r.event_id], PLATFORM, f"{chat.id}:{sent.message_id}")
        await self.app.bot.send_message(chat.id, "None of these?", reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("🎲 Re-roll", callback_data=f"rr:{result.request_id}")]]))

    async def cmd_forget(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.app.bot.send_message(
            update.effective_chat.id if update.effective_chat else 0,
            "Delete everything I store about you (history, personas, tokens, feedback)?",
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Yes, delete it all", callback_data="forget:yes"),
                                                InlineKeyboardButton("No", callback_data="forget:no")]]))

    # -- feedback ----------------------------------------------------------------------------------------------
    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        q = update.callback_query
        assert q is not None and q.data is not None
        pid = await self._person(update)
        if q.data.startswith("forget:"):
            if q.data == "forget:yes":
                await self.engine.forget(pid)
                await q.answer("Deleted.")
                await self._say(update, "Everything about you is deleted.")
            else:
                await q.answer("Nothing deleted.")
            return
        _, event, kind = q.data.split(":", 2)
        try:
            changed = await self.engine.record_feedback(pid, int(event), kind)
        except MultitudesError as e:               # e.g. a full Trakt watchlist: saved here, explained there
            await q.answer(e.user_message[:200], show_alert=True)
            return
        await q.answer(render.FEEDBACK_ACK.get(kind, "Noted") if changed else "Already noted")
        if q.message is not None and kind in REACTIONS.values():
            emoji = next(e for e, k in REACTIONS.items() if k == kind)
            try:
                await self.app.bot.set_message_reaction(q.message.chat.id, q.message.message_id,
                                                        [ReactionTypeEmoji(emoji)])
            except TelegramError:
                pass   # reactions may be restricted in this chat; the button already recorded it

    async def on_reaction(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        mr = update.message_reaction
        if mr is None or mr.user is None:
            return   # anonymous reactions cannot be attributed to a person
        old = {r.emoji for r in mr.old_reaction if isinstance(r, ReactionTypeEmoji)}
        new = {r.emoji for r in mr.new_reaction if isinstance(r, ReactionTypeEmoji)}
        events = await self.engine.events_for_message(PLATFORM, f"{mr.chat.id}:{mr.message_id}")
        if not events:
            return
        pid = await self.engine.person(PLATFORM, str(mr.user.id), mr.user.first_name)
        changes = [(e, True) for e in new - old] + [(e, False) for e in old - new]
        for emoji, on in changes:
            if emoji in REACTIONS:
                try:
                    await self.engine.record_feedback(pid, events[0], REACTIONS[emoji], on, at=mr.date)
                except MultitudesError:
                    return   # someone reacting to another person's pick: not theirs to rate
