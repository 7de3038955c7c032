"""The console front end: the offline demo, and a conversation any test can drive through stdin/stdout.

It is a thin adapter like the chat platforms: lines become conversation events, answers are printed. What only a
terminal can do stays here: reading a file to import, writing the chart to a file, and feedback on the last list
by number (`nope 2`), since a terminal has no buttons.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import itertools
import logging
import shlex
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from engine.values.models import Chart

from . import render, render_media
from .commands import COMMANDS
from .console_chat import PLATFORM, ConsoleChat
from .conversation import Conversation
from .i18n import N_, _, speaking, warm
from .ratelimit import NoLimits
from .terminal import INTERRUPT, _on_sigint, _quiet_stdout, _stdin_line, _whoami

if TYPE_CHECKING:
    from engine import Engine

log = logging.getLogger(__name__)


HELP = N_("""Commands:
  sync               fetch new plays from Trakt (demo: the bundled sample)
  history [N]        your last N plays (default 15)
  stats [all]        what you watch, in numbers, and how my picks fared (all: everyone's, for owners)
  stats year [YEAR]  a year in review: hours, shows, binge records, the tastes that grew and faded
  personas [chart [FILE]]   your taste personas (chart: a PNG of their weight over time)
  recommend [all | bridge [A + B] | persona NAME | like:SHOW | mood:"TEXT"] [library] [genre:+x genre:-y anime:no
            runtime:<45 lang:en provider:Netflix status:airing k:5]   shows you have not seen
  like N | nope N | seen N | pin N   feedback on pick N of the last list (pin: add to your watchlist)
  request N          ask the owner's Seerr for pick N (when your media server lacks it)
  vote N up|down     your vote on pick N of the last group watch
  rate TITLE N       rate a show 1-10 (`rate TITLE remove` takes it back; with trakt:write, on Trakt too)
  watched S02E04     after seen N (trakt:write): mark it watched on Trakt up to that episode
  next               the next episode of each show you are in the middle of
  tonight 90m [mood:"TEXT"] [filters]   a plan that fits your evening (also 2h, 1h30)
  upcoming [ics]     new episodes and seasons coming for your shows, and the alerts to come (ics: a calendar
                     file of the next 60 days, written into var/files/)
  settings [group:on tz:Europe/Paris quiet:23-08 alerts:off binge:off digest:on watchlist:on
            filters:"genre:-horror" services:netflix,max trakt:write lang:fr]   your settings
  groupwatch [in:2h] [filters]   a pick for the people of this console who opted in (settings group:on)
  import FILE [PROFILE]   a Trakt export (JSON/zip), a Netflix viewing-activity CSV, or Netflix's full export's
                     ViewingActivity.csv (PROFILE: which profile), or a Multitudes export
  link | unlink      connect or disconnect your Trakt account
  link jellyfin | emby | plex   link your user on the bot's media server (unlink jellyfin undoes it)
  export             everything stored about you as one JSON file in var/files/ (import it to restore)
  forget             delete everything stored about you (asks first)
  help               this list
  quit               leave""")
DEFAULT_CHART = Path("var") / "charts" / "personas.png"     # where the demo's data lives; ignored by git
FILES = Path("var") / "files"                               # calendars and exports the console writes
LOCAL = ("help", "import", "personas", "quit", "exit", "vote", "request", *render.BY_VERB)


GREETING = N_("Multitudes console. Type `help` for commands, `quit` to leave.")


class Console:
    def __init__(self, engine: Engine | None, *, out: TextIO | None = None, user: str | None = None,
                 read_line: Callable[[str], Awaitable[str | None]] | None = None,
                 conversation: Conversation | None = None,
                 boot: Callable[[], Awaitable[Engine]] | None = None, files: Path = FILES) -> None:
        """``boot`` instead of an engine: the prompt comes first and the engine (NumPy, scikit-learn, the database)
        loads behind it; the first command waits for it."""
        if engine is None and boot is None:
            raise ValueError("a console needs an engine or a way to boot one")
        self._out = out
        self.files = files                  # where the files a command sends (a calendar, an export) are written
        self.user = user or _whoami()
        self._read = read_line or _stdin_line
        self._boot = boot
        self.engine: Engine = engine  # type: ignore[assignment]     # set by boot before any command runs
        self.conversation: Conversation = conversation or (
            Conversation(engine, limiter=NoLimits()) if engine is not None else None)  # type: ignore[assignment]
        self.chat = ConsoleChat(self)
        self.refs = itertools.count(1)
        self.last: dict[int, int] = {}                 # rank -> event id of the last list shown
        self.pending_confirmation: str | None = None
        self.chart_hinted = False
        self._captured: list[str] | None = None
        self._leave = asyncio.Event()
        self._running: asyncio.Task[str | None] | None = None
        self._last_interrupt = -10.0

    @property
    def out(self) -> TextIO:
        return self._out if self._out is not None else sys.stdout       # read late: a terminal session patches it

    def say(self, text: str) -> None:
        try:
            print(text, file=self.out, flush=True)
        except BrokenPipeError:                     # `multitudes | head`: the reader left, so does the console
            _quiet_stdout()
            self._leave.set()
        if self._captured is not None:
            self._captured.append(text)

    async def start(self) -> None:
        await asyncio.to_thread(warm)                 # the catalogues, read off the loop
        await self._welcome()
        with speaking(await self.conversation.language(self.chat)):
            self.say(_(GREETING))

    async def _welcome(self) -> None:
        """The person, and the demo's sample history on a first start."""
        pid = await self.engine.person(PLATFORM, self.user, self.user)
        with speaking(await self.conversation.language(self.chat)):
            await self._sample(pid)

    async def _sample(self, pid: int) -> None:
        if self.engine.demo:
            st = await self.engine.stats(pid)
            if st.plays == 0:
                rep = await self.engine.load_sample(pid)
                self.say(_("Demo mode: no Trakt credentials configured. Loaded the bundled sample history ({plays} "
                           "over {shows}).").format(plays=render.plural(rep.plays_added, "{n} play", "{n} plays"),
                                                    shows=render.plural(rep.shows, "{n} real show", "{n} real shows")))

    async def _booted(self) -> None:
        assert self._boot is not None
        self.engine = await self._boot()
        await asyncio.to_thread(warm)
        if self.conversation is None:
            self.conversation = Conversation(self.engine, limiter=NoLimits())
        await self._welcome()

    async def handle(self, line: str) -> str | None:
        """Run one command line; return what it printed (None for quit)."""
        self._captured = []
        try:
            with speaking(await self.conversation.language(self.chat)):
                done = await self._handle(line)
            if done is None:
                return None
            return "\n".join(self._captured)
        finally:
            self._captured = None

    async def _handle(self, line: str) -> bool | None:
        if self.pending_confirmation is not None:
            token, self.pending_confirmation = self.pending_confirmation, None
            answer = "yes" if line.strip().lower() == "yes" else "no"
            await self.conversation.button(self.chat, f"cf:{token}:{answer}")
            return True
        name, _sep, args = line.strip().partition(" ")
        name = name.lower().lstrip("/")
        self.chart_hinted = False
        if not name:
            return True
        if name in ("quit", "exit"):
            return None
        if name == "help":
            self.say(_(HELP))
        elif name == "import":
            await self._import(args.strip())
        elif name == "personas" and args.strip().split()[:1] == ["chart"]:
            await self._chart(args.strip()[len("chart"):].strip())
        elif name in render.BY_VERB:
            await self._feedback(name, args.strip())
        elif name == "vote":
            await self._vote(args.strip())
        elif name == "request":
            arg = args.strip()
            if not (arg.isascii() and arg.isdigit()) or int(arg) not in self.last:
                self.say(_("Usage: request N, with N a pick of the last list."))
            else:
                await self.conversation.button(self.chat, render_media.request_token(self.last[int(arg)]))
        elif name in COMMANDS:
            await self.conversation.command(self.chat, name, args)
        else:
            close = difflib.get_close_matches(name, [*COMMANDS, *LOCAL], n=1)
            hint = " " + _("Did you mean `{command}`?").format(command=close[0]) if close else ""
            self.say(_("Unknown command `{name}`.").format(name=name[:40]) + hint + " "
                     + _("Type `help` for the list."))
        return True

    async def run(self) -> bool:
        """Until quit or the end of input; whether any line was read at all. Ctrl-C cancels the command that is
        running (twice in a row at the prompt leaves); an error in a command is reported and the session goes on."""
        if self._read is _stdin_line and sys.stdin.isatty() and sys.stdout.isatty():
            from prompt_toolkit.patch_stdout import patch_stdout
            with patch_stdout(raw=True):        # what is said while the prompt shows goes above it
                return await self._run()
        return await self._run()

    async def _run(self) -> bool:
        ready: asyncio.Future[None] | None = None
        if self._boot is not None:
            self.say(_(GREETING))
            ready = asyncio.ensure_future(self._booted())
        else:
            await self.start()
        read_any = False
        loop = asyncio.get_running_loop()
        handled = _on_sigint(loop, self.interrupt)
        try:
            while not self._leave.is_set():
                reading = asyncio.ensure_future(self._read("multitudes> "))
                leaving = asyncio.ensure_future(self._leave.wait())
                await asyncio.wait({reading, leaving}, return_when=asyncio.FIRST_COMPLETED)
                leaving.cancel()
                if not reading.done():
                    reading.cancel()            # leaving (a piped read's thread ends with the process)
                    break
                line = reading.result()
                if line is None:
                    break
                if line == INTERRUPT:
                    self.interrupt()
                    continue
                read_any = True
                if ready is not None:
                    await ready                 # the first command waits for the engine; later ones never do
                if line.strip().lower() in ("quit", "exit"):
                    break
                self._running = running = asyncio.create_task(self.handle(line))
                try:
                    if await running is None:
                        break
                except asyncio.CancelledError:
                    if not running.cancelled():
                        raise
                    self.say(_("(cancelled)"))
                except Exception:
                    log.exception("console command failed: %s", line.split(" ", 1)[0])
                    self.say(_("Something went wrong with that command; the details are in the log file."))
                finally:
                    self._running = None
        finally:
            if handled:
                loop.remove_signal_handler(signal.SIGINT)
            if ready is not None and not ready.done():
                ready.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await ready
            if self.conversation is not None:
                await self.conversation.close()
        return read_any

    def interrupt(self) -> None:
        """Ctrl-C: cancel the running command; at the prompt, twice within two seconds leaves."""
        if self._running is not None and not self._running.done():
            self._running.cancel()
            return
        now = asyncio.get_running_loop().time()
        if now - self._last_interrupt < 2.0:
            self.say("\n" + _("Bye."))
            self._leave.set()
        else:
            self.say("\n" + _("(Ctrl-C again, Ctrl-D or `quit` to leave)"))
        self._last_interrupt = now

    # -- what only a terminal does -------------------------------------------------------------------------------
    async def _import(self, arg: str) -> None:
        if not arg:
            self.say(_("Usage: import FILE [PROFILE] (a Trakt export .json/.zip, a Netflix viewing-activity .csv, or "
                       "Netflix's full export's ViewingActivity.csv with the profile to import)."))
            return
        path = await asyncio.to_thread(lambda: Path(arg.strip("\"'")).expanduser())
        profile = None
        if not await asyncio.to_thread(path.is_file):          # `import FILE PROFILE`: a Netflix export's profile
            try:
                first, *rest = shlex.split(arg)
            except ValueError:
                first, rest = arg, []
            if rest:
                path, profile = await asyncio.to_thread(lambda: Path(first).expanduser()), " ".join(rest)
        if not await asyncio.to_thread(path.is_file):
            self.say(_("No such file: {path}.").format(path=path))
            return
        size = (await asyncio.to_thread(path.stat)).st_size
        refusal = self.conversation.too_big(size)
        if refusal:
            self.say(refusal)
            return
        data = await asyncio.to_thread(path.read_bytes)
        await self.conversation.document(self.chat, path.name, data, profile)

    async def _chart(self, arg: str) -> None:
        """`personas chart [FILE]`: FILE (tastes over time), FILE-when.png and FILE-map.png; without FILE, into
        var/charts/ (ignored by git, never the working directory's clutter)."""
        target = await asyncio.to_thread(lambda: Path(arg.strip("\"'") or DEFAULT_CHART).expanduser())
        charts = await self.engine.persona_charts(await self.engine.person(PLATFORM, self.user, self.user))
        for path, chart in zip(chart_paths(target, charts), charts, strict=True):
            try:
                if not arg.strip("\"'"):                # the default place is ours to create; a path given is not
                    await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
                await asyncio.to_thread(path.write_bytes, chart.png)
            except OSError as e:
                self.say(_("Could not write the chart to {path}: {error}.").format(path=path, error=e.strerror or e))
                return
            self.say(_("Wrote “{caption}” to {path}.").format(caption=chart.caption, path=path))

    async def _feedback(self, verb: str, arg: str) -> None:
        action = render.BY_VERB[verb]
        if not (arg.isascii() and arg.isdigit()) or int(arg) not in self.last:
            shown = f" (1–{max(self.last)})" if self.last else ""
            self.say(_("Usage: {verb} N, with N a pick of the last list{shown}.").format(verb=verb, shown=shown))
            return
        await self.conversation.button(self.chat, f"fb:{self.last[int(arg)]}:{action.kind}")


    async def _vote(self, arg: str) -> None:
        n, _sep, way = arg.partition(" ")
        if not (n.isascii() and n.isdigit()) or int(n) not in self.last or way.strip() not in ("up", "down"):
            self.say(_("Usage: vote N up|down, with N a pick of the last group watch."))
            return
        await self.conversation.button(self.chat, f"gv:{self.last[int(n)]}:{way.strip()}")


def chart_paths(target: Path, charts: list[Chart]) -> list[Path]:
    """personas.png → personas.png, personas-when.png, personas-map.png."""
    base = target.with_suffix("") if target.suffix.lower() == ".png" else target
    return [target.with_suffix(".png") if i == 0 else base.with_name(f"{base.name}-{c.name}.png")
            for i, c in enumerate(charts)]


