"""Alert-scan benchmark: what one scan of 1,000 people costs in requests, against the Trakt and TMDB fakes.

    python bench/alerts.py --json

1,000 people (``--people``) each watched 8-40 real shows from the bundled catalogue, some week by week, some in
binges; a third of running shows have a next season announced (the fakes' shared lifecycle). Measured side by
side in one run:

- ``requests``: HTTP requests made by the engine's scan (Trakt's two public calendars + TMDB for the shows whose
  cached metadata ran out), cold (nothing cached); ``requests_per_person`` = requests / people;
- ``requests_warm``: the next scheduled scan (``alerts.scan_every_hours`` later): calendars and metadata cached;
- ``requests_naive``: a per-person scan, as a bot without shared look-ups would do it (the two calendars and one
  TMDB request per show, for every person), actually run against the same fakes; ``naive_ratio`` = naive / ours;
- ``alerts``: rows decided, and ``scan_s`` / ``scan_warm_s`` wall time of the engine's scans.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import bootstrap  # noqa: E402
from engine.plumbing.config import load_settings  # noqa: E402
from engine.store.testing import open_probe  # noqa: E402
from engine.usecases.alerts import ScanReport  # noqa: E402
from engine.values.models import Play, ShowIds, ShowRef  # noqa: E402
from tests.fakes.catalogue import catalogue  # noqa: E402
from tests.fakes.clock import FakeClock  # noqa: E402
from tests.fakes.lifecycle import Lifecycle  # noqa: E402
from tests.fakes.tmdb import FakeTmdb  # noqa: E402
from tests.fakes.trakt import FakeTrakt  # noqa: E402


def histories(people: int, seed: int = 5) -> list[list[Play]]:
    rng = random.Random(seed)
    cat = [e for e in catalogue() if e.get("tmdb_id")]
    weights = [1.0 / (1 + i) ** 0.6 for i in range(len(cat))]          # popular shows are shared by many people
    end = datetime(2026, 11, 1, tzinfo=UTC)
    out = []
    for _ in range(people):
        binge = rng.random() < 0.4
        shows = list({e["tmdb_id"]: e for e in rng.choices(cat, weights, k=rng.randint(8, 40))}.values())
        plays = []
        for e in shows:
            ref = ShowRef(ShowIds(trakt=e["trakt_id"], tmdb=e["tmdb_id"], imdb=e["imdb_id"], slug=e["slug"]),
                          e["title"], e["year"])
            t = end - timedelta(days=rng.uniform(30, 900))
            seasons = rng.randint(1, int(e["seasons"]))
            for s in range(1, seasons + 1):
                for n in range(1, int(e["episodes_per_season"]) + 1):
                    plays.append(Play(ref, s, n, t))
                    t += timedelta(minutes=50) if binge and n % 5 else timedelta(days=1 if binge else 7)
        out.append(plays)
    return out


async def naive(people: list[list[Play]], trakt: FakeTrakt, tmdb: FakeTmdb, today: str) -> int:
    """Every person scanned on their own: calendars and one TMDB request per show they watch, nothing shared."""
    sem = asyncio.Semaphore(16)
    n = 0
    async with httpx.AsyncClient(timeout=30) as http:
        async def get(url: str, params: dict[str, str], headers: dict[str, str]) -> None:
            nonlocal n
            async with sem:
                r = await http.get(url, params=params, headers=headers)
                r.raise_for_status()
                n += 1

        th = {"trakt-api-key": trakt.client_id, "trakt-api-version": "2"}
        for plays in people:
            shows = {p.show.ids.tmdb for p in plays}
            await asyncio.gather(
                get(f"{trakt.url}/calendars/all/shows/premieres/{today}/33", {"extended": "full"}, th),
                get(f"{trakt.url}/calendars/all/shows/finales/{today}/33", {"extended": "full"}, th),
                *(get(f"{tmdb.url}/3/tv/{s}", {"api_key": tmdb.api_key,
                                               "append_to_response": "keywords,external_ids"}, {}) for s in shows))
    return n


async def run(n_people: int) -> dict[str, object]:
    now = datetime.now(UTC).replace(microsecond=0)
    lc = Lifecycle(today=now.date())
    people = histories(n_people)
    async with FakeTrakt(lifecycle=lc, rate_capacity=10**6) as trakt, FakeTmdb(lifecycle=lc) as tmdb:
        with tempfile.TemporaryDirectory() as tmp:
            settings = load_settings(None, env={
                "MULTITUDES_STORAGE__PATH": f"{tmp}/bench.db", "MULTITUDES_TRAKT__BASE_URL": trakt.url,
                "MULTITUDES_TRAKT_CLIENT_ID": trakt.client_id, "MULTITUDES_TRAKT_CLIENT_SECRET": trakt.client_secret,
                "MULTITUDES_SECRET_KEY": "n" * 43 + "=", "MULTITUDES_TMDB__BASE_URL": tmdb.url + "/3",
                "MULTITUDES_TMDB_API_KEY": tmdb.api_key})
            clock = FakeClock(now)
            engine = await bootstrap(settings, clock=clock)
            probe = await open_probe(f"{tmp}/bench.db")
            try:
                for i, plays in enumerate(people):
                    pid = await engine.person("console", f"p{i}", f"p{i}")
                    await engine.update_settings(pid, timezone=random.Random(i).choice(
                        ["Europe/Paris", "America/New_York", "Asia/Tokyo", "UTC"]))
                    async with probe.unit() as uow:         # histories as stored by syncs, metadata not yet fetched
                        await uow.history.add_plays(pid, plays, "bench")
                async with probe.read() as uow:
                    shows = len({s for ss in (await uow.history.person_show_pairs()).values() for s in ss})


                async def scan() -> tuple[ScanReport, int, float]:
                    """One scan: its report, the requests it made to both fakes, its wall time."""
                    trakt.requests.clear()
                    tmdb.requests.clear()
                    t0 = time.perf_counter()
                    rep = await engine.scan_alerts()
                    return rep, len(trakt.requests) + len(tmdb.requests), time.perf_counter() - t0

                rep, cold, scan_s = await scan()
                clock.advance(hours=settings.alerts.scan_every_hours)       # the next scheduled scan
                rep2, warm, warm_s = await scan()
                by_kind: dict[str, int] = {}
                for kind, _status, n in await engine.alert_counts():
                    by_kind[kind] = by_kind.get(kind, 0) + n
            finally:
                await probe.close()
                await engine.close()
        t0 = time.perf_counter()
        naive_n = await naive(people, trakt, tmdb, now.date().isoformat())
        naive_s = time.perf_counter() - t0
    return {
        "people": rep.people, "shows": shows, "requests": cold,
        "requests_per_person": round(cold / max(1, rep.people), 3),
        "requests_warm": warm, "requests_per_person_warm": round(warm / max(1, rep.people), 4),
        "requests_naive": naive_n, "naive_ratio": round(naive_n / max(1, cold), 1),
        "metadata_fetched": rep.metadata_fetched, "metadata_fetched_warm": rep2.metadata_fetched,
        "alerts": by_kind, "scan_s": round(scan_s, 2), "scan_warm_s": round(warm_s, 2),
        "naive_s": round(naive_s, 2),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--people", type=int, default=1000)
    a = ap.parse_args()
    out = asyncio.run(run(a.people))
    if a.json:
        print(json.dumps(out, indent=2))
    else:
        for k, v in out.items():
            print(f"{k}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
