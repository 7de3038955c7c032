"""The README's sample session and charts, generated from the bundled sample — never typed by hand.

    python scripts/readme_session.py           # rewrite the session in README.md and the charts in docs/charts/
    python scripts/readme_session.py --check   # exit 1 (with a diff) when README.md or the charts' data drifted

It runs the console demo as a newcomer does (a fresh database, the bundled sample, no tokens, offline) with the
wall clock stopped at ``NOW`` and the recommender's seed fixed, so the same code gives the same text. The session
sits in README.md between ``<!-- session:begin -->`` and ``<!-- session:end -->``; the charts' own numbers (what
each chart is drawn from) are kept in docs/charts/charts.json, so a drift shows up as data, not as pixels.
``tests/test_readme.py`` fails when either no longer matches what the code says.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import io
import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CHARTS = ROOT / "docs" / "charts"
BEGIN, END = "<!-- session:begin -->", "<!-- session:end -->"
NOW = datetime(2026, 7, 6, 19, 0, tzinfo=UTC)      # a few days after the sample's last play
COMMANDS = (
    "stats",
    "personas",
    "recommend k:3",
    "recommend bridge Comedies + Documentaries k:2",
    'recommend mood:"something funny and short" k:2',
    "nope 1",
    'recommend like:"Breking Bad"',
    "recommend genre:+horor",
    "next",
    "tonight 90m",
    "stats year 2025",
)
KEEP_LINES = {"stats": 4, "stats year 2025": 5}         # the first lines of a long answer (the rest is elided with "…")


async def session() -> tuple[str, dict[str, object]]:
    """The sample session as the README shows it, and the charts' data."""
    sys.path.insert(0, str(ROOT))
    from bot.console import PLATFORM, Console
    from engine.bootstrap import bootstrap
    from engine.plumbing.clock import StoppedClock
    from engine.plumbing.config import Settings, StorageSettings

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings().model_copy(update={"storage": StorageSettings(path=str(Path(tmp) / "demo.db"))})
        engine = await bootstrap(settings, clock=StoppedClock(NOW), seed=0)
        try:
            greeting = io.StringIO()
            console = Console(engine, user="you", out=greeting, files=Path(tmp) / "files")
            await console.start()
            transcript = greeting.getvalue().splitlines()
            for command in COMMANDS:
                said = (await console.handle(command) or "").splitlines()
                keep = KEEP_LINES.get(command)
                said = said if keep is None or len(said) <= keep else [*said[:keep], "…"]
                transcript += [f"multitudes> {command}", *said]
            pid = await engine.person(PLATFORM, "you", "you")
            charts = await engine.persona_charts(pid)
            report = await engine.personas(pid)
            data: dict[str, object] = {
                "captions": {c.name: c.caption for c in charts},
                "personas": [{"name": p.name, "weight": round(p.weight, 3)} for p in report.personas]}
            pngs = {c.name: c.png for c in charts}
        finally:
            await engine.close()
    return "\n".join(transcript), {"charts": data, "_png": pngs}


def block(text: str) -> str:
    return f"{BEGIN}\n```\n{text}\n```\n{END}"


def current_block(readme: str) -> str:
    a, b = readme.index(BEGIN), readme.index(END) + len(END)
    return readme[a:b]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 on any drift")
    args = ap.parse_args(argv)
    text, charts = asyncio.run(session())
    pngs = charts.pop("_png")
    want_readme = block(text)
    want_data = json.dumps(charts, indent=1, sort_keys=True, default=str) + "\n"
    readme = README.read_text(encoding="utf-8")
    data_path = CHARTS / "charts.json"
    if args.check:
        have = current_block(readme)
        have_data = data_path.read_text(encoding="utf-8") if data_path.exists() else ""
        drift = [*difflib.unified_diff(have.splitlines(), want_readme.splitlines(), "README.md", "generated",
                                       lineterm=""),
                 *difflib.unified_diff(have_data.splitlines(), want_data.splitlines(), str(data_path), "generated",
                                       lineterm="")]
        if drift:
            print("\n".join(drift))
            print("\nThe README no longer shows what the code does: run `python scripts/readme_session.py`.")
            return 1
        return 0
    README.write_text(readme.replace(current_block(readme), want_readme), encoding="utf-8")
    CHARTS.mkdir(parents=True, exist_ok=True)
    data_path.write_text(want_data, encoding="utf-8")
    names = {"taste": "taste.png", "when": "when.png", "map": "map.png"}
    for name, png in pngs.items():            # type: ignore[attr-defined]
        (CHARTS / names.get(name, f"{name}.png")).write_bytes(png)
    print(f"Wrote the session into {README.name} and {len(pngs)} charts into {CHARTS}.")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
