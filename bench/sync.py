"""Sync benchmark: a heavy Trakt user (20,000 plays over 1,000 shows, 6 years) against the loopback fake.

    python bench/sync.py --json
    python bench/sync.py --source jellyfin --json      # the same viewer on a Jellyfin server (emby, plex too)

With ``--source jellyfin``/``emby`` the viewer's plays are 20,000 distinct played episodes (a media server keeps one
play date per episode) over 1,000 series of the server's library; the fake runs in this process (request counts are
exact; the wall time includes the fake's own work). ``requests_minimal`` is then ceil(series / page) for the library
plus ceil(played / page) for the history; an unchanged history must cost one request, three new plays one.

The fake runs in its own process (so the figures are the client's, not the fake's JSON work on the same loop),
adds ``--latency`` seconds to every request inside its slot, serves at most ``--parallel`` requests of one user at once,
and applies Trakt's documented rate limit (1,000 GETs per 5 minutes per user). Measured in one run, side by side:
the engine as configured (pages fetched concurrently after page 1) and the same engine reading one page at a time.

- requests_minimal: what pagination allows at the server's largest page (``max_limit``), plus one request for
  each other section (last_activities, settings, watched count check, ratings, watchlist, hidden, dropped).
- wall_floor_s: the time the fake makes unavoidable. Every request holds one of the user's ``parallel`` slots for
  ``latency`` plus the fake's own work on the answer (building and encoding a 100-play page), so no client can finish
  before server_busy_s / parallel (the slot time the run measured, spread over every slot), nor before
  ceil(requests_minimal / parallel) * latency (``wall_floor_latency_only_s``, which ignores the fake's work); the
  larger of the two, plus any wait the rate limit forces. ``wall_ratio_latency_only`` is given beside it.
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

import httpx  # noqa: E402

from engine import bootstrap  # noqa: E402
from engine.plumbing.config import TraktSettings, load_settings  # noqa: E402
from engine.plumbing.crypto import TokenCipher  # noqa: E402
from engine.store.testing import count, open_probe  # noqa: E402
from tests.fakes.catalogue import catalogue, history_rows  # noqa: E402
from tests.fakes.trakt import FakeTrakt, list_row, rating_row  # noqa: E402

SECTIONS = 7   # last_activities, settings, watched, ratings, watchlist, hidden, dropped


async def serve_fake(args: argparse.Namespace) -> None:
    """The Trakt fake in its own process (``--serve-fake``): the benchmark's figure is then the client's own time,
    not the fake's JSON work on the same event loop. A few control routes stand in for the fake's test methods."""
    from aiohttp import web

    rows = history_rows(args.plays, args.shows, years=6.0, seed=11)
    cat = catalogue()
    fake = FakeTrakt(parallel_per_user=args.parallel)
    fake.add_user("heavy", history=rows, ratings=[rating_row(e, 7) for e in cat[:150]],
                  watchlist=[list_row(e) for e in cat[1200:1250]],
                  hidden={"progress_watched": [list_row(e, "hidden_at") for e in cat[1300:1305]],
                          "dropped": [list_row(e, "hidden_at") for e in cat[1310:1313]]})

    async def approve(request: web.Request) -> web.Response:
        body = await request.json()
        fake.approve(body["user_code"], body["username"])
        return web.json_response({})

    async def latency(request: web.Request) -> web.Response:
        fake.latency = float((await request.json())["latency"])
        return web.json_response({})

    async def add_plays(request: web.Request) -> web.Response:
        now = datetime.now(UTC) - timedelta(minutes=5)
        fake.add_plays("heavy", [(cat[i], s, n, now) for i, s, n in (await request.json())["plays"]])
        return web.json_response({})

    async def stats(request: web.Request) -> web.Response:
        return web.json_response({"requests": sum(not r.path.startswith("/_control") for r in fake.requests),
                                  "slot_seconds": fake.slot_seconds, "rate_limited": fake.rate_limited,
                                  "max_limit": fake.max_limit,
                                  "capacity": fake.rate_capacity, "refill": fake.rate_refill})

    fake.app.router.add_post("/_control/approve", approve)
    fake.app.router.add_post("/_control/latency", latency)
    fake.app.router.add_post("/_control/add_plays", add_plays)
    fake.app.router.add_get("/_control/stats", stats)
    async with fake:
        print(fake.url, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)    # until the parent closes it


async def run_once(args: argparse.Namespace, page_concurrency: int) -> dict[str, float]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--serve-fake", "--plays", str(args.plays), "--shows", str(args.shows),
        "--parallel", str(args.parallel), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None and proc.stdin is not None
    url = (await proc.stdout.readline()).decode().strip()
    fake = FakeTrakt()                      # only for its client id and secret (the defaults the server uses)
    try:
        headers = {"trakt-api-key": fake.client_id, "trakt-api-version": "2"}    # the fake checks them on every path
        async with httpx.AsyncClient(base_url=url, headers=headers) as ctl:
            async def made() -> int:
                return int((await ctl.get("/_control/stats")).json()["requests"])

            with tempfile.TemporaryDirectory() as tmp:
                info = (await ctl.get("/_control/stats")).json()
                settings = load_settings(None, env={
                    "MULTITUDES_STORAGE__PATH": f"{tmp}/bench.db", "MULTITUDES_TRAKT__BASE_URL": url,
                    "MULTITUDES_TRAKT_CLIENT_ID": fake.client_id,
                    "MULTITUDES_TRAKT_CLIENT_SECRET": fake.client_secret,
                    "MULTITUDES_SECRET_KEY": TokenCipher.generate_key(),
                    "MULTITUDES_TRAKT__PAGE_LIMIT": str(info["max_limit"]),
                    "MULTITUDES_TRAKT__PAGE_CONCURRENCY": str(page_concurrency)})
                engine = await bootstrap(settings)
                probe = await open_probe(f"{tmp}/bench.db")
                try:
                    pid = await engine.person("console", "heavy")
                    link = await engine.start_link(pid)                # the device flow, approved at once
                    await ctl.post("/_control/approve", json={"user_code": link.user_code, "username": "heavy"})
                    assert await engine.poll_link(pid) == "heavy"
                    await ctl.post("/_control/latency", json={"latency": args.latency})
                    before = await made()
                    busy0 = (await ctl.get("/_control/stats")).json()["slot_seconds"]
                    t0 = time.perf_counter()
                    c0 = time.process_time()
                    report = await engine.sync(pid)
                    wall = time.perf_counter() - t0
                    cpu = time.process_time() - c0
                    requests = await made() - before
                    busy = (await ctl.get("/_control/stats")).json()["slot_seconds"] - busy0
                    stored = await count(probe, "plays", person_id=pid)
                    assert stored == args.plays == report.new_plays, "incomplete sync"
                    before = await made()
                    await engine.sync(pid)
                    resync = await made() - before
                    await ctl.post("/_control/add_plays", json={"plays": [[3, 9, 1], [3, 9, 2], [1400, 1, 1]]})
                    before = await made()
                    await engine.sync(pid)
                    incremental = await made() - before
                    info = (await ctl.get("/_control/stats")).json()
                    return {"wall_s": wall, "cpu_s": cpu, "requests_made": requests, "resync_requests": resync,
                            "incremental_requests": incremental, "busy_s": busy, "rate_limited": info["rate_limited"],
                            "max_limit": info["max_limit"], "capacity": info["capacity"],
                            "refill": info["refill"]}
                finally:
                    await probe.close()
                    await engine.close()
    finally:
        proc.stdin.close()
        await proc.wait()


async def run_server(args: argparse.Namespace) -> dict[str, object]:
    """The media-server variant: one linked server user, the first full sync, a resync, three new plays."""
    from tests.fakes.jellyfin import FakeJellyfin
    from tests.fakes.plex import FakePlex

    cat = [e for e in catalogue() if e["tmdb_id"]][:args.shows]
    start = datetime(2020, 1, 1, tzinfo=UTC)
    async with (FakePlex() if args.source == "plex" else FakeJellyfin(kind=args.source)) as fake:
        fake.latency = args.latency
        user = fake.share_with("heavy") if args.source == "plex" else fake.add_user("heavy")
        series = [fake.add_series(e["title"], e["year"], tmdb=e["tmdb_id"], imdb=e["imdb_id"]) for e in cat]
        per = math.ceil(args.plays / len(series))
        n = 0
        for sid in series:
            for ep in range(per):
                if n >= args.plays:
                    break
                fake.play(user, sid, 1 + ep // 10, 1 + ep % 10, start + timedelta(minutes=97 * n))
                n += 1
        with tempfile.TemporaryDirectory() as tmp:
            settings = load_settings(None, env={
                "MULTITUDES_STORAGE__PATH": f"{tmp}/bench.db", "MULTITUDES_MEDIASERVER__KIND": args.source,
                "MULTITUDES_MEDIASERVER__BASE_URL": fake.url, "MULTITUDES_MEDIASERVER_API_KEY": fake.api_key,
                "MULTITUDES_MEDIASERVER__PLEX_TV_URL": fake.url,
                "MULTITUDES_MEDIASERVER__PEOPLE": '{"console:heavy" = "heavy"}',
                "MULTITUDES_MEDIASERVER__PAGE_LIMIT": str(args.page)})
            engine = await bootstrap(settings)
            probe = await open_probe(f"{tmp}/bench.db")
            try:
                pid = await engine.person("console", "heavy")
                assert (await engine.link_server(pid, args.source)).linked_as == "heavy"
                before = len(fake.requests)
                t0, c0 = time.perf_counter(), time.process_time()
                report = await engine.sync(pid)
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                made = len(fake.requests) - before
                stored = await count(probe, "plays", person_id=pid)
                assert stored == args.plays == report.new_plays, f"incomplete sync: {stored}"
                before = len(fake.requests)
                await engine.sync(pid)
                resync = len(fake.requests) - before
                now = datetime.now(UTC)
                for k in range(3):
                    fake.play(user, series[k], 9, 9, now - timedelta(minutes=k))
                before = len(fake.requests)
                rep = await engine.sync(pid)
                incremental = len(fake.requests) - before
                assert rep.new_plays == 3
            finally:
                await probe.close()
                await engine.close()
    # the library: one page per ``page`` shows (Plex: per TV library, after one request listing the libraries)
    minimal = math.ceil(len(series) / args.page) + math.ceil(args.plays / args.page) + (
        1 if args.source == "plex" else 0)
    return {"source": args.source, "plays": args.plays, "series": len(series), "page": args.page,
            "latency_s": args.latency, "requests_made": made, "requests_minimal": minimal,
            "requests_ratio": round(made / minimal, 3), "resync_requests": resync,
            "incremental_requests": incremental, "wall_s": round(wall, 3), "plays_per_s": round(args.plays / wall),
            "cpu_s_with_fake": round(cpu, 3)}


async def main_async(args: argparse.Namespace) -> dict[str, object]:
    fast = await run_once(args, TraktSettings().page_concurrency)        # the engine as configured
    slow = await run_once(args, 1)
    minimal = math.ceil(args.plays / fast["max_limit"]) + SECTIONS
    rate_wait = max(0.0, (minimal - fast["capacity"]) / fast["refill"])
    latency_floor = math.ceil(minimal / args.parallel) * args.latency + rate_wait
    # the fake's slots are also held while it builds each page: its measured busy time over its slots is a floor too
    floor = max(latency_floor, fast["busy_s"] / args.parallel + rate_wait)
    return {
        "plays": args.plays, "shows": args.shows, "latency_s": args.latency, "server_parallel": args.parallel,
        "requests_made": int(fast["requests_made"]), "requests_minimal": minimal,
        "requests_ratio": round(fast["requests_made"] / minimal, 3),
        "resync_requests": int(fast["resync_requests"]), "incremental_requests": int(fast["incremental_requests"]),
        "wall_s": round(fast["wall_s"], 3), "wall_floor_s": round(floor, 3),
        "wall_ratio": round(fast["wall_s"] / floor, 2),
        "wall_floor_latency_only_s": round(latency_floor, 3),
        "wall_ratio_latency_only": round(fast["wall_s"] / latency_floor, 2),
        "server_busy_s": round(fast["busy_s"], 3),
        "wall_s_one_page_at_a_time": round(slow["wall_s"], 3),
        "speedup_vs_one_page_at_a_time": round(slow["wall_s"] / fast["wall_s"], 2),
        "plays_per_s": round(args.plays / fast["wall_s"]),
        "client_cpu_s": round(fast["cpu_s"], 3), "client_cpu_ms_per_play": round(fast["cpu_s"] * 1000 / args.plays, 4),
        "rate_limited_responses": int(fast["rate_limited"]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--plays", type=int, default=20_000)
    ap.add_argument("--shows", type=int, default=1_000)
    ap.add_argument("--latency", type=float, default=0.03, help="seconds the fake adds to each request")
    ap.add_argument("--parallel", type=int, default=4, help="requests the fake serves at once per user")
    ap.add_argument("--source", choices=("trakt", "jellyfin", "emby", "plex"), default="trakt")
    ap.add_argument("--page", type=int, default=200, help="media servers: items per page (mediaserver.page_limit)")
    ap.add_argument("--serve-fake", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_fake:
        asyncio.run(serve_fake(args))
        return
    out = asyncio.run(run_server(args) if args.source != "trakt" else main_async(args))
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:32} {v}")


if __name__ == "__main__":
    main()
