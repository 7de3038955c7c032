"""Issue 25: what a newcomer trips over in the demo's first ten minutes, each kept fixed — the console driven as a
person types, on the bundled sample (offline, no tokens)."""

from __future__ import annotations

import asyncio
import io
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from bot import render, render_stats
from bot.commands import COMMANDS
from bot.console import Console
from engine.values.models import FeedbackKind, Noted
from engine.values.stats import Learning, Rate

ROOT = Path(__file__).resolve().parents[1]


async def session(engine: Any, *commands: str, user: str = "newcomer") -> str:
    lines = iter([*commands, "quit"])

    async def read(prompt: str) -> str | None:
        return next(lines, None)

    out = io.StringIO()
    await Console(engine, out=out, user=user, read_line=read).run()
    return out.getvalue()


async def test_unknown_words_get_did_you_mean_and_nothing_unknown_is_accepted(make_engine: Any) -> None:
    engine = await make_engine()
    text = await session(
        engine, "recommend provider:Nteflix", "recommend provider:xqzw", "recommend genre:+xyzzy",
        "recommend genre:+horor", "settings region:XX", "settings region:germny", 'recommend like:"Breking Bad"',
        "recommend like:office", "settings", "recommend genre:+sci-fi k:2")
    assert "I know no show on a service called 'Nteflix'. Did you mean provider:Netflix?" in text
    assert "I know no show on a service called 'xqzw'. Services I know: Netflix" in text
    assert "I don't know the genre 'xyzzy'. Genres look like genre:+comedy" in text
    assert "I don't know the genre 'horor'. Did you mean genre:+horror?" in text
    assert "'XX' is not a country I know." in text
    assert "'germny' is not a country I know. Did you mean region:DE (Germany)?" in text
    assert 'I don\'t know a show called \'Breking Bad\'. Did you mean "Breaking Bad"?' in text
    assert 'I don\'t know a show called \'office\'. Did you mean "The Office"?' in text
    assert "where to watch, in: the default region" in text                  # neither bad region was kept
    assert "Nothing new matches" not in text
    assert re.search(r"science-fiction", text.split("genre:+sci-fi k:2")[-1])    # an alias people type


async def test_the_demo_shows_only_facts_it_can_stand_behind(make_engine: Any) -> None:
    engine = await make_engine()
    text = await session(engine, "history 40", "recommend status:airing", "settings region:GB",
                         "recommend genre:+horror k:3")
    history = text.split("history 40")[-1].split("recommend status")[0]
    assert "Silicon Valley (2014) S0" in text and not re.search(r"S\d\dE\d\d", history)   # no made-up episodes
    assert "does not know which shows are still airing" in text
    after = text.split("genre:+horror k:3")[-1]
    picks = re.findall(r"^   (where to watch in GB: not known here · horror, [^\n]*)$", after, re.M)
    assert len(picks) == 3, after                 # the region said plainly; the asked genre first; the runtime
    assert all(re.search(r" · \d+ min", p) for p in picks)


async def test_a_later_reaction_replaces_the_earlier_and_the_answer_names_the_show(make_engine: Any,
                                                                                   probe: Any) -> None:
    engine = await make_engine()
    text = await session(engine, "recommend k:3", "nope 2", "like 2", "like 2", "stats")
    title = re.search(r"^2\. (.+?) \(\d{4}\)", text, re.M).group(1)  # type: ignore[union-attr]
    assert f"Noted: {title} won't come back." in text
    assert f"Glad you like {title} (instead of your 👎)." in text
    assert text.count("Already noted.") == 1
    assert "1 liked · 0 not for you" in text                               # counted once, as the later one
    pid = await engine.find_person("console", "newcomer")
    async with probe.read() as uow:
        (ev,) = [e for e in await uow.events.of_person(pid) if e.rank == 2]
        assert (await uow.feedback.state(pid, ev.id, FeedbackKind.LIKED)).active
        assert not (await uow.feedback.state(pid, ev.id, FeedbackKind.NOT_FOR_ME)).active
        assert ev.show_id not in await uow.feedback.dismissed(pid)          # back in future lists


def test_stats_claim_only_what_the_evidence_shows() -> None:
    def arm(name: str, shown: int, adopted: int, prior: float = 1.0) -> Any:
        from engine.values.stats import ArmState
        return ArmState("persona", name, prior + adopted, prior + shown - adopted, shown, adopted)

    row = Rate("blend", 9, 0, 0, 0, 0, 0.0, 0.3)
    # without evidence the priors still differ (everyone's rates): no claim may come of that
    nothing = Learning(1, {"strategy": [row]}, (arm("Comedies", 5, 0, 3.0), arm("Sci-fi", 4, 0)))
    said = render_stats.picks_summary(nothing)
    assert "work best" not in said and "have not learned which side works best" in said
    started = Rate("blend", 9, 3, 0, 0, 0, 0.1, 0.6)
    some = Learning(1, {"strategy": [started]}, (arm("Comedies", 5, 3), arm("Sci-fi", 4, 0)))
    assert "Picks for your Comedies side work best so far (3 of 5 picks worked)" in render_stats.picks_summary(some)
    assert render.noted(FeedbackKind.WATCHLIST, Noted(True, "Fargo")) == "Fargo is on your watchlist."
    assert render.noted(FeedbackKind.LIKED, Noted(False, "Fargo")) == "Already noted."


async def test_small_things(make_engine: Any, tmp_path: Path) -> None:
    engine = await make_engine()
    text = await session(engine, "personas", "unlink", "personas chart")
    assert text.count("(the charts: `personas chart` writes them") == 1     # one hint for three charts
    assert "You are not linked to Trakt, so there was nothing to unlink." in text
    def pngs() -> tuple[list[str], list[Path]]:
        return (sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "var" / "charts").glob("*.png")),
                list(tmp_path.glob("*.png")))

    written, clutter = await asyncio.to_thread(pngs)
    assert written == ["var/charts/personas-map.png", "var/charts/personas-when.png", "var/charts/personas.png"]
    assert not clutter                                                  # never the working directory's clutter


def test_the_readme_shows_what_the_code_does() -> None:
    """The README's sample session and the charts' data are generated (scripts/readme_session.py): this fails,
    with the diff, when the code no longer says what the README shows."""
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "readme_session.py"), "--check"],
                          check=False, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# Multitudes\n\n```bash\n./dev run") and len(readme.split()) < 1400


def test_the_readme_shows_each_command_once() -> None:
    """The README's command table names every command of the bot's table once, and no other."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Commands", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `/(\w+)", table, flags=re.M)
    assert len(rows) == len(set(rows)) and sorted(rows) == sorted(COMMANDS)
