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
from engine.catalogue import Catalogue, load_catalogue, show_ref  # noqa: E402
from engine.config import load_settings  # noqa: E402
from engine.models import Play, RecommendRequest  # noqa: E402
from tests.fakes.catalogue import export_of  # noqa: E402
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
    start = datetime(2020, 1, 1, tzinfo=UTC)
    plays = []
    for n, i in enumerate(watched):
        e = cat.entries[i]
        t = start + timedelta(hours=n * 17)
        plays += [Play(show_ref(e), 1, 1, t), Play(show_ref(e), 1, 2, t + timedelta(minutes=50))]
    out: dict[str, Any] = {"history_shows": a.history, "catalogue_shows": len(cat.entries)}
    async with FakeOpenAI(responder) as fake:
        for with_llm in (False, True):
            with tempfile.TemporaryDirectory() as tmp:
                env = {"MULTITUDES_STORAGE__PATH": f"{tmp}/b.db", "MULTITUDES_LOGGING__PROMPT_LOG": f"{tmp}/p.log"}
                if with_llm:
                    env |= {"MULTITUDES_LLM__BASE_URL": fake.base_url, "MULTITUDES_LLM__MODEL": "fake",
                            "MULTITUDES_LLM_API_KEY": fake.api_key}
                engine = await bootstrap(load_settings(None, env=env), catalogue=cat)
                try:
                    pid = await engine.person("console", "bench")
                    await engine.import_history(pid, "history.json", export_of(plays))
                    t0 = time.perf_counter()
                    await engine.warm()
                    deployment_s = time.perf_counter() - t0
                    t0 = time.perf_counter()
                    report = await engine.personas(pid)
                    personas_s = time.perf_counter() - t0
                    names = [p.name for p in report.personas]
                    reqs = [RecommendRequest(pid, k=5), RecommendRequest(pid, mode="all"),
                            RecommendRequest(pid, mode="persona", persona=names[-1], k=5),
                            RecommendRequest(pid, mode="bridge", k=5),
                            RecommendRequest(pid, mode="like", like=cat.entries[watched[0]]["title"], k=5),
                            RecommendRequest(pid, mode="mood", mood="something funny and short", k=5)]
                    times, cpu, tokens, calls = [], [], [], []
                    lags: list[float] = []
                    for n in range(len(reqs)):                # one of each first: lazily built caches
                        await engine.recommend(reqs[n])
                    stop = asyncio.Event()
                    tick = asyncio.create_task(ticker(stop, lags))
                    for n in range(a.requests):
                        t0, c0 = time.perf_counter(), time.process_time()
                        r = await engine.recommend(reqs[n % len(reqs)])
                        times.append(1000 * (time.perf_counter() - t0))
                        cpu.append(1000 * (time.process_time() - c0))
                        tokens.append(r.prompt_tokens)
                        calls.append(r.llm_calls)
                        assert r.items, "no recommendations"
                    stop.set()
                    await tick
                finally:
                    await engine.close()
            key = "llm_" if with_llm else ""
            out[f"{key}p50_ms"] = round(statistics.median(times), 1)
            out[f"{key}p95_ms"] = round(p95(times), 1)
            if not with_llm:
                out["cpu_p50_ms"] = round(statistics.median(cpu), 1)
                out["cpu_p95_ms"] = round(p95(cpu), 1)
                out["loop_lag_max_ms"] = round(1000 * max(lags, default=0.0), 1)
                out["loop_lag_p99_ms"] = round(1000 * p95(lags, 0.99), 1)
            if with_llm:
                out["prompt_tokens"] = round(statistics.fmean(tokens), 1)
                out["prompt_tokens_max"] = max(tokens)
                out["llm_calls"] = round(statistics.fmean(calls), 2)
            else:
                out["personas_s"] = round(personas_s, 2)
                out["deployment_s"] = round(deployment_s, 2)
                out["personas"] = len(names)
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
