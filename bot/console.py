"""The console front end: the offline demo, and a conversation any test can drive through stdin/stdout."""

from __future__ import annotations

import asyncio
import difflib
import getpass
import shlex
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from engine import Engine, MultitudesError
from engine.models import DeviceLink

from . import render, replies
from .grammar import parse_recommend, parse_settings, resolve_channel, settings_text, with_defaults

HELP = """Commands:
  sync               fetch new plays from Trakt (demo: the bundled sample)
  history [N]        your last N plays (default 15)
  stats [all]        what you watch, in numbers, and how my picks fared (all: everyone's, for owners)
  personas [chart [FILE]]   your taste personas (chart: a PNG of their weight over time)
  recommend [all | bridge [A + B] | persona NAME | like:SHOW | mood:"TEXT"] [genre:+x genre:-y anime:no
            runtime:<45 lang:en provider:Netflix status:airing k:5]   shows you have not seen
  upcoming           new episodes and seasons coming for your shows, and the alerts to come
  settings [group:on tz:Europe/Paris quiet:23-08 alerts:off binge:off digest:on watchlist:on
            filters:"genre:-horror"]   your settings
  import FILE        import a Trakt export (JSON/zip) or a Netflix viewing-activity CSV
  link | unlink      connect or disconnect your Trakt account
  forget             delete everything stored about you (asks first)
  help               this list
  quit               leave"""


class Console:
    def __init__(self, engine: Engine, *, out: TextIO = sys.stdout, user: str | None = None,
                 read_line: Callable[[str], Awaitable[str | None]] | None = None) -> None:
        self.engine = engine
        self.out = out
        self.user = user or _whoami()
        self._read = read_line or _stdin_line
        self.person_id = 0
        self.commands: dict[str, Callable[[list[str]], Awaitable[str | None]]] = {
            "sync": self.cmd_sync, "history": self.cmd_history, "stats": self.cmd_stats,
            "import": self.cmd_import, "link": self.cmd_link, "unlink": self.cmd_unlink,
            "forget": self.cmd_forget, "help": self.cmd_help, "personas": self.cmd_personas,
            "recommend": self.cmd_recommend, "upcoming": self.cmd_upcoming, "settings": self.cmd_settings,
        }

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    async def start(self) -> None:
        self.person_id = await self.engine.person("console", self.user, self.user)
        if self.engine.demo:
            st = await self.engine.stats(self.person_id)
            if st.plays == 0:
                rep = await self.engine.load_sample(self.person_id)
                self.say(f"Demo mode: no Trakt credentials configured. Loaded the bundled sample history "
                         f"({rep.plays_added} plays over {rep.shows} real shows).")
        self.say("Multitudes console. Type `help` for commands, `quit` to leave.")

    async def handle(self, line: str) -> str | None:
        """Run one command line; return the reply text (None for quit)."""
        try:
            parts = shlex.split(line)
        except ValueError as e:
            return f"Could not read that command: {e}."
        if not parts:
            return ""
        name, args = parts[0].lower().lstrip("/"), parts[1:]
        if name in ("quit", "exit"):
            return None
        cmd = self.commands.get(name)
        if cmd is None:
            close = difflib.get_close_matches(name, self.commands, n=1)
            hint = f" Did you mean `{close[0]}`?" if close else ""
            return f"Unknown command `{name}`.{hint} Type `help` for the list."
        try:
            return await cmd(args) or ""
        except MultitudesError as e:
            return e.user_message

    async def run(self) -> None:
        await self.start()
        while True:
            line = await self._read("multitudes> ")
            if line is None:
                break
            reply = await self.handle(line)
            if reply is None:
                break
            if reply:
                self.say(reply)

    # -- commands ---------------------------------------------------------------------------------------------
    async def cmd_help(self, args: list[str]) -> str:
        return HELP

    async def cmd_sync(self, args: list[str]) -> str:
        rep = await self.engine.sync(self.person_id, progress=lambda m: self.say(f"… {m}"))
        return render.sync_report(rep)

    async def cmd_history(self, args: list[str]) -> str:
        n = 15
        if args:
            if not args[0].isdigit() or not 0 < int(args[0]) <= 1000:
                return "Usage: history [N] with N from 1 to 1000."
            n = int(args[0])
        return render.history(await self.engine.history(self.person_id, n))

    async def cmd_stats(self, args: list[str]) -> str:
        return await replies.stats(self.engine, self.person_id, "console", "local", " ".join(args))

    async def cmd_settings(self, args: list[str]) -> str:
        changes = resolve_channel(parse_settings(args), "console", None)
        now = await (self.engine.update_settings(self.person_id, **changes) if changes
                     else self.engine.person_settings(self.person_id))
        return settings_text(now)

    async def cmd_recommend(self, args: list[str]) -> str:
        defaults = (await self.engine.person_settings(self.person_id)).get("default_filters")
        p = parse_recommend(with_defaults(args, defaults))
        return render.recommendations(await self.engine.recommend(p.request(self.person_id, "console")))

    async def cmd_upcoming(self, args: list[str]) -> str:
        return await replies.upcoming(self.engine, self.person_id)

    async def cmd_personas(self, args: list[str]) -> str:
        if args and args[0] == "chart":
            target = await asyncio.to_thread(lambda: Path(args[1] if len(args) > 1 else "personas.png").expanduser())
            png = await self.engine.persona_chart(self.person_id)
            await asyncio.to_thread(target.write_bytes, png)
            return f"Wrote the persona chart to {target}."
        if args:
            return "Usage: personas, or personas chart [FILE]."
        return render.personas(await self.engine.personas(self.person_id))

    async def cmd_import(self, args: list[str]) -> str:
        if len(args) != 1:
            return "Usage: import FILE (a Trakt export .json/.zip or a Netflix viewing-activity .csv)."
        path = await asyncio.to_thread(lambda: Path(args[0]).expanduser())
        if not await asyncio.to_thread(path.is_file):
            return f"No such file: {path}."
        size = (await asyncio.to_thread(path.stat)).st_size
        limit = self.engine.settings.imports.max_bytes
        if size > limit:
            return f"I could not import that file: it is {size:,} bytes; the limit is {limit:,}. Nothing was imported."
        data = await asyncio.to_thread(path.read_bytes)
        return render.import_report(await self.engine.import_history(self.person_id, path.name, data))

    async def cmd_link(self, args: list[str]) -> str:
        async def show(link: DeviceLink) -> None:
            self.say(render.link_instructions(link))
            self.say("Waiting for approval…")

        name = await self.engine.link(self.person_id, show)
        return f"Linked to Trakt as {name}. Run `sync` to fetch your history."

    async def cmd_unlink(self, args: list[str]) -> str:
        await self.engine.unlink(self.person_id)
        return "Trakt unlinked; your tokens are deleted. Your imported history stays until you `forget`."

    async def cmd_forget(self, args: list[str]) -> str:
        answer = await self._read("Delete everything stored about you? Type `yes` to confirm: ")
        if (answer or "").strip().lower() != "yes":
            return "Nothing deleted."
        await self.engine.forget(self.person_id)
        self.person_id = await self.engine.person("console", self.user, self.user)
        return "Everything about you is deleted."


def _whoami() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "me"


async def _stdin_line(prompt: str) -> str | None:
    interactive = sys.stdin.isatty()

    def read() -> str | None:
        if interactive:
            try:
                return input(prompt)
            except EOFError:
                return None
        line = sys.stdin.readline()
        return None if line == "" else line.rstrip("\n")

    return await asyncio.to_thread(read)
