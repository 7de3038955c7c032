"""One conversation suite, run on every adapter: the in-memory chat, the console, Telegram (the real
python-telegram-bot against its loopback fake) and Discord (the real discord.py against its fake).

Two people, Ann and Ben: link Trakt → sync → personas → recommend → 👎 (the show never comes back) → 👀 on
another pick → both opt in to group picks → a group watch nobody in it has seen, with who matches what."""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pytest
from ical.calendar_stream import IcsCalendarStream

from bot.console import Console
from bot.conversation import Conversation
from bot.discord import DiscordFrontend
from bot.memory import MemoryPlatform
from bot.telegram import TelegramFrontend
from engine import Engine
from engine.store import SqliteStore
from engine.values.models import FeedbackKind
from tests.fakes.catalogue import history_rows
from tests.fakes.discord import FakeDiscord
from tests.fakes.telegram import FakeTelegram
from tests.fakes.tmdb import FakeTmdb
from tests.fakes.trakt import FakeTrakt

ADAPTERS = ("memory", "console", "telegram", "discord")


@dataclass(frozen=True)
class Person:
    name: str          # also the Trakt username
    uid: int


ANN, BEN = Person("ann", 4101), Person("ben", 4102)


@dataclass
class Reply:
    text: str
    kind: str = "text"                 # text | pick | image | ack
    event_id: int | None = None        # picks: the event their buttons carry
    raw: Any = None                    # the platform's message, to press or react on


@dataclass
class Seen:
    replies: list[Reply] = field(default_factory=list)

    def texts(self) -> str:
        return "\n".join(r.text for r in self.replies)

    def picks(self) -> list[Reply]:
        return [r for r in self.replies if r.kind == "pick"]


class Driver(Protocol):
    engine: Engine
    platform: str

    def uid(self, who: Person) -> str: ...

    async def say(self, who: Person, text: str, *, group: bool = False, until: Callable[[Seen], bool],
                  mentions: tuple[Person, ...] = ()) -> Seen: ...

    async def press(self, who: Person, pick: Reply, kind: FeedbackKind) -> str: ...

    async def vote(self, who: Person, pick: Reply, up: bool, *, result: bool = False) -> str: ...

    async def react(self, who: Person, pick: Reply, emoji: str) -> None: ...

    async def sent_file(self) -> bytes:
        """The last file the bot sent."""

    async def result_is_public(self) -> bool:
        """The group vote's result reached the whole chat (not only the last voter), exactly once."""
        ...


