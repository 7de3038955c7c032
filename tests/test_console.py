"""The console front end: the offline demo a newcomer runs first, and the command grammar."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bot.console import Console

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
    assert "Most watched:" in text and "of 40 aired" in text
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
    assert "1 new plays" in text and "Baby Reindeer" in text
    assert "Nothing deleted." in text and "Everything about you is deleted." in text
    assert text.rstrip().endswith("No history yet. Run `sync` or `import FILE`.\n\nNo recommendations shown yet.")


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
    lines = iter(['settings group:on tz:Europe/Paris quiet:23-08 alerts:off filters:"genre:-drama status:ended"',
                  "recommend k:3", "settings quiet:25-99", "settings colour:blue", "quit"])

    async def read(prompt: str) -> str | None:
        return next(lines, None)

    con = Console(engine, out=out, user="s2", read_line=read)
    await con.run()
    text = out.getvalue()
    assert "Group picks: on · time zone: Europe/Paris · quiet hours: 23-08 · alerts: off" in text
    assert "quiet:25-99 should look like" in text and "I don't know the setting colour:" in text
    pid = await engine.find_person("console", "s2")
    async with probe.read() as uow:
        events = await uow.events.of_person(pid)
        shows = await uow.shows.many(e.show_id for e in events)
    assert len(events) == 3
    for show in shows.values():
        assert "drama" not in show.meta.genres and show.meta.ended                    # defaults applied
