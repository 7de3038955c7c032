"""The console front end: the offline demo a newcomer runs first, and the command grammar."""

from __future__ import annotations

import asyncio
import io
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from bot.console import Console
from bot.conversation import Conversation

ROOT = Path(__file__).resolve().parents[1]


def scripted(lines: list[str]) -> Any:
    it = iter(lines)

    async def read(prompt: str) -> str | None:
        return next(it, None)

    return read


async def test_demo_conversation(make_engine: Any) -> None:
    engine = await make_engine()
    out = io.StringIO()
    con = Console(engine, out=out, user="tester", read_line=scripted(
        ["help", "stats", "history 3", "sync", "histroy", "history lots", "import /no/such/file.csv", "quit"]))
    await con.run()
    text = out.getvalue()
    assert "Demo mode" in text and "490 plays" in text
    assert "Most watched:" in text and "completion unknown" in text     # the demo's episode counts are made up
    assert text.count("S0") >= 3
    assert "0 new plays" in text                                  # sync of the sample is idempotent
    assert "Unknown command `histroy`. Did you mean `history`?" in text
    assert "Usage: history [N]" in text
    assert "No such file" in text


async def test_import_and_forget_through_the_console(tmp_path: Path, make_engine: Any) -> None:
    engine = await make_engine()
    csv = tmp_path / "NetflixViewingHistory.csv"
    csv.write_text('Title,Date\n"Ozark: Season 1: Sugarwood","1/5/22"\n"Baby Reindeer: Limited Series: E1",1/6/24\n')
    out = io.StringIO()
    con = Console(engine, out=out, user="t2", read_line=scripted(
        [f"import {csv}", "forget", "no", "forget", "yes", "stats", "quit"]))
    await con.run()
    text = out.getvalue()
    assert "1 new play over 1 show" in text and "Baby Reindeer" in text
    assert "Nothing deleted." in text and "Everything about you is deleted." in text
    assert text.rstrip().endswith(
        "No history yet. Run `sync` or `import FILE`.\n\nNo recommendations shown yet: try `recommend`.")


