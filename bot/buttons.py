"""Button presses: feedback on a pick, a 1–10 rating, a 📥 request, a group vote, a re-roll and the answer to a
question. Whatever a button's data says, it is checked before anything is done and always answered."""

from __future__ import annotations

import logging

from engine.values.errors import MultitudesError
from engine.values.models import FeedbackKind, Noted

from . import render, render_media
from .chat import NO, Chat
from .i18n import N_, _
from .replies import Replies

log = logging.getLogger(__name__)


class Buttons(Replies):
    async def _rating_button(self, chat: Chat, rest: str) -> None:
        """A 1–10 button under a show just marked seen."""
        event, _sep, n = rest.partition(":")
        if not (event.isascii() and event.isdigit() and len(event) < 19 and n.isascii() and n.isdigit()
                and 1 <= int(n) <= 10):
            await chat.ack(_("That button is no longer valid."))
            return
        try:
            got = await self.engine.rate(await self._person(chat), "", int(n), event_id=int(event))
        except MultitudesError as e:
            await chat.ack(e.user_message[:200], alert=True)
            return
        await chat.ack(render.rated(got.title, got.rating, got.on_trakt, got.note)[:200])

    async def _request_button(self, chat: Chat, rest: str) -> None:
        """📥: the pick becomes a Seerr request by the person's own Seerr user; the answer says what happened."""
        if not (rest.isascii() and rest.isdigit() and len(rest) < 19):
            await chat.ack(_("That button is no longer valid."))
            return
        pid = await self._person(chat)
        try:
            done = await self.engine.request_pick(pid, int(rest))
        except MultitudesError as e:
            await chat.ack(e.user_message[:200], alert=True)
            return
        await chat.ack(render_media.requested(done)[:200], alert=not done.outcome.requested)

    async def _feedback_button(self, chat: Chat, rest: str) -> None:
        event, _sep, kind = rest.partition(":")
        if not (event.isascii() and event.isdigit()) or kind not in {str(f.kind) for f in render.FEEDBACK}:
            await chat.ack(_("That button is no longer valid."))
            return
        pid = await self._person(chat)
        try:
            changed = await self.engine.record_feedback(pid, int(event), FeedbackKind(kind))
        except MultitudesError as e:             # not theirs, or a full Trakt watchlist: saved here, said why
            await chat.ack(e.user_message[:200], alert=True)
            return
        await chat.ack(render.noted(FeedbackKind(kind), changed)[:200])
        if changed.offer_watched:
            await self._offer_watched(chat, int(event), changed.title)
        await self._offer_rating(chat, int(event), FeedbackKind(kind), True, changed)

    async def _offer_rating(self, chat: Chat, event_id: int, kind: FeedbackKind, added: bool, noted: Noted) -> None:
        """👀 just marked a pick seen: a 1–10 row to rate it (each adapter keeps it to the person)."""
        if kind is FeedbackKind.SEEN and added and noted:
            await chat.offer_rating(event_id, noted.title or _("it"))

    async def _offer_watched(self, chat: Chat, event_id: int, title: str | None) -> None:
        """After 👀 with ``trakt:write``: mark the show watched on Trakt too? Asked once, answered by the person."""
        token = self._ask(chat, f"watched:{event_id}")
        await chat.confirm(_("Mark {title} watched on Trakt too (every aired episode, at its air date)? Or only up "
                             "to an episode: `watched S02E04`.").format(title=title or _("it")), token,
                           yes=N_("Yes, mark it"), no=NO)

    async def _confirmed(self, chat: Chat, rest: str) -> None:
        token, _sep, answer = rest.partition(":")
        c = self._confirmations.get(token)
        if c is None or c.until <= self.engine.clock.now():
            await chat.ack(_("That question expired; ask again."))
            return
        if (c.platform, c.user_id) != (chat.platform, chat.speaker.user_id):
            await chat.ack(_("That question was for someone else."), alert=True)
            return
        del self._confirmations[token]
        if c.action.startswith("watched:"):
            if answer != "yes":
                await chat.ack(_("Left as it is on Trakt."))
                return
            pid = await self.engine.person(chat.platform, chat.speaker.user_id)
            title, added = await self.engine.mark_watched(pid, int(c.action.split(":", 1)[1]))
            await chat.ack(_("Marked {title} watched on Trakt ({episodes}).").format(
                title=title, episodes=render.plural(added, "{n} episode", "{n} episodes")))
            return
        if answer != "yes":
            await chat.ack(_("Nothing deleted."))
            return
        if c.action == "forget":
            await self.engine.forget(await self.engine.person(chat.platform, chat.speaker.user_id))
            await chat.ack(_("Deleted."))
            await chat.reply(_("Everything about you is deleted."), private=True)

    async def _group_vote(self, chat: Chat, rest: str) -> None:
        event, _sep, vote = rest.partition(":")
        if not (event.isascii() and event.isdigit()) or vote not in ("up", "down"):
            await chat.ack(_("That button is no longer valid."))
            return
        try:
            pid = await self.engine.find_person(chat.platform, chat.speaker.user_id)
        except MultitudesError:                     # someone who never used the bot is no member
            await chat.ack(_("Only people in this group watch can vote."), alert=True)
            return
        t = await self.engine.group_vote(int(event), pid, vote == "up")
        await chat.ack(_("Counted. {title}: 👍 {up} · 👎 {down} ({voted} of {members} voted).").format(
            title=t.title, up=t.up, down=t.down, voted=t.voted, members=t.members))
        try:
            await chat.show_tally(t)
        except Exception:                           # the vote counted; only its display lags
            log.warning("%s: could not show a group vote count", chat.platform, exc_info=True)
        if t.announce and t.winner:                 # once, to everyone in the chat (not the last voter alone)
            when = ""
            if t.event_at is not None:
                when = " " + _("Watching together at {time} UTC.").format(time=f"{t.event_at:%H:%M}")
                try:
                    if await chat.schedule_event(t.winner, t.event_at):
                        when += " " + _("It is in the server's events.")
                except Exception:                   # the result still goes out; the event is a courtesy
                    log.warning("%s: could not schedule a group watch", chat.platform, exc_info=True)
            await chat.announce(_("Everyone voted: {title} it is (👍 {up} · 👎 {down}).").format(
                title=t.winner, up=t.winner_up, down=t.winner_down) + when + " " + _("Enjoy!"))

    async def _reroll(self, chat: Chat, request_id: str) -> None:
        if not (len(request_id) == 12 and all(ch in "0123456789abcdef" for ch in request_id)):
            await chat.ack(_("That button is no longer valid."))
            return
        self.limiter.check(f"{chat.platform}:{chat.speaker.user_id}", "groupwatch")
        pid = await self._person(chat)
        if chat.group_id is None:
            await chat.ack(_("That button is no longer valid."))
            return
        result = await self.engine.reroll_group(request_id, pid, (chat.platform, chat.group_id))
        await chat.ack(_("Re-rolling"))
        await self._deliver(chat, result, group=True, heading=_("Re-rolled — vote with the buttons:"))
