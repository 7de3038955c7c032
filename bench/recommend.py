"""Recommendation benchmark: latency, CPU and event-loop health of the engine (no LLM) for a 3,000-show history
over a 20,000-show catalogue, and the LLM's cost per request (prompt tokens, calls) against a loopback
OpenAI-compatible server.

    python bench/recommend.py --json

The 20,000-show catalogue is the bundled one (1,500 real shows) cloned with new ids; the person watched 3,000 of
them (two episodes each, spread over six years) with the bundled taste structure. Requests cycle through the
modes (auto, all, persona, bridge, like, mood); each is timed end to end through the façade, personas and the
deployment (catalogue index, population) built once before the timed loop, as in a running bot (reported
separately: ``personas_s``, ``deployment_s``).

- ``p50_ms``, ``p95_ms``: wall time per request.
- ``cpu_p95_ms``: process CPU time per request (every thread: the loop and the worker), p95.
- ``loop_lag_max_ms``: the longest a 5 ms ticker task on the event loop was late during the requests — how long
  the loop was blocked, i.e. how long a Discord heartbeat or a Telegram update would have waited.
- ``peak_rss_mb``: the process's peak resident memory.

Two paths side by side in one run. The headline figures are **what ships** (``live``): Trakt and TMDB configured
(loopback fakes speaking their wire format), the person linked, the live lists (trending, popular, related,
recommendations, similar, discover) gathered and materialised on every request — answered from the store's API cache
once warm, as in a running bot —, the crowd built from Trakt members who rated the person's shows
(``engine.refresh_crowd``, before the timed loop, as the scheduler does), and the bandit drawing from feedback given
on earlier lists. ``offline_*`` is the same person with no outside service (the demo's path). The LLM figures
(``llm_*``, ``prompt_tokens``) run the offline path with a loopback OpenAI-compatible server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import bootstrap  # noqa: E402
from engine.plumbing.config import load_settings  # noqa: E402
from engine.plumbing.crypto import TokenCipher  # noqa: E402
from engine.values.catalogue import Catalogue, load_catalogue, show_ref  # noqa: E402
from engine.values.models import Play, RecommendRequest  # noqa: E402
from tests.conftest import link_person  # noqa: E402
from tests.fakes.catalogue import export_of, play_row  # noqa: E402
from tests.fakes.openai import (  # noqa: E402
    FakeOpenAI,
    as_json,
    is_naming,
    is_tagging,
    names_answer,
    shortlist_ids,
    tags_answer,
    user_text,
)
from tests.fakes.tmdb import FakeTmdb  # noqa: E402
from tests.fakes.trakt import FakeTrakt  # noqa: E402


def big_catalogue(n: int) -> Catalogue:
    base = load_catalogue()
    out = []
    for i in range(n):
        e = dict(base[i % len(base)])
        if i >= len(base):
            e.update(trakt_id=2_000_000 + i, tmdb_id=3_000_000 + i, imdb_id=f"tt9{i:07d}", slug=f"{e['slug']}-{i}",
                     title=f"{e['title']} ({i // len(base)})", tmdb_popularity=e["tmdb_popularity"] * 0.5)
        out.append(e)
    return Catalogue(tuple(out))


def responder(req: dict[str, Any]) -> str:
    if is_tagging(req):
        return tags_answer(req)
    if is_naming(req):
        return names_answer(req)
    text = user_text(req)
    ids = shortlist_ids(req)
    k = int(text.split("Pick ")[1].split(".")[0]) if "Pick " in text else 5
    return as_json({"picks": [{"id": i, "persona_id": None, "reason": "Grounded in your history."}
                              for i in ids[:k]]})


async def run(a: argparse.Namespace) -> dict[str, Any]:
    cat = big_catalogue(a.catalogue)
    rng = random.Random(5)
    watched = rng.sample(range(len(cat.entries)), a.history)
    # the last shows watched are real ones (the first 1,500 of the catalogue), so that Trakt members rated them
    # and the crowd can be found around them as in a real deployment (the clones exist on no Trakt)
    lately = [i for i in watched if i < len(load_catalogue())][-20:]
    watched = [i for i in watched if i not in set(lately)] + lately
    start = datetime(2020, 1, 1, tzinfo=UTC)
    plays = []
    for n, i in enumerate(watched):
        e = cat.entries[i]
        t = start + timedelta(hours=n * 17)
        plays += [Play(show_ref(e), 1, 1, t), Play(show_ref(e), 1, 2, t + timedelta(minutes=50))]
    out: dict[str, Any] = {"history_shows": a.history, "catalogue_shows": len(cat.entries)}
    async with FakeOpenAI(responder) as fake, FakeTrakt() as trakt, FakeTmdb() as tmdb:
        # Trakt members who rated the shows the person watched last (the real ones the fakes know) and love others
        real = [cat.entries[i] for i in reversed(watched) if i < len(load_catalogue())]
        mine, theirs = real[:15], [e for e in load_catalogue() if e not in real][:40]
        for m in range(30):
            trakt.add_public_user(f"member{m}", [(e, 8 + (m + n) % 3) for n, e in enumerate(mine)]
                                  + [(e, 7 + (m * n) % 4) for n, e in enumerate(theirs[m % 10: m % 10 + 12])])
        rows = [play_row(n + 1, p.watched_at, cat.entries[watched[n // 2]], 1, p.episode)
                for n, p in enumerate(plays)]
        trakt.add_user("bench", history=sorted(rows, key=lambda r: r["watched_at"], reverse=True))
        for variant in ("live", "offline", "llm"):
            with tempfile.TemporaryDirectory() as tmp:
                env = {"MULTITUDES_STORAGE__PATH": f"{tmp}/b.db", "MULTITUDES_LOGGING__PROMPT_LOG": f"{tmp}/p.log",
                       "MULTITUDES_LOGGING__FILE": f"{tmp}/m.log"}
                if variant == "llm":
                    env |= {"MULTITUDES_LLM__BASE_URL": fake.base_url, "MULTITUDES_LLM__MODEL": "fake",
                            "MULTITUDES_LLM_API_KEY": fake.api_key}
                if variant == "live":
                    env |= {"MULTITUDES_TRAKT__BASE_URL": trakt.url, "MULTITUDES_TRAKT_CLIENT_ID": trakt.client_id,
                            "MULTITUDES_TRAKT_CLIENT_SECRET": trakt.client_secret,
                            "MULTITUDES_SECRET_KEY": TokenCipher.generate_key(),
                            "MULTITUDES_TMDB__BASE_URL": tmdb.url + "/3", "MULTITUDES_TMDB_API_KEY": tmdb.api_key}
                engine = await bootstrap(load_settings(None, env=env), catalogue=cat)
                try:
                    if variant == "live":                     # linked: the history comes from Trakt's sync
                        pid = await link_person(engine, trakt, "bench")
                        await engine.sync(pid)
                    else:                                       # the demo's way in: an uploaded export
                        pid = await engine.person("console", "bench")
                        await engine.import_history(pid, "history.json", export_of(plays))
                    t0 = time.perf_counter()
                    await engine.warm()
                    deployment_s = time.perf_counter() - t0
                    t0 = time.perf_counter()
                    report = await engine.personas(pid)
                    personas_s = time.perf_counter() - t0
                    crowd = await engine.refresh_crowd(pid) if variant == "live" else None
                    names = [p.name for p in report.personas]
                    reqs = [RecommendRequest(pid, k=5), RecommendRequest(pid, mode="all"),
                            RecommendRequest(pid, mode="persona", persona=names[-1], k=5),
                            RecommendRequest(pid, mode="bridge", k=5),
                            RecommendRequest(pid, mode="like", like=cat.entries[watched[0]]["title"], k=5),
                            RecommendRequest(pid, mode="mood", mood="something funny and short", k=5)]
                    times, cpu, tokens, calls = [], [], [], []
                    lags: list[float] = []
                    for n in range(len(reqs)):                # one of each first: lazily built caches, live lists
                        first = await engine.recommend(reqs[n])
                        for j, it in enumerate(first.items[:3]):      # feedback: the bandit has evidence to draw on
                            await engine.record_feedback(pid, it.event_id, "liked" if j == 0 else "not_for_me")
                    asked = len(trakt.requests) + len(tmdb.requests)
                    stop = asyncio.Event()
                    tick = asyncio.create_task(ticker(stop, lags))
                    sources: set[str] = set()
                    for n in range(a.requests):
                        t0, c0 = time.perf_counter(), time.process_time()
                        r = await engine.recommend(reqs[n % len(reqs)])
                        times.append(1000 * (time.perf_counter() - t0))
                        cpu.append(1000 * (time.process_time() - c0))
                        tokens.append(r.prompt_tokens)
                        calls.append(r.llm_calls)
                        sources |= {src for it in r.items for src in it.sources}
                        assert r.items, "no recommendations"
                    stop.set()
                    await tick
                    asked = len(trakt.requests) + len(tmdb.requests) - asked
                finally:
                    await engine.close()
            key = {"live": "", "offline": "offline_", "llm": "llm_"}[variant]
            out[f"{key}p50_ms"] = round(statistics.median(times), 1)
            out[f"{key}p95_ms"] = round(p95(times), 1)
            if variant != "llm":
                out[f"{key}cpu_p50_ms"] = round(statistics.median(cpu), 1)
                out[f"{key}cpu_p95_ms"] = round(p95(cpu), 1)
                out[f"{key}loop_lag_max_ms"] = round(1000 * max(lags, default=0.0), 1)
                out[f"{key}loop_lag_p99_ms"] = round(1000 * p95(lags, 0.99), 1)
                out[f"{key}sources"] = sorted(sources)
            if variant == "llm":
                out["prompt_tokens"] = round(statistics.fmean(tokens), 1)
                out["prompt_tokens_max"] = max(tokens)
                out["llm_calls"] = round(statistics.fmean(calls), 2)
            if variant == "live":
                out["personas_s"] = round(personas_s, 2)
                out["deployment_s"] = round(deployment_s, 2)
                out["personas"] = len(names)
                out["outside_requests_per_list"] = round(asked / a.requests, 2)   # Trakt + TMDB, once warm
                out["crowd_people"] = crowd.people if crowd is not None else 0
                out["crowd_requests"] = crowd.requests if crowd is not None else 0
    out["requests"] = a.requests
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def p95(xs: list[float], q: float = 0.95) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))] if s else 0.0


async def ticker(stop: asyncio.Event, lags: list[float], every: float = 0.005) -> None:
    """How late a task that wants to run every ``every`` seconds gets: the loop's blocked time."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        t = loop.time()
        await asyncio.sleep(every)
        lags.append(max(0.0, loop.time() - t - every))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--history", type=int, default=3000)
    ap.add_argument("--catalogue", type=int, default=20_000)
    ap.add_argument("--requests", type=int, default=30)
    a = ap.parse_args()
    out = asyncio.run(run(a))
    print(json.dumps(out) if a.json else "\n".join(f"{k:22} {v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
