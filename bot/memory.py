"""An in-memory platform: drives whole conversations without any network (tests, scripts), and records every
answer. It is a front end like the others: the same ``Conversation``, a ``Chat`` per event."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from engine.values.models import GroupTally, Recommendation

from . import render
from .chat import NO, YES_DELETE, Progress, Speaker
from .conversation import Conversation
from .i18n import _


@dataclass
class Sent:
    kind: str                       # text | private | pick | image | file | confirm | ack | reroll
    text: str
    to: str                         # the chat (a user id for private answers, a group id)
    rec: Recommendation | None = None
    ref: str | None = None
    token: str | None = None
    private: bool = False
    alert: bool = False
    file: tuple[str, bytes] | None = None       # a document sent: (file name, content)


class _Progress:
    def __init__(self, chat: MemoryChat) -> None:
        self.chat = chat
        self.steps: list[str] = []

    def step(self, text: str) -> None:
        self.steps.append(text)

    async def done(self, text: str) -> None:
        await self.chat.reply(text)


class MemoryChat:
    def __init__(self, platform: MemoryPlatform, speaker: Speaker, group: str | None) -> None:
        self._platform = platform
        self._speaker = speaker
        self._group = group

    @property
    def platform(self) -> str:
        return self._platform.name

    @property
    def speaker(self) -> Speaker:
        return self._speaker

    @property
    def chat_id(self) -> str | None:
        return self._group

    @property
    def is_group(self) -> bool:
        return self._group is not None

    @property
    def group_id(self) -> str | None:
        return self._group

    @property
    def _where(self) -> str:
        return self._group or self._speaker.user_id

    def _add(self, s: Sent) -> None:
        self._platform.sent.append(s)

    async def reply(self, text: str, *, private: bool = False) -> None:
        self._add(Sent("text", text, self._speaker.user_id if private else self._where, private=private))

    async def is_member(self, user_id: str) -> bool:
        return user_id not in self._platform.left.get(self._group or "", set())

    async def announce(self, text: str) -> None:
        self._add(Sent("text", text, self._where))

    async def tell_privately(self, text: str) -> bool:
        if self._speaker.user_id in self._platform.no_private:
            return False
        self._add(Sent("private", text, self._speaker.user_id, private=True))
        return True

    async def send_pick(self, rec: Recommendation, *, group: bool = False) -> str | None:
        ref = f"m{next(self._platform.refs)}"
        self._add(Sent("pick", f"{rec.rank}. {rec.title} — {rec.reason}", self._where, rec=rec, ref=ref))
        return ref

    async def offer_rating(self, event_id: int, title: str) -> None:
        self._add(Sent("rating", render.rate_question(title), self._where, token=f"rt:{event_id}"))

    async def offer_reroll(self, request_id: str) -> None:
        self._add(Sent("reroll", _("None of these?"), self._where, token=f"rr:{request_id}"))

    async def show_tally(self, tally: GroupTally) -> None:
        self._add(Sent("tally", f"{tally.rank}. {tally.title}: 👍 {tally.up} · 👎 {tally.down}", self._where))

    async def send_image(self, png: bytes, caption: str, name: str | None = None) -> None:
        self._add(Sent("image", caption, self._where))

    async def schedule_event(self, title: str, at: datetime) -> bool:
        return False                                # no events here: the announcement says the time

    async def send_file(self, name: str, data: bytes, caption: str) -> None:
        self._add(Sent("file", caption, self._speaker.user_id, private=True, file=(name, data)))

    async def confirm(self, question: str, token: str, yes: str = YES_DELETE, no: str = NO) -> None:
        self._add(Sent("confirm", question, self._where, token=token))

    async def ack(self, text: str, *, alert: bool = False) -> None:
        self._add(Sent("ack", text, self._speaker.user_id, alert=alert))

    async def progress(self, text: str) -> Progress:
        self._add(Sent("text", text, self._where))
        return _Progress(self)


class MemoryPlatform:
    """People talk, press and react; ``sent`` holds every answer in order."""

    def __init__(self, conversation: Conversation, name: str = "memory", locale: str | None = None) -> None:
        """``locale``: the language everyone's app is in (a Telegram language_code, a Discord locale)."""
        self.conversation = conversation
        self.name = name
        self.locale = locale
        self.sent: list[Sent] = []
        self.refs = itertools.count(1)
        self.no_private: set[str] = set()          # people the platform will not let us message privately
        self.left: dict[str, set[str]] = {}        # group -> people who left it

    def chat(self, user: str, name: str | None = None, *, group: str | None = None) -> MemoryChat:
        return MemoryChat(self, Speaker(self.name, user, name or user, self.locale), group)

    def _since(self, n: int) -> list[Sent]:
        return self.sent[n:]

    async def say(self, user: str, text: str, *, group: str | None = None, name: str | None = None,
                  mentions: Sequence[str] = ()) -> list[Sent]:
        """``/command args`` from ``user``; returns what the bot answered."""
        n = len(self.sent)
        cmd, _sep, args = text.strip().lstrip("/").partition(" ")
        await self.conversation.command(self.chat(user, name, group=group), cmd, args,
                                        mentions=[Speaker(self.name, m, m) for m in mentions])
        return self._since(n)

    async def press(self, user: str, data: str, *, group: str | None = None) -> list[Sent]:
        n = len(self.sent)
        await self.conversation.button(self.chat(user, group=group), data)
        return self._since(n)

    async def react(self, user: str, ref: str, emoji: str, added: bool = True, *, group: str | None = None,
                    at: datetime | None = None) -> list[Sent]:
        n = len(self.sent)
        await self.conversation.reaction(self.chat(user, group=group), ref, emoji, added, at)
        return self._since(n)

    async def upload(self, user: str, filename: str, data: bytes, profile: str | None = None) -> list[Sent]:
        n = len(self.sent)
        refusal = self.conversation.too_big(len(data), self.locale)
        if refusal:
            await self.chat(user).reply(refusal, private=True)
        else:
            await self.conversation.document(self.chat(user), filename, data, profile)
        return self._since(n)

    def picks(self, sent: Sequence[Sent] | None = None) -> list[Sent]:
        return [s for s in (self.sent if sent is None else sent) if s.kind == "pick"]