def test_readme_first_command_runs_the_offline_demo(tmp_path: Path) -> None:
    """`multitudes` with no tokens: console demo on the bundled sample, reading commands from stdin."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MULTITUDES_")}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run([sys.executable, "-m", "bot.cli"], check=False, input="stats\nhistory 2\nbogus\n", text=True,
                          capture_output=True, cwd=tmp_path, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Demo mode" in proc.stdout and "490 plays" in proc.stdout
    assert "Unknown command `bogus`" in proc.stdout
    assert proc.stderr == ""                                       # nothing noisy on the console
    assert (tmp_path / "var" / "demo.db").exists()


def test_cli_reports_config_errors_cleanly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MULTITUDES_")}
    env.update({"PYTHONPATH": str(ROOT), "MULTITUDES_TRAKT_CLIENT_ID": "x"})
    proc = subprocess.run([sys.executable, "-m", "bot.cli"], check=False, input="", text=True, capture_output=True,
                          cwd=tmp_path, env=env, timeout=60)
    assert proc.returncode == 2
    assert "MULTITUDES_TRAKT_CLIENT_SECRET" in proc.stderr and "Traceback" not in proc.stderr


async def test_settings_and_default_filters(make_engine: Any, probe: Any) -> None:
    engine = await make_engine()
    out = io.StringIO()
    lines = iter(['settings group:on tz:Europe/Paris quiet:23-08 alerts:off filters:"genre:-drama runtime:<50"',
                  "recommend k:3", "recommend status:ended", "settings quiet:25-99", "settings colour:blue",
                  "quit"])

    async def read(prompt: str) -> str | None:
        return next(lines, None)

    con = Console(engine, out=out, user="s2", read_line=read)
    await con.run()
    text = out.getvalue()
    assert "Group picks here: on · time zone: Europe/Paris · quiet hours: 23-08 · alerts: off" in text
    assert "quiet:25-99 should look like" in text and "I don't know the setting colour:" in text
    pid = await engine.find_person("console", "s2")
    async with probe.read() as uow:
        events = await uow.events.of_person(pid)
        shows = await uow.shows.many(e.show_id for e in events)
    assert len(events) == 3
    for show in shows.values():
        assert "drama" not in show.meta.genres and show.meta.runtime <= 50            # defaults applied
    # the bundled statuses are made up: a filter on them says so instead of filtering on fiction
    assert "does not know which shows are still airing" in text


def _demo(tmp_path: Path, lines: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MULTITUDES_")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], check=False, input=lines, text=True,
                          capture_output=True, cwd=tmp_path, env=env, timeout=180)


def _lists(text: str) -> list[list[str]]:
    """The recommendation lists in console output, as titles in order."""
    out: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("Recommendations") or line.startswith("One pick per persona"):
            out.append([])
        elif out and (m := re.match(r"^(\d+)\. (.+?) \(\d{4}\) — ", line)):
            out[-1].append(m.group(2))
    return out


def test_a_newcomers_path_through_a_pipe(tmp_path: Path) -> None:
    """recommend → nope 1 → recommend (the dismissed show never returns) → a chart to a bad path (a message, the
    session goes on) → stats; then a second run keeps the demo database, and --fresh starts again."""
    proc = _demo(tmp_path, "recommend\nnope 1\nrecommend\npersonas chart /no/such/dir.png\nstats\n")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    first, second = _lists(proc.stdout)
    assert len(first) == 5 and len(second) == 5
    dismissed = first[0]
    assert dismissed not in second
    assert re.search(r"Noted: .+ won't come back\.", proc.stdout)                  # names the show
    assert "Could not write the chart" in proc.stdout and "Traceback" not in proc.stdout
    stats = proc.stdout.split("Could not write the chart", 1)[1]
    assert "490 plays" in stats and "1 not for you" in stats           # the session went on, and counted it

    again = _demo(tmp_path, "recommend k:10\n")                        # the demo database is kept between runs
    assert "Loaded the bundled sample" not in again.stdout
    assert dismissed not in _lists(again.stdout)[0]
    fresh = _demo(tmp_path, "recommend\n", "--fresh")
    assert "Loaded the bundled sample" in fresh.stdout
    assert dismissed in _lists(fresh.stdout)[0]                        # a new start forgets the dismissal


class _SlowOrBroken(Conversation):
    """A stand-in for a command that takes long (``stats``) or fails outright (``history``)."""

    def __init__(self, engine: Any) -> None:
        super().__init__(engine)
        self.started = asyncio.Event()

    async def command(self, chat: Any, name: str, args: str = "", **kw: Any) -> None:
        if name == "stats":
            self.started.set()
            await asyncio.sleep(3600)
        if name == "history":
            raise RuntimeError("boom")
        await super().command(chat, name, args, **kw)


async def test_ctrl_c_cancels_the_running_command_and_errors_never_end_the_session(make_engine: Any) -> None:
    engine = await make_engine()
    out = io.StringIO()
    conv = _SlowOrBroken(engine)
    con = Console(engine, out=out, user="cc", conversation=conv,
                  read_line=scripted(["stats", "history", "help", "quit"]))
    session = asyncio.create_task(con.run())
    await asyncio.wait_for(conv.started.wait(), 30)
    con.interrupt()                                     # what Ctrl-C does in a terminal
    assert await asyncio.wait_for(session, 30) is True
    text = out.getvalue()
    assert "(cancelled)" in text
    assert "Something went wrong with that command" in text and "Traceback" not in text
    assert "Commands:" in text                          # the session went on to `help`


async def test_ctrl_c_twice_at_the_prompt_leaves(make_engine: Any) -> None:
    engine = await make_engine()
    out = io.StringIO()
    never = asyncio.Event()

    async def blocked(prompt: str) -> str | None:
        await never.wait()
        return None

    con = Console(engine, out=out, user="cc2", read_line=blocked)
    session = asyncio.create_task(con.run())
    for _ in range(100):
        if "Type `help`" in out.getvalue():
            break
        await asyncio.sleep(0.01)
    con.interrupt()
    assert "Ctrl-C again" in out.getvalue() and not session.done()
    con.interrupt()
    await asyncio.wait_for(session, 30)
    assert out.getvalue().rstrip().endswith("Bye.")


def _pty_session(tmp_path: Path, steps: list[tuple[bytes, str]], within: float = 90.0) -> str:
    """Run the console demo in a pseudo-terminal; each step writes its bytes once the output holds its marker."""
    import pty
    import select
    import time

    env = {k: v for k, v in os.environ.items() if not k.startswith("MULTITUDES_")}
    env.update(PYTHONPATH=str(ROOT), TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1", COLUMNS="120", LINES="40")
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli"], stdin=slave, stdout=slave, stderr=slave,
                            cwd=tmp_path, env=env, close_fds=True)
    os.close(slave)
    seen = log = b""
    end = time.monotonic() + within
    try:
        for data, marker in steps:
            while marker.encode() not in seen:
                if time.monotonic() > end or proc.poll() is not None:
                    raise AssertionError(f"waited for {marker!r}; the terminal shows:\n{seen.decode(errors='replace')}")
                ready, _, _ = select.select([master], [], [], 0.5)
                if ready:
                    try:
                        chunk = os.read(master, 65536)
                    except OSError:
                        break
                    seen, log = seen + chunk, log + chunk
            seen = seen.replace(marker.encode(), b"<seen>", 1)  # each marker matches once, in order
            os.write(master, data)
        proc.wait(timeout=max(1.0, end - time.monotonic()))
        while True:                                             # what it printed on the way out
            ready, _, _ = select.select([master], [], [], 0.2)
            if not ready:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            log += chunk
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    return log.decode(errors="replace")


def test_ctrl_c_at_the_prompt_clears_the_line_as_a_shell_does(tmp_path: Path) -> None:
    """Issue 25 (5): `stats`, Ctrl-C, `help` runs help — not "Unknown command `statshelp`"."""
    out = _pty_session(tmp_path, [(b"stats", "Loaded the bundled sample"), (b"\x03", "stats"),
                                  (b"help\r", "Ctrl-C again"), (b"quit\r", "Commands:")])
    assert "statshelp" not in out and "Unknown command" not in out
    assert "Ctrl-C again" in out


def test_a_closed_pipe_ends_the_console_quietly(tmp_path: Path) -> None:
    """Issue 25 (5): `multitudes | head -1` — the reader leaves, the console stops without a traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MULTITUDES_")}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=tmp_path, env=env)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.write(b"history 200\n" * 20)
    proc.stdin.close()
    proc.stdout.readline()
    proc.stdout.close()                                 # what `head -1` does after its line
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=180) == 0
    assert "Traceback" not in err and "BrokenPipe" not in err, err