async def wait(cond: Callable[[], bool], within: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not cond():
        assert asyncio.get_running_loop().time() < deadline, "the bot did not answer in time"
        await asyncio.sleep(0.02)


# -- drivers -------------------------------------------------------------------------------------------------------
class MemoryDriver:
    platform = "memory"

    def uid(self, who: Person) -> str:
        return str(who.uid)

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.p = MemoryPlatform(Conversation(engine), name="memory")

    def _replies(self, start: int) -> Seen:
        return Seen([Reply(s.text, s.kind if s.kind in ("pick", "image", "ack") else "text",
                           s.rec.event_id if s.rec else None, s) for s in self.p.sent[start:]])

    async def say(self, who: Person, text: str, *, group: bool = False, until: Callable[[Seen], bool],
                  mentions: tuple[Person, ...] = ()) -> Seen:
        n = len(self.p.sent)
        await self.p.say(str(who.uid), text, group="g1" if group else None, name=who.name.title(),
                         mentions=[str(m.uid) for m in mentions])
        await wait(lambda: until(self._replies(n)))
        return self._replies(n)

    async def press(self, who: Person, pick: Reply, kind: FeedbackKind) -> str:
        got = await self.p.press(str(who.uid), f"fb:{pick.event_id}:{kind}")
        return next(s.text for s in got if s.kind == "ack")

    async def vote(self, who: Person, pick: Reply, up: bool, *, result: bool = False) -> str:
        got = await self.p.press(str(who.uid), f"gv:{pick.event_id}:{'up' if up else 'down'}", group="g")
        return "\n".join(s.text for s in got)

    async def react(self, who: Person, pick: Reply, emoji: str) -> None:
        await self.p.react(str(who.uid), pick.raw.ref, emoji)

    async def sent_file(self) -> bytes:
        return next(s.file[1] for s in reversed(self.p.sent) if s.file is not None)

    async def result_is_public(self) -> bool:
        got = [s for s in self.p.sent if "Everyone voted" in s.text]
        return len(got) == 1 and not got[0].private and got[0].to == "g"

    async def close(self) -> None:
        await self.p.conversation.close()


class ConsoleDriver:
    """Each person at their own console prompt, one database and one conversation (the console is one local
    chat: its people can watch together)."""

    platform = "console"

    def uid(self, who: Person) -> str:
        return who.name

    def __init__(self, engine: Engine, files: Path) -> None:
        self.engine = engine
        self.files = files
        self.conversation = Conversation(engine)
        self.out = io.StringIO()
        self.consoles: dict[str, Console] = {}

    def _console(self, who: Person) -> Console:
        if who.name not in self.consoles:
            self.consoles[who.name] = Console(self.engine, out=self.out, user=who.name,
                                              conversation=self.conversation, files=self.files)
        return self.consoles[who.name]

    async def sent_file(self) -> bytes:                 # written where the console writes files
        return max(self.files.iterdir(), key=lambda p: p.stat().st_mtime_ns).read_bytes()

    def _seen(self, start: int) -> Seen:
        text = self.out.getvalue()[start:]
        replies = []
        for block in re.split(r"\n(?=\d+\. )", text):
            m = re.match(r"(\d+)\. ", block)
            replies.append(Reply(block, "pick" if m else "text", int(m.group(1)) if m else None))
        return Seen(replies)

    async def say(self, who: Person, text: str, *, group: bool = False, until: Callable[[Seen], bool],
                  mentions: tuple[Person, ...] = ()) -> Seen:
        start = len(self.out.getvalue())
        await self._console(who).handle(text.lstrip("/"))
        await wait(lambda: until(self._seen(start)))
        return self._seen(start)

    async def press(self, who: Person, pick: Reply, kind: FeedbackKind) -> str:
        verb = {FeedbackKind.NOT_FOR_ME: "nope", FeedbackKind.SEEN: "seen", FeedbackKind.LIKED: "like",
                FeedbackKind.WATCHLIST: "pin"}[kind]
        return await self._console(who).handle(f"{verb} {pick.event_id}") or ""

    async def vote(self, who: Person, pick: Reply, up: bool, *, result: bool = False) -> str:
        return await self._console(who).handle(f"vote {pick.event_id} {'up' if up else 'down'}") or ""

    async def react(self, who: Person, pick: Reply, emoji: str) -> None:
        assert emoji == "👀"
        await self.press(who, pick, FeedbackKind.SEEN)       # a terminal has no reactions: the same feedback

    async def close(self) -> None:
        await self.conversation.close()


class TelegramDriver:
    GROUP = -100777
    platform = "telegram"

    def uid(self, who: Person) -> str:
        return str(who.uid)

    def __init__(self, engine: Engine, tg: FakeTelegram) -> None:
        self.engine = engine
        self.tg = tg
        self.fe = TelegramFrontend(engine, tg.token)

    def _seen(self, start: int) -> Seen:
        out = []
        for m in self.tg.sent[start:]:
            rows = (m.get("reply_markup") or {}).get("inline_keyboard") or []
            data = [b.get("callback_data", "") for row in rows for b in row]
            fb = next((d for d in data if d.startswith(("fb:", "gv:"))), None)
            kind = "pick" if fb else ("image" if m.get("photo") else "text")
            out.append(Reply(m.get("text") or m.get("caption") or "", kind, int(fb.split(":")[1]) if fb else None, m))
        return Seen(out)

    async def say(self, who: Person, text: str, *, group: bool = False, until: Callable[[Seen], bool],
                  mentions: tuple[Person, ...] = ()) -> Seen:
        n = len(self.tg.sent)
        self.tg.command(who.uid, text, chat=self.GROUP if group else None, name=who.name.title(),
                        kind="group" if group else "private", mentions=[(m.uid, m.name.title()) for m in mentions])
        await wait(lambda: until(self._seen(n)))
        return self._seen(n)

    async def press(self, who: Person, pick: Reply, kind: FeedbackKind) -> str:
        n = len(self.tg.answered)
        self.tg.press(who.uid, pick.raw, f"fb:{pick.event_id}:{kind}", name=who.name.title())
        await wait(lambda: len(self.tg.answered) > n)
        return str(self.tg.answered[n].get("text", ""))

    async def vote(self, who: Person, pick: Reply, up: bool, *, result: bool = False) -> str:
        n, m = len(self.tg.answered), len(self.tg.sent)
        data = pick.raw["reply_markup"]["inline_keyboard"][0][0 if up else 1]["callback_data"]
        self.tg.press(who.uid, pick.raw, data, name=who.name.title())
        await wait(lambda: len(self.tg.answered) > n)
        if result:                                    # the result follows the answer
            await wait(lambda: any("Everyone voted" in str(x.get("text", "")) for x in self.tg.sent[m:]))
        answer = str(self.tg.answered[n].get("text", ""))
        return "\n".join([answer] + [str(x.get("text", "")) for x in self.tg.sent[m:]])

    async def react(self, who: Person, pick: Reply, emoji: str) -> None:
        self.tg.react(who.uid, pick.raw, [], [emoji], name=who.name.title())

    async def sent_file(self) -> bytes:
        doc = next(m["document"] for m in reversed(self.tg.sent) if m.get("document"))
        return self.tg.files[doc["file_id"]]

    async def result_is_public(self) -> bool:
        got = [m for m in self.tg.sent if "Everyone voted" in str(m.get("text", ""))]
        return len(got) == 1 and got[0]["chat"]["id"] < 0                 # the group chat, not a private one

    async def close(self) -> None:
        await self.fe.stop()
        assert not self.tg.unhandled, self.tg.unhandled


class DiscordDriver:
    platform = "discord"

    def uid(self, who: Person) -> str:
        return str(who.uid)

    def __init__(self, engine: Engine, dc: FakeDiscord) -> None:
        self.engine = engine
        self.dc = dc
        self.fe = DiscordFrontend(engine, "fake-bot-token", guild_ready_timeout=0.05)
        for p in (ANN, BEN):
            dc.user(p.uid, p.name)

    def _seen(self, start: int) -> Seen:
        out = []
        for m in self.dc.sent[start:]:
            ids = [c.get("custom_id", "") for row in m.get("components") or [] for c in row.get("components", [])]
            fb = next((i for i in ids if i.startswith(("fb:", "gv:"))), None)
            text = m.get("content") or " ".join(
                f"{e.get('title', '')} {e.get('description', '')} " + " · ".join(
                    str(f.get("value", "")) for f in e.get("fields") or []) for e in m.get("embeds") or [])
            out.append(Reply(text, "pick" if fb else "text", int(fb.split(":")[1]) if fb else None, m))
        return Seen(out)

    async def say(self, who: Person, text: str, *, group: bool = False, until: Callable[[Seen], bool],
                  mentions: tuple[Person, ...] = ()) -> Seen:
        n = len(self.dc.sent)
        name, _, args = text.lstrip("/").partition(" ")
        options = {"recommend": {"filters": args}, "settings": {"more": args}, "tonight": {"time": args},
                   "upcoming": {"format": args}, "stats": {"scope": args},
                   "groupwatch": {"at": args.removeprefix("at:")}, "link": {"server": args},
                   "unlink": {"server": args}}.get(name, {})
        await self.dc.slash(who.uid, name, {k: v for k, v in options.items() if v},
                            users={k: m.uid for k, m in zip("abc", mentions, strict=False)})
        await wait(lambda: until(self._seen(n)))
        return self._seen(n)

    async def press(self, who: Person, pick: Reply, kind: FeedbackKind) -> str:
        n = len(self.dc.sent)
        await self.dc.click(who.uid, pick.raw, f"fb:{pick.event_id}:{kind}")
        await wait(lambda: len(self.dc.sent) > n)
        return str(self.dc.sent[n]["content"])

    async def vote(self, who: Person, pick: Reply, up: bool, *, result: bool = False) -> str:
        n = len(self.dc.sent)
        data = pick.raw["components"][0]["components"][0 if up else 1]["custom_id"]
        await self.dc.click(who.uid, pick.raw, data)
        await wait(lambda: len(self.dc.sent) > n)
        if result:                                    # the result follows the answer
            await wait(lambda: any("Everyone voted" in str(x.get("content", "")) for x in self.dc.sent[n:]))
        return "\n".join(str(x.get("content", "")) for x in self.dc.sent[n:])

    async def react(self, who: Person, pick: Reply, emoji: str) -> None:
        await self.dc.react(who.uid, pick.raw, emoji)

    async def sent_file(self) -> bytes:
        att = next(m["attachments"][0] for m in reversed(self.dc.sent) if m.get("attachments"))
        return self.dc.uploads[att["id"]]

    async def result_is_public(self) -> bool:
        got = [m for m in self.dc.sent if "Everyone voted" in str(m.get("content", ""))]
        return len(got) == 1 and not (got[0].get("flags", 0) & 64) and got[0]["type"] == 0     # a channel message

    async def close(self) -> None:
        await self.fe.stop()
        assert not self.dc.unhandled, self.dc.unhandled


@asynccontextmanager
async def adapter(name: str, make_engine: Any, trakt: FakeTrakt | None, tmdb: FakeTmdb | None, tmp_path: Path,
                  **env: str) -> AsyncIterator[Any]:
    if name == "telegram":
        async with FakeTelegram() as tg:
            engine = await make_engine(trakt=trakt, tmdb=tmdb, MULTITUDES_TELEGRAM__BASE_URL=f"{tg.url}/bot",
                                       MULTITUDES_TELEGRAM__BASE_FILE_URL=f"{tg.url}/file/bot", **env)
            d: Any = TelegramDriver(engine, tg)
            await d.fe.start()
            try:
                yield d
            finally:
                await d.close()
    elif name == "discord":
        async with FakeDiscord() as dc:
            engine = await make_engine(trakt=trakt, tmdb=tmdb, MULTITUDES_DISCORD__API_BASE=f"{dc.url}/api/v10",
                                       MULTITUDES_DISCORD__GATEWAY_URL=dc.gateway_url, **env)
            d = DiscordDriver(engine, dc)
            await asyncio.wait_for(d.fe.start(), 20)
            try:
                yield d
            finally:
                await d.close()
    else:
        engine = await make_engine(trakt=trakt, tmdb=tmdb, **env)
        d = MemoryDriver(engine) if name == "memory" else ConsoleDriver(engine, tmp_path / "files")
        try:
            yield d
        finally:
            await d.close()


async def wait_for(fn: Callable[[], Any], want: Any, within: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while await fn() != want:
        assert asyncio.get_running_loop().time() < deadline, "not reached in time"
        await asyncio.sleep(0.02)


def has(words: str) -> Callable[[Seen], bool]:
    return lambda seen: words in seen.texts()


def picks(n: int) -> Callable[[Seen], bool]:
    return lambda seen: len(seen.picks()) >= n


async def link_and_sync(d: Driver, trakt: FakeTrakt, who: Person) -> None:
    seen = await d.say(who, "/link", until=has("code"))
    code = re.search(r"code (\w+)", seen.texts())
    assert code, seen.texts()
    trakt.approve(code.group(1), who.name)
    await d.say(who, "/help", until=has(f"Linked to Trakt as {who.name}"))      # the link finishes in the background
    await d.say(who, "/sync", until=has("Synced"))


@pytest.mark.parametrize("name", ADAPTERS)
async def test_the_same_conversation_on_every_adapter(name: str, fake_trakt: FakeTrakt, fake_tmdb: FakeTmdb,
                                                       make_engine: Any, probe: SqliteStore, tmp_path: Path) -> None:
    fake_trakt.add_user(ANN.name, history=history_rows(500, 30, years=3, seed=43))
    fake_trakt.add_user(BEN.name, history=history_rows(300, 20, years=2, seed=44))
    async with adapter(name, make_engine, fake_trakt, fake_tmdb, tmp_path) as d:
        await link_and_sync(d, fake_trakt, ANN)
        # the text, then its three charts (the last one: the map); a terminal only points to `personas chart`
        seen = await d.say(ANN, "/personas", until=lambda s: "Your shows by persona" in s.texts()
                           or "the charts:" in s.texts())
        assert "Most typical:" in seen.texts()

        seen = await d.say(ANN, "/recommend k:3", until=picks(3))
        first, second = seen.picks()[:2]
        assert "won't come back" in await d.press(ANN, first, FeedbackKind.NOT_FOR_ME)
        await d.react(ANN, second, "👀")
        ann = await d.engine.find_person(d.platform, d.uid(ANN))

        async def kept_out() -> int:
            async with probe.read() as uow:
                return len(await uow.feedback.dismissed(ann))
        await wait_for(kept_out, 2)                       # 👎 and 👀 both keep their show out from now on
        await d.say(ANN, "/recommend k:10", until=picks(10))
        async with probe.read() as uow:
            dismissed = set(await uow.feedback.dismissed(ann))
            events = await uow.events.of_person(ann)
        latest = {e.show_id for e in events if e.request_id == events[-1].request_id}
        assert len(latest) == 10 and not latest & dismissed
        seen = await d.say(ANN, "/next", until=lambda s: "Up next:" in s.texts() or "caught up" in s.texts())
        assert re.search(r"S\d\dE\d\d", seen.texts()), seen.texts()     # synced from Trakt: real episode numbers
        # ten minutes leave no room for a new show: the answer is the plan (or why nothing fits), no pick follows
        seen = await d.say(ANN, "/tonight 10m", until=lambda s: "Tonight, 10 min" in s.texts()
                           or "Nothing fits in 10 minutes" in s.texts())
        assert not seen.picks()
        await d.say(ANN, "/tonight 5m", until=has("between 10 minutes and 12 hours"))
        seen = await d.say(ANN, "/upcoming ics", until=has("calendar"))
        events = IcsCalendarStream.calendar_from_ics((await d.sent_file()).decode()).events   # a second parser
        assert re.search(rf"{len(events)} episodes? in the next 60 days", seen.texts()), seen.texts()
        assert events and len({e.uid for e in events}) == len(events)
        await d.say(ANN, "/export", until=has("Everything I store about you"))
        exported = json.loads(await d.sent_file())
        assert exported["format"] == "multitudes-export" and len(exported["plays"]) == 500
        seen = await d.say(ANN, "/stats year 2026", until=has("episodes a month"))      # the text, then its chart
        assert "Your 2026 so far:" in seen.texts() and "Most watched:" in seen.texts()

        await link_and_sync(d, fake_trakt, BEN)
        for who in (ANN, BEN):
            await d.say(who, "/settings group:on", group=True, until=has("Group picks here: on"))
        seen = await d.say(ANN, "/groupwatch at:23:59", group=True, mentions=(BEN,), until=picks(3))
        texts = [p.text.lower() for p in seen.picks()]
        assert all("ann's" in t and "ben's" in t for t in texts), texts
        ben = await d.engine.find_person(d.platform, d.uid(BEN))
        async with probe.read() as uow:
            watched = await uow.history.played_shows(ann) | await uow.history.played_shows(ben)
            shown = await uow.events.of_person(ann)
        group_shows = {e.show_id for e in shown if e.mode == "group"}
        assert len(group_shows) == 3 and not group_shows & watched
        # every member votes on the same messages; the count shows; everyone voted: a result (a terminal shows
        # the list to the one who asked: its `vote N` is theirs only)
        if d.platform == "console":
            return
        one, two, three = seen.picks()[:3]
        assert "1 of 2 voted" in await d.vote(BEN, one, up=True)
        assert "👍 2" in await d.vote(ANN, one, up=True)
        for pick in (two, three):
            await d.vote(ANN, pick, up=False)
        await d.vote(BEN, two, up=False)
        done = await d.vote(BEN, three, up=False, result=True)
        assert "Everyone voted" in done and "(👍 2 · 👎 0)" in done          # the first pick won
        assert "Watching together at" in done
        if d.platform == "discord":                                         # and it is in the server's events
            (event,) = d.dc.scheduled_events
            assert "It is in the server's events" in done and event["entity_type"] == 3
            assert event["name"].startswith("Group watch: ") and event["name"][13:] in done
        assert await d.result_is_public()                                   # everyone there sees it, not the last voter
        changed = await d.vote(ANN, two, up=True)                            # a later change of vote: no second result
        assert "Everyone voted" not in changed
