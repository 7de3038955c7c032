"""Sync benchmark: a heavy Trakt user (20,000 plays over 1,000 shows, 6 years) against the loopback fake.

    python bench/sync.py --json

The fake adds ``--latency`` seconds to every request, serves at most ``--parallel`` requests of one user at once,
and applies Trakt's documented rate limit (1,000 GETs per 5 minutes per user). Measured in one run, side by side:
the engine as configured (pages fetched concurrently after page 1) and the same engine reading one page at a time.

- requests_minimal: what pagination allows at the server's largest page (``max_limit``), plus one request for
  each other section (last_activities, settings, watched count check, ratings, watchlist, hidden, dropped).
- wall_floor_s: the time the fake makes unavoidable: every request waits ``latency`` and at most ``parallel`` are
  served at once, so ceil(requests_minimal / parallel) * latency, plus any wait the rate limit forces.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import bootstrap  # noqa: E402
from engine.config import load_settings  # noqa: E402
from engine.crypto import TokenCipher  # noqa: E402
from engine.store.testing import count, open_probe  # noqa: E402
from tests.fakes.catalogue import catalogue, history_rows  # noqa: E402
from tests.fakes.trakt import FakeTrakt, list_row, rating_row  # noqa: E402

SECTIONS = 7   # last_activities, settings, watched, ratings, watchlist, hidden, dropped


async def run_once(rows: list[dict], latency: float, parallel: int, page_concurrency: int) -> dict[str, float]:
    cat = catalogue()
    async with FakeTrakt(parallel_per_user=parallel) as fake:
        fake.add_user("heavy", history=[dict(r) for r in rows],
                      ratings=[rating_row(e, 7) for e in cat[:150]], watchlist=[list_row(e) for e in cat[1200:1250]],
                      hidden={"progress_watched": [list_row(e, "hidden_at") for e in cat[1300:1305]],
                              "dropped": [list_row(e, "hidden_at") for e in cat[1310:1313]]})
        with tempfile.TemporaryDirectory() as tmp:
            settings = load_settings(None, env={
                "MULTITUDES_STORAGE__PATH": f"{tmp}/bench.db", "MULTITUDES_TRAKT__BASE_URL": fake.url,
                "MULTITUDES_TRAKT_CLIENT_ID": fake.client_id, "MULTITUDES_TRAKT_CLIENT_SECRET": fake.client_secret,
                "MULTITUDES_SECRET_KEY": TokenCipher.generate_key(),
                "MULTITUDES_TRAKT__PAGE_LIMIT": str(fake.max_limit),
                "MULTITUDES_TRAKT__PAGE_CONCURRENCY": str(page_concurrency)})
            engine = await bootstrap(settings)
            probe = await open_probe(f"{tmp}/bench.db")
            try:
                pid = await engine.person("console", "heavy")
                link = await engine.start_link(pid)                # the device flow, approved at once
                fake.approve(link.user_code, "heavy")
                assert await engine.poll_link(pid) == "heavy"
                fake.latency = latency
                before = len(fake.requests)
                t0 = time.perf_counter()
                report = await engine.sync(pid)
                wall = time.perf_counter() - t0
                made = len(fake.requests) - before
                stored = await count(probe, "plays", person_id=pid)
                assert stored == len(rows) == report.new_plays, "incomplete sync"
                before = len(fake.requests)
                await engine.sync(pid)
                resync = len(fake.requests) - before
                now = datetime.now(UTC) - timedelta(minutes=5)
                fake.add_plays("heavy", [(cat[3], 9, 1, now), (cat[3], 9, 2, now), (cat[1400], 1, 1, now)])
                before = len(fake.requests)
                await engine.sync(pid)
                incremental = len(fake.requests) - before
                return {"wall_s": wall, "requests_made": made, "resync_requests": resync,
                        "incremental_requests": incremental, "rate_limited": fake.rate_limited,
                        "max_limit": fake.max_limit, "capacity": fake.rate_capacity, "refill": fake.rate_refill}
            finally:
                await probe.close()
                await engine.close()


async def main_async(args: argparse.Namespace) -> dict[str, object]:
    rows = history_rows(args.plays, args.shows, years=6.0, seed=11)
    fast = await run_once(rows, args.latency, args.parallel, args.parallel)
    slow = await run_once(rows, args.latency, args.parallel, 1)
    minimal = math.ceil(len(rows) / fast["max_limit"]) + SECTIONS
    rate_wait = max(0.0, (minimal - fast["capacity"]) / fast["refill"])
    floor = math.ceil(minimal / args.parallel) * args.latency + rate_wait
    return {
        "plays": len(rows), "shows": args.shows, "latency_s": args.latency, "server_parallel": args.parallel,
        "requests_made": int(fast["requests_made"]), "requests_minimal": minimal,
        "requests_ratio": round(fast["requests_made"] / minimal, 3),
        "resync_requests": int(fast["resync_requests"]), "incremental_requests": int(fast["incremental_requests"]),
        "wall_s": round(fast["wall_s"], 3), "wall_floor_s": round(floor, 3),
        "wall_ratio": round(fast["wall_s"] / floor, 2),
        "wall_s_one_page_at_a_time": round(slow["wall_s"], 3),
        "speedup_vs_one_page_at_a_time": round(slow["wall_s"] / fast["wall_s"], 2),
        "plays_per_s": round(len(rows) / fast["wall_s"]),
        "rate_limited_responses": int(fast["rate_limited"]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--plays", type=int, default=20_000)
    ap.add_argument("--shows", type=int, default=1_000)
    ap.add_argument("--latency", type=float, default=0.03, help="seconds the fake adds to each request")
    ap.add_argument("--parallel", type=int, default=4, help="requests the fake serves at once per user")
    args = ap.parse_args()
    out = asyncio.run(main_async(args))
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:32} {v}")


if __name__ == "__main__":
    main()
