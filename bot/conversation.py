"""The conversation, written once for every platform.

Front ends turn what happens on their platform into four events — a command, a button press, a reaction, a
document — each with a ``Chat`` that knows who spoke, where, and how to answer. Everything else lives here: the
grammar, the engine calls, the wording, rate limits, confirmations bound to the person who asked, the Trakt link
poll, and error handling (a person sees a clear sentence; the log gets the rest).

Here: the four events and the commands, each answered in the person's language (``i18n.speaking``). ``commands.py``
holds the command table and the help; ``linking.py`` the link commands; ``buttons.py`` what each button does;
``replies.py`` what they all stand on (errors, questions, picks delivered one message each).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from engine.values.errors import MultitudesError, NotYours

from . import render, render_alerts, render_plans, render_stats
from .chat import Chat, Speaker
from .commands import CHECKS, COMMANDS, LIMITED, help_text, tokens
from .grammar import (
    parse_episode,
    parse_groupwatch,
    parse_rate,
    parse_recommend,
    parse_settings,
    parse_tonight,
    resolve_channel,
    settings_text,
)
from .i18n import _, current, speaking
from .linking import Linking

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


class Conversation(Linking):
    """The four events of every front end, and the commands."""

    # -- the four events -------------------------------------------------------------------------------------
    async def command(self, chat: Chat, name: str, args: str = "", *, mentions: Sequence[Speaker] = ()) -> None:
        with speaking(await self.language(chat)):
            await self._command(chat, name, args, mentions)

    async def _command(self, chat: Chat, name: str, args: str, mentions: Sequence[Speaker]) -> None:
        name = name.lower().lstrip("/")
        spec = COMMANDS.get(name)
        handler = getattr(self, f"_cmd_{name}", None)
        if handler is None:
            await chat.reply(_("Unknown command /{name}. Try /help.").format(name=name[:40]), private=True)
            return

        async def run() -> None:
            check = CHECKS.get(name)
            if check is not None:                   # a malformed request is answered before any limit counts it
                check(args)
            if name in LIMITED:
                self.limiter.check(f"{chat.platform}:{chat.speaker.user_id}", name)
                async with self.admission.slot():
                    await handler(chat, args, mentions)
                return
            await handler(chat, args, mentions)

        await self._guard(chat, run, private=bool(spec and spec.private))

    async def button(self, chat: Chat, data: str) -> None:
        """A button press; whatever its data, it is answered."""
        with speaking(await self.language(chat)):
            await self._button(chat, data)

    async def _button(self, chat: Chat, data: str) -> None:
        async def run() -> None:
            kind, _sep, rest = data.partition(":")
            if kind == "fb":
                await self._feedback_button(chat, rest)
            elif kind == "cf":
                await self._confirmed(chat, rest)
            elif kind == "rr":
                await self._reroll(chat, rest)
            elif kind == "gv":
                await self._group_vote(chat, rest)
            elif kind == "rq":
                await self._request_button(chat, rest)
            elif kind == "rt":
                await self._rating_button(chat, rest)
            else:
                await chat.ack(_("That button is no longer valid."))
        await self._guard(chat, run, button=True)

    async def reaction(self, chat: Chat, message_ref: str, emoji: str, added: bool, at: datetime | None = None) -> None:
        """A reaction on a message: feedback when it is one of ours and the pick is the reactor's."""
        action = render.BY_EMOJI.get(emoji)
        if action is None:
            return
        # one person's reactions on one message apply in the order they arrived (add, remove, add ends added),
        # whatever runs them concurrently (PTB's concurrent updates, a server database's parallel units)
        key = (chat.platform, chat.speaker.user_id, message_ref)
        lock = self._reacting.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                with speaking(await self.language(chat)):
                    await self._react(chat, message_ref, action, added, at)
        finally:
            if not lock.locked():
                self._reacting.pop(key, None)

    async def _react(self, chat: Chat, message_ref: str, action: render.FeedbackAction, added: bool,
                     at: datetime | None) -> None:
        events = await self.engine.events_for_message(chat.platform, message_ref)
        if not events:
            return
        try:
            pid = await self.engine.find_person(chat.platform, chat.speaker.user_id)
        except MultitudesError:
            return                                  # someone who never used the bot: nothing of theirs here
        for event in events:
            try:
                noted = await self.engine.record_feedback(pid, event, action.kind, added, at=at)
                if noted.offer_watched:
                    await self._offer_watched(chat, event, noted.title)
                await self._offer_rating(chat, event, action.kind, added, noted)
            except NotYours:
                continue                            # reacting to someone else's pick
            except MultitudesError as e:
                await chat.tell_privately(e.user_message)   # e.g. a full Trakt watchlist: saved here, said why

    async def document(self, chat: Chat, filename: str, data: bytes, profile: str | None = None) -> None:
        """An uploaded file; ``profile``: which profile of a Netflix export (a caption, an option, a word)."""
        with speaking(await self.language(chat)):
            await self._document(chat, filename, data, profile)

    async def _document(self, chat: Chat, filename: str, data: bytes, profile: str | None) -> None:
        async def run() -> None:
            self.limiter.check(f"{chat.platform}:{chat.speaker.user_id}", "import")
            async with self.admission.slot():
                pid = await self._person(chat)
                report = await self.engine.import_history(pid, filename or "upload", data,
                                                          (profile or "").strip()[:100] or None)
            await chat.reply(render.import_report(report))
        await self._guard(chat, run, private=True)

    def too_big(self, size: int | None, lang: str | None = None) -> str | None:
        """A refusal for an upload over the limit, before anyone downloads it (``lang``: the app's language)."""
        limit = self.engine.settings.imports.max_bytes
        if size is not None and size > limit:
            with speaking(lang or current()):
                return _("I could not import that file: it is {size} bytes; the limit is {limit}. Nothing was "
                         "imported.").format(size=f"{size:,}", limit=f"{limit:,}")
        return None

    # -- commands ----------------------------------------------------------------------------------------------
    async def _cmd_help(self, chat: Chat, args: str, mentions: Sequence[Speaker]) -> None:
        await chat.reply(help_text(current()), private=True)     # in the language the event is answered in

    async def _cmd_sync(self, chat: Chat, args: str, mentions: Sequence[Speaker]) -> None:
        pid = await self._person(chat)
        progress = await chat.progress(_("Syncing your history…"))
        report = await self.engine.sync(pid, progress=lambda m: progress.step(f"… {m}"))
        await progress.done(render.sync_report(report))

    async def _cmd_history(self, chat: Chat, args: str, mentions: Sequence[Speaker]) -> None:
        n = 15
        if args.strip():
            word = args.strip()
            if not (word.isascii() and word.isdigit() and 0 < int(word) <= 1000):
                raise MultitudesError("bad history count", user_message=_("Usage: history [N] with N from 1 to 1000."))
            n = int(word)
        await chat.reply(render.history(await self.engine.history(await self._person(chat), n)), private=True)

    async def _cmd_personas(self, chat: Chat, args: str, mentions: Sequence[Speaker]) -> None:
        pid = await self._person(chat)
        report = await self.engine.personas(pid)
        await chat.reply(render.personas(report, await self.engine.crowd_lately(pid) if report.personas else None))
        if report.personas:
            for chart in await self.engine.persona_charts(pid):
                await chat.send_image(chart.png, chart.caption)

    async def _cmd_recommend(self, chat: Chat, args: str, mentions: Sequence[Speaker]) -> None:
        pid = await self._person(chat)
        p = parse_recommend(tokens(args))
        await self._deliver(chat, await self.engine.recommend(p.request(pid, chat.platform, chat.speaker.locale)))

    async def _cmd_bridge(self, chat: Chat, args: str, mentions: Sequence[Speaker]) -> None:
        await self._cmd_recommend(chat, f"bridge {args}".strip(), mentions)

    async def _cmd_next(self, chat: Chat, args: str, mentions: Sequence[Speaker]) -> None:
        pid = await self._person(chat)
        await chat.reply(render_plans.up_next(await self.engine.up_next(pid), self.engine.clock.now()), private=True)

    async def _cmd_tonight(self, chat: Chat, args: str, mentions: Sequence[Speaker]) -> None:
        ask = parse_tonight(tokens(args))
        pid = await self._person(chat)
        plan = await self.engine.tonight(pid, ask.minutes, ask.filters, ask.mood, chat.platform)
        try:
            await chat.reply(render_plans.tonight(plan), private=True)
        except Exception:
            if plan.pick is not None:
                await self.engine.withdraw_picks([r.event_id for r in plan.pick.items])
            raise
        if plan.pick is not None:
            await self.deliver_picks(chat, plan.pick)

    async def _cmd_upcoming(self, chat: Chat, args: str, mentions: Sequence[Speaker]) -> None:
        pid = await self._person(chat)
        if args.strip():
            if args.strip().lower() not in ("ics", "ical", "calendar"):
                raise MultitudesError("upcoming args", user_message=(
                    _("`upcoming` lists what is coming; `upcoming ics` sends it as a calendar file.")))
            cal = await self.engine.calendar(pid)
            if cal.episodes:
                await chat.send_file(cal.name, cal.data, render_plans.calendar_caption(cal))
            else:                                   # no file with nothing in it
                await chat.reply(render_plans.calendar_caption(cal), private=True)
            return
        text = render.upcoming(await self.engine.upcoming(pid))
        pending = [a for a in await self.engine.person_alerts(pid) if a.status == "pending"]
        tz = (await self.engine.person_settings(pid)).timezone
        await chat.reply(text + ("\n\n" + render_alerts.pending_alerts(pending, tz) if pending else ""), private=True)

    async def _cmd_stats(self, chat: Chat, args: str, mentions: Sequence[Speaker]) -> None:
        pid = await self._person(chat)
        words = args.strip().lower().split()
        if words[:1] == ["year"]:
            if len(words) > 2 or (len(words) == 2 and not (words[1].isascii() and words[1].isdigit())):
                raise MultitudesError("stats year args",
                                      user_message=_("Usage: stats year [YEAR], e.g. stats year 2025."))
            review = await self.engine.year_review(pid, int(words[1]) if len(words) == 2 else None)
            await chat.reply(render_plans.year_review(review), private=True)
            if review.chart is not None:
                await chat.send_image(review.chart.png, review.chart.caption, f"year-{review.year}.png")
            return
        if args.strip().lower() == "all":
            if not self.engine.is_owner(chat.platform, chat.speaker.user_id):
                await chat.reply(_("Only the bot owner sees everyone's success rates; /stats shows yours."),
                                 private=True)
                return
            await chat.reply(render_stats.learning(await self.engine.learning(None)), private=True)
            return
        await chat.reply(render_stats.stats(await self.engine.stats(pid)) + "\n\n" + render_stats.picks_summary(
            await self.engine.learning(pid)), private=True)

    async def _cmd_settings(self, chat: Chat, args: str, mentions: Sequence[Speaker]) -> None:
        pid = await self._person(chat)
        changes = resolve_channel(parse_settings(tokens(args)), chat.platform,
                                  chat.chat_id if chat.is_group else None)
        if "group_opt_in" in changes:          # group picks are opted into where they happen, nowhere else
            if not (chat.is_group and chat.group_id is not None):
                raise MultitudesError("group opt-in in private", user_message=(
                    _("Opt in to group picks inside the group or server where you watch together: "
                      "/settings group:on there.")))
            await self.engine.set_group_opt_in(chat.platform, chat.group_id, pid, bool(changes.pop("group_opt_in")))
        now = await (self.engine.update_settings(pid, **changes) if changes else self.engine.person_settings(pid))
        here = None
        if chat.is_group and chat.group_id is not None:
            here = pid in {p for p, _name in await self.engine.group_members(chat.platform, chat.group_id)}
        with speaking(now.lang or chat.speaker.locale):      # a new lang: is confirmed in that language
            await chat.reply(settings_text(now, here), private=True)

    async def _cmd_groupwatch(self, chat: Chat, args: str, mentions: Sequence[Speaker]) -> None:
        pid = await self._person(chat)
        if not (chat.is_group and chat.group_id is not None):
            raise MultitudesError("private", user_message=_(
                "Use /groupwatch in a group chat with the people to watch with; each of them opts in there with "
                "/settings group:on."))
        opted = await self.engine.group_members(chat.platform, chat.group_id)
        here = [p for p, uid in opted if await chat.is_member(uid)]     # who left the group is out of it
        if pid not in here:
            raise MultitudesError("not opted in", user_message=_("Opt in first with /settings group:on (here)."))
        if mentions:                                 # named people (Discord: /groupwatch @a @b): only those who
            members = [pid]                          # opted in here; nobody is created, nobody's tastes named
            missing: list[str] = []
            for m in mentions:
                try:
                    who = await self.engine.find_person(m.platform, m.user_id)
                except MultitudesError:
                    who = None
                if who is None or who not in here:
                    missing.append(m.display_name or _("someone"))
                elif who not in members:
                    members.append(who)
            if missing:
                raise MultitudesError("not opted in here", user_message=(
                    _("{names} must opt in to group picks here first (/settings group:on in this server or "
                      "group).").format(names=", ".join(missing))))
            heading = _("Group picks for you all — vote with the buttons:")
        else:
            members = here
            heading = _("Group picks for {n} of you — vote with the buttons:").format(n=len(members))
        ask = parse_groupwatch(tokens(args))
        now = self.engine.clock.now()
        closes = now + timedelta(minutes=ask.closes_in) if ask.closes_in else None
        if closes is not None:
            heading += " " + _("The vote closes in {length} ({time} UTC).").format(
                length=render_plans.length(ask.closes_in or 0), time=f"{closes:%H:%M}")
        watch = None
        if ask.at is not None:                       # the next such time in the asker's zone, after the vote
            tz = (await self.engine.person_settings(pid)).timezone
            watch = render_plans.next_time(ask.at, tz, closes or now)
            heading += " " + _("Watching together at {time} UTC.").format(time=f"{watch:%H:%M}")
        result = await self.engine.group_recommend(members, (chat.platform, chat.group_id), k=3,
                                                   filters=ask.filters, closes_at=closes, event_at=watch,
                                                   announce_to=chat.chat_id)
        await self._deliver(chat, result, group=True, heading=heading + (f"\n{result.note}" if result.note else ""))

    async def _cmd_rate(self, chat: Chat, args: str, mentions: Sequence[Speaker]) -> None:
        title, rating = parse_rate(tokens(args))
        got = await self.engine.rate(await self._person(chat), title, rating)
        await chat.reply(render.rated(got.title, got.rating, got.on_trakt, got.note), private=True)

    async def _cmd_watched(self, chat: Chat, args: str, mentions: Sequence[Speaker]) -> None:
        """``watched S02E04``: the answer to 👀's question (mark it watched on Trakt?), up to an episode."""
        upto = parse_episode(args)
        now = self.engine.clock.now()
        mine = [(t, c) for t, c in self._confirmations.items() if c.until > now and c.action.startswith("watched:")
                and (c.platform, c.user_id) == (chat.platform, chat.speaker.user_id)]
        if not mine:
            raise MultitudesError("nothing to mark", user_message=(
                _("Nothing to mark: press 👀 on a pick first (with `/settings trakt:write`), then `watched S02E04`.")))
        token, c = mine[-1]                          # the latest 👀 question of theirs
        del self._confirmations[token]
        pid = await self._person(chat)
        title, added = await self.engine.mark_watched(pid, int(c.action.split(":", 1)[1]), upto)
        await chat.reply(_("Marked {title} watched on Trakt up to {code} ({episodes}).").format(
            title=title, code=f"S{upto[0]:02d}E{upto[1]:02d}",
            episodes=render.plural(added, "{n} episode", "{n} episodes")), private=True)

    async def _cmd_export(self, chat: Chat, args: str, mentions: Sequence[Speaker]) -> None:
        pid = await self._person(chat)
        data = await self.engine.export(pid)
        day = self.engine.clock.now().strftime("%Y-%m-%d")
        await chat.send_file(f"multitudes-export-{day}.json", data, (
            _("Everything I store about you ({size} of JSON). Send this file to me, here or on another Multitudes, to "
              "bring it all back; /forget deletes it here.").format(size=render.size(len(data)))))

    async def _cmd_forget(self, chat: Chat, args: str, mentions: Sequence[Speaker]) -> None:
        token = self._ask(chat, "forget")
        await chat.confirm(_("Delete everything I store about you (history, personas, tokens, feedback)?"), token)

