"""The console's side of one conversation: a ``ConsoleChat`` printing answers, numbering picks for `nope 2`, writing
files and charts where a chat would attach them, and asking `yes` to confirm."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Protocol

from engine.values.models import GroupTally, Recommendation

from . import render
from .chat import NO, YES_DELETE, Progress, Speaker
from .i18n import _

PLATFORM = "console"
CHAT_ID = "local"


class Terminal(Protocol):
    """What a chat needs of the console: where to print and write, and the numbers of the last list."""
    user: str
    refs: Iterator[int]
    last: dict[int, int]
    files: Path
    chart_hinted: bool
    pending_confirmation: str | None

    def say(self, text: str) -> None: ...


class _Progress:
    def __init__(self, console: Terminal) -> None:
        self.console = console

    def step(self, text: str) -> None:
        self.console.say(text)

    async def done(self, text: str) -> None:
        self.console.say(text)


class ConsoleChat:
    """Everything said in the console, printed; the console is one local chat its people share."""

    def __init__(self, console: Terminal) -> None:
        self.console = console

    @property
    def platform(self) -> str:
        return PLATFORM

    @property
    def speaker(self) -> Speaker:
        return Speaker(PLATFORM, self.console.user, self.console.user)

    @property
    def chat_id(self) -> str | None:
        return CHAT_ID

    @property
    def is_group(self) -> bool:
        return True

    @property
    def group_id(self) -> str | None:
        return CHAT_ID

    async def reply(self, text: str, *, private: bool = False) -> None:
        self.console.say(text)

    async def is_member(self, user_id: str) -> bool:
        return True

    async def announce(self, text: str) -> None:
        self.console.say(text)

    async def tell_privately(self, text: str) -> bool:
        self.console.say(text)
        return True

    async def send_pick(self, rec: Recommendation, *, group: bool = False) -> str | None:
        ref = f"c{next(self.console.refs)}"
        self.console.last[rec.rank] = rec.event_id
        self.console.say(render.pick(rec))
        return ref

    async def show_tally(self, tally: GroupTally) -> None:
        self.console.say(f"{tally.rank}. {tally.title}: 👍 {tally.up} · 👎 {tally.down}")

    async def offer_rating(self, event_id: int, title: str) -> None:
        self.console.say(_("Rate it: rate \"{title}\" 1-10").format(title=title))

    async def offer_reroll(self, request_id: str) -> None:
        self.console.say("(run groupwatch again for other picks)")

    async def schedule_event(self, title: str, at: datetime) -> bool:
        return False                                # no events here: the announcement says the time

    async def _write(self, name: str, data: bytes) -> Path | None:
        """Into var/files/ (ignored by git); None (and said why) when it cannot be written."""
        path = self.console.files / Path(name).name
        try:
            await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
            await asyncio.to_thread(path.write_bytes, data)
        except OSError as e:
            self.console.say(_("Could not write {path}: {error}.").format(path=path, error=e.strerror or e))
            return None
        return path

    async def send_file(self, name: str, data: bytes, caption: str) -> None:
        path = await self._write(name, data)
        if path is not None:
            self.console.say(f"{caption} Written to {path}.")

    async def send_image(self, png: bytes, caption: str, name: str | None = None) -> None:
        if name is not None:                        # a chart of its own: written out with the other files
            path = await self._write(name, png)
            if path is not None:
                self.console.say(_("Wrote “{caption}” to {path}.").format(caption=caption, path=path))
            return
        if not self.console.chart_hinted:           # one hint for the charts of one command
            self.console.chart_hinted = True
            self.console.say("(the charts: `personas chart` writes them as PNGs into var/charts/)")

    async def confirm(self, question: str, token: str, yes: str = YES_DELETE, no: str = NO) -> None:
        self.console.pending_confirmation = token
        self.console.say(f"{question} " + _("Type `yes` to confirm."))

    async def ack(self, text: str, *, alert: bool = False) -> None:
        self.console.say(text)

    async def progress(self, text: str) -> Progress:
        self.console.say(text)
        return _Progress(self.console)


