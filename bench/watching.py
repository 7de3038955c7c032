"""Around the watching, on a heavy history: what `/next`, `/tonight 2h`, `/stats year`, `/upcoming ics` and
`/export` cost a person who has watched a lot, and what a restore of that export costs — through the façade the
front ends call, offline (the bundled catalogue), on SQLite.

    python bench/watching.py --json [--plays 20000] [--runs 5]

Figures: per command the median and p95 wall time over ``--runs``, the export's size, and ``loop_lag_max_ms`` — the
longest a 5 ms ticker on the event loop was late while the commands ran (nothing CPU-heavy belongs on the loop).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.bootstrap import bootstrap  # noqa: E402
from engine.plumbing.config import Settings, StorageSettings  # noqa: E402
from tests.fakes.catalogue import history_rows  # noqa: E402


def p95(xs: list[float]) -> float:
    return sorted(xs)[max(0, round(0.95 * len(xs)) - 1)] if xs else 0.0


async def run(plays: int, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings().model_copy(update={"storage": StorageSettings(path=str(Path(tmp) / "b.db"))})
        engine = await bootstrap(settings, seed=0)
        try:
            pid = await engine.person("console", "heavy")
            shows = max(30, plays // 100)
            data = json.dumps({"history": history_rows(plays, min(shows, 1200), years=8, seed=5)}).encode()
            t = time.perf_counter()
            rep = await engine.import_history(pid, "export.json", data)
            out: dict[str, Any] = {"plays": rep.plays_added, "import_s": round(time.perf_counter() - t, 2)}
            await engine.personas(pid)
            lags: list[float] = []
            stop = asyncio.Event()

            async def ticker() -> None:
                loop = asyncio.get_running_loop()
                while not stop.is_set():
                    before = loop.time()
                    await asyncio.sleep(0.005)
                    lags.append(max(0.0, loop.time() - before - 0.005))

            tick = asyncio.create_task(ticker())
            exported = b""

            async def export() -> None:
                nonlocal exported
                exported = await engine.export(pid)

            steps: dict[str, Callable[[], Awaitable[Any]]] = {
                "next": lambda: engine.up_next(pid), "tonight_2h": lambda: engine.tonight(pid, 120),
                "year": lambda: engine.year_review(pid, 2025), "ics": lambda: engine.calendar(pid),
                "export": export}
            for name, step in steps.items():
                lags.clear()
                times = []
                for _ in range(runs):
                    t = time.perf_counter()
                    await step()
                    times.append(time.perf_counter() - t)
                out[f"{name}_ms"] = round(1000 * statistics.median(times), 1)
                out[f"{name}_p95_ms"] = round(1000 * p95(times), 1)
                out[f"{name}_lag_max_ms"] = round(1000 * max(lags, default=0.0), 1)
            out["export_mb"] = round(len(exported) / 1e6, 2)
            lags.clear()
            fresh = await engine.person("console", "restored")
            t = time.perf_counter()
            await engine.import_history(fresh, "multitudes-export.json", exported)
            out["restore_s"] = round(time.perf_counter() - t, 2)
            out["restore_lag_max_ms"] = round(1000 * max(lags, default=0.0), 1)
            stop.set()
            await tick
            out["loop_lag_max_ms"] = max(v for k, v in out.items() if k.endswith("lag_max_ms"))
            return out
        finally:
            await engine.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--plays", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    got = asyncio.run(run(a.plays, a.runs))
    print(json.dumps(got, indent=1) if a.json else "\n".join(f"{k}: {v}" for k, v in got.items()))


if __name__ == "__main__":
    main()
