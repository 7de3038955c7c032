"""What the conversation needs from a platform: who is speaking, where, and how to answer.

Each front end (Telegram, Discord, the console, the in-memory test chat) implements ``Chat`` for one incoming
event (a command, a button press, a reaction, a document) and feeds the event to ``bot.conversation``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from engine.values.models import GroupTally, Recommendation

from .i18n import N_

YES_DELETE = N_("Yes, delete it all")        # the default answers of a question (translated where shown)
NO = N_("No")


@dataclass(frozen=True, slots=True)
class Speaker:
    platform: str
    user_id: str
    display_name: str | None = None
    locale: str | None = None           # the language their app is in (Telegram's language_code, Discord's locale)


class Progress(Protocol):
    def step(self, text: str) -> None:
        """How far a long command got (a console line; platforms may show nothing until it is done)."""
        ...

    async def done(self, text: str) -> None:
        """The outcome, in place of the progress message."""
        ...


class Chat(Protocol):
    @property
    def platform(self) -> str: ...

    @property
    def speaker(self) -> Speaker: ...

    @property
    def chat_id(self) -> str | None:
        """The group chat (Telegram group, Discord channel) the event came from; None in a private chat."""
        ...

    @property
    def is_group(self) -> bool: ...

    @property
    def group_id(self) -> str | None:
        """The community a group watch happens in (a Telegram group, a Discord server); None in private."""
        ...

    async def reply(self, text: str, *, private: bool = False) -> None:
        """Answer where the person spoke (``private``: only they see it — ephemeral, or their private chat)."""
        ...

    async def is_member(self, user_id: str) -> bool:
        """Whether this platform user is still in the group chat or server the event came from."""
        ...

    async def announce(self, text: str) -> None:
        """Say something to everyone in the chat the event came from (a group vote's result), never only to the
        speaker."""
        ...

    async def tell_privately(self, text: str) -> bool:
        """A direct message to the speaker, outside this chat (a link code); False when the platform refuses."""
        ...

    async def send_pick(self, rec: Recommendation, *, group: bool = False) -> str | None:
        """One pick with its feedback buttons; the message reference reactions will carry (None: not sent)."""
        ...

    async def show_tally(self, tally: GroupTally) -> None:
        """Show a group pick's vote count on the message whose button was pressed (where the platform can)."""
        ...

    async def offer_reroll(self, request_id: str) -> None:
        """A 🎲 button under group picks."""
        ...

    async def offer_rating(self, event_id: int, title: str) -> None:
        """After 👀: a row of 1–10 buttons (``rt:<event>:<n>``) to rate the show just marked seen, seen by the
        person only (a group chat need not see what they rate)."""
        ...

    async def send_image(self, png: bytes, caption: str, name: str | None = None) -> None:
        """A chart; ``name`` (e.g. ``year-2026.png``): a chart the console writes out rather than only pointing to."""
        ...

    async def schedule_event(self, title: str, at: datetime) -> bool:
        """Where the platform has them, the group watch as an event at ``at`` (a Discord scheduled event);
        False where it has none."""
        ...

    async def send_file(self, name: str, data: bytes, caption: str) -> None:
        """A file for the speaker alone (a calendar, their data): privately, even when asked in a group."""
        ...

    async def confirm(self, question: str, token: str, yes: str = YES_DELETE, no: str = NO) -> None:
        """Yes/no buttons carrying ``token``; the press comes back as a button event ``cf:<token>:yes|no``."""
        ...

    async def ack(self, text: str, *, alert: bool = False) -> None:
        """Answer a button press (a toast, an ephemeral note, a line)."""
        ...

    async def progress(self, text: str) -> Progress: ...
