"""Soak: the bot left running under many people at once — nothing lost, nothing stalled, no memory creep.

    python bench/soak.py --json [--people 500] [--seconds 60] [--abusers 3] [--join S] [--rate R]

Two processes. The bot: the engine, the Telegram front end (python-telegram-bot, PTB's rate limiter) and the one
scheduler with its background sync wave, on one event loop, with a ticker measuring how late the loop runs it. The
world (``--world``, another process, so its work never counts against the bot's loop): the Telegram and Trakt
fakes and ``--people`` simulated people. Half of them import a Trakt export, half link Trakt (device code, approved
on the fake) and /sync; then each acts until ``--seconds`` passed — /recommend and a feedback button on a pick,
/settings, /groupwatch in a shared group — while the scheduler's sync wave keeps linked people fresh. People join
over the first half of the run (at most 300 s; ``--join``); each then acts every 0.5–1.5 × ``people / rate``
seconds, so the load after joining is about ``--rate`` (12.5) requests/s whatever the number of people (500 people:
every 20–60 s). ``--abusers`` more people meanwhile send /stats every second and a 20,000-play export every 20 s.

Telegram lets a bot send about 30 messages a second (PTB's limiter holds the bot to it). A person joining costs the
bot 2–5 sends (the device code, "Linked", the sync report, the settings answer), a /recommend four: 16.7 people
joining a second (5,000 over 300 s) ask for about 50 sends a second before anyone recommends anything, which no bot
can answer in time. ``calls`` in the JSON counts what the bot sent by Bot API method; the closing notes of issue 24
give the runs and how far each is from that ceiling.

Printed: ``people``, ``seconds``, ``requests`` (commands and button presses sent), ``errors`` (answers saying
something went wrong, and errors the bot logged), ``lost_replies`` (a command or press that got no answer within
``--patience`` seconds, waited for after the run), ``loop_lag_p99_ms``, ``loop_lag_max_ms`` (the ticker's lateness
over the whole run, start-up excluded), ``rss_growth_ratio`` (the bot's RSS at the end over its RSS once everyone
had joined), ``shed`` (answers saying the bot is busy: overload turned away with a retry time, not queued),
``limited`` (per-person rate-limit answers), ``abusers`` (their requests, and how many were limited or shed), plus
``sync_waves`` and ``messages``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import re
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BASE_UID = 50_000
REFUSED = re.compile(r"busy right now|Easy there|still running|went wrong")     # an answer, if not the one hoped for
GROUP_SIZE = 10


# -- the world: fakes and people ----------------------------------------------------------------------------------
async def world(args: argparse.Namespace) -> None:
    from tests.fakes.catalogue import history_rows
    from tests.fakes.telegram import FakeTelegram
    from tests.fakes.trakt import FakeTrakt

    class Telegram(FakeTelegram):
        """Tells each chat's waiter about every message the bot sends there."""

        def __init__(self) -> None:
            super().__init__()
            self.inbox: dict[int, list[dict[str, Any]]] = {}
            self.arrived: dict[int, asyncio.Event] = {}

        def _message(self, chat_id: Any, **kw: Any) -> dict[str, Any]:
            msg = super()._message(chat_id, **kw)
            self.inbox.setdefault(int(chat_id), []).append(msg)
            self.arrived.setdefault(int(chat_id), asyncio.Event()).set()
            return msg

    stats: dict[str, Any] = {"requests": 0, "lost_replies": 0, "errors": 0, "shed": 0, "limited": 0}
    abuse: dict[str, int] = {"requests": 0, "limited_or_shed": 0, "lost": 0}
    lost_by: dict[str, int] = {}
    rng = random.Random(args.seed)
    async with Telegram() as tg, FakeTrakt(rate_capacity=100_000) as trakt:
        print(json.dumps({"telegram": tg.url, "token": tg.token, "trakt": trakt.url, "client_id": trakt.client_id,
                          "client_secret": trakt.client_secret}), flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.readline)          # "go": the bot is up
        deadline = loop.time() + args.seconds
        pending: list[asyncio.Task[None]] = []
        join = _join(args)

        async def answer(chat: int, n: int, count: int = 1, want: str | None = None) -> list[dict[str, Any]]:
            """The bot's next ``count`` messages in a chat after index ``n`` (or one containing ``want``)."""
            end = loop.time() + args.patience
            while True:
                got = tg.inbox.get(chat, [])[n:]
                if (want is None and len(got) >= count) or (want is not None and any(
                        want in (m.get("text") or "") for m in got)) or any(
                        REFUSED.search(m.get("text") or "") for m in got):
                    return got
                left = end - loop.time()
                if left <= 0:
                    raise TimeoutError
                ev = tg.arrived.setdefault(chat, asyncio.Event())
                ev.clear()
                try:
                    await asyncio.wait_for(ev.wait(), min(left, 1.0))
                except TimeoutError:
                    pass

        def check(msgs: list[dict[str, Any]]) -> None:
            texts = [m.get("text") or "" for m in msgs]
            if any("went wrong" in t for t in texts):
                stats["errors"] += 1
            if any("busy right now" in t for t in texts):
                stats["shed"] += 1
            if any("Easy there" in t for t in texts):
                stats["limited"] += 1

        async def command(uid: int, text: str, *, chat: int | None = None, count: int = 1,
                          want: str | None = None, private: bool = False) -> list[dict[str, Any]]:
            """Send a command; the bot's answer (a refusal — busy, rate-limited — is an answer too)."""
            where = uid if private or chat is None else chat          # private answers go to the person's DM
            n = len(tg.inbox.get(where, []))
            stats["requests"] += 1
            tg.command(uid, text, chat=chat, name=f"P{uid}", kind="group" if chat else "private")
            try:
                got = await answer(where, n, count, want)
            except TimeoutError:
                got = tg.inbox.get(where, [])[n:]
                if got and any(re.search(r"busy right now|Easy there", m.get("text") or "") for m in got):
                    check(got)                          # turned away with a retry time: answered, not lost
                    return got
                stats["lost_replies"] += 1
                verb = text.split(maxsplit=1)[0]
                lost_by[verb] = lost_by.get(verb, 0) + 1
                return []
            check(got)
            return got

        async def press(uid: int, message: dict[str, Any], data: str) -> None:
            stats["requests"] += 1
            before = {a.get("callback_query_id") for a in tg.answered}
            cb = f"cb{tg.next_update}"
            tg.press(uid, message, data, name=f"P{uid}")
            end = loop.time() + args.patience
            while cb not in {a.get("callback_query_id") for a in tg.answered} - before:
                if loop.time() > end:
                    stats["lost_replies"] += 1
                    return
                await asyncio.sleep(0.05)

        async def person(i: int) -> None:
            uid = BASE_UID + i
            prng = random.Random(args.seed * 1_000_003 + i)
            await asyncio.sleep(prng.uniform(0, join))                                 # people arrive over time
            rows = history_rows(120, 12, years=2, seed=i)
            if i % 2 == 0:                                                              # an export
                n = len(tg.inbox.get(uid, []))
                stats["requests"] += 1
                tg.document(uid, "export.json", json.dumps({"history": rows}).encode(), who=f"P{uid}")
                try:
                    check(await answer(uid, n))
                except TimeoutError:
                    stats["lost_replies"] += 1
            else:                                                                       # Trakt, linked
                trakt.add_user(f"u{i}", history=rows)
                got = await command(uid, "/link", want="code ")
                code = next((m.group(1) for x in got if (m := re.search(r"code (\w+)", x.get("text") or ""))), None)
                if code is None:
                    return
                trakt.approve(code, f"u{i}")
                await command(uid, "/sync", want="Linked")       # the link's confirmation arrives first
            group = -1_000_000 - i // GROUP_SIZE
            await command(uid, "/settings group:on", chat=group, private=True)
            while loop.time() < deadline:
                r = prng.random()
                if r < 0.7:
                    got = await command(uid, "/recommend k:3", count=4)
                    picks = [m for m in got if (m.get("reply_markup") or {}).get("inline_keyboard")]
                    if picks:
                        pick = prng.choice(picks)
                        button = prng.choice([b for row in pick["reply_markup"]["inline_keyboard"] for b in row])
                        await press(uid, pick, button["callback_data"])
                elif r < 0.85:
                    await command(uid, f"/settings tz:{prng.choice(['Europe/Paris', 'Asia/Tokyo', 'UTC'])}")
                else:
                    await command(uid, "/groupwatch", chat=group)
                await asyncio.sleep(every * prng.uniform(0.5, 1.5))

        every = max(1.0, args.people / args.rate)        # about --rate requests per second once everyone joined

        async def abuser(j: int) -> None:
            """Someone hammering the bot: /stats every second, a 20,000-play export every 20 s."""
            uid = BASE_UID + 900_000 + j
            big = json.dumps({"history": history_rows(20_000, 400, years=5, seed=900 + j)}).encode()
            tick = 0
            while loop.time() < deadline:
                abuse["requests"] += 1
                tick += 1
                if tick % 20 == 1:
                    n = len(tg.inbox.get(uid, []))
                    tg.document(uid, "big.json", big, who=f"A{j}")
                    try:
                        got = await answer(uid, n)
                    except TimeoutError:
                        abuse["lost"] += 1
                        continue
                else:
                    got = await command(uid, "/stats", private=True)
                    stats["requests"] -= 1                     # counted as abuse, not as people's requests
                if any(re.search(r"busy right now|Easy there|still running", m.get("text") or "") for m in got):
                    abuse["limited_or_shed"] += 1
                await asyncio.sleep(1.0)

        for i in range(args.people):
            pending.append(asyncio.create_task(person(i)))
        for j in range(args.abusers):
            pending.append(asyncio.create_task(abuser(j)))
        await asyncio.gather(*pending)
        stats["messages"] = len(tg.sent)
        calls: dict[str, int] = {}
        for method, _ in tg.calls:
            if method != "getUpdates":
                calls[method] = calls.get(method, 0) + 1
        stats["calls"] = dict(sorted(calls.items(), key=lambda kv: -kv[1]))
        stats["people"] = args.people
        stats["lost_by"] = lost_by
        stats["abusers"] = {"people": args.abusers, **abuse}
        rng.random()
        print(json.dumps(stats), flush=True)
        await loop.run_in_executor(None, sys.stdin.readline)          # the bot stops first, then the fakes


# -- the bot --------------------------------------------------------------------------------------------------------
async def bot(args: argparse.Namespace) -> dict[str, Any]:
    from bot.logs import setup_logging
    from bot.telegram import TelegramFrontend
    from engine import bootstrap
    from engine.plumbing.config import load_settings
    from engine.plumbing.crypto import TokenCipher
    from engine.schedule import Scheduler

    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--world", "--people", str(args.people), "--seconds", str(args.seconds),
        "--patience", str(args.patience), "--seed", str(args.seed), "--abusers", str(args.abusers),
        "--rate", str(args.rate), *(("--join", str(args.join)) if args.join is not None else ()),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=2**20)
    assert proc.stdout is not None and proc.stdin is not None
    info = json.loads(await proc.stdout.readline())
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(None, env={
            "MULTITUDES_STORAGE__PATH": f"{tmp}/soak.db", "MULTITUDES_LOGGING__FILE": f"{tmp}/soak.log",
            "MULTITUDES_TELEGRAM_TOKEN": info["token"], "MULTITUDES_TELEGRAM__BASE_URL": f"{info['telegram']}/bot",
            "MULTITUDES_TELEGRAM__BASE_FILE_URL": f"{info['telegram']}/file/bot",
            "MULTITUDES_TRAKT__BASE_URL": info["trakt"], "MULTITUDES_TRAKT_CLIENT_ID": info["client_id"],
            "MULTITUDES_TRAKT_CLIENT_SECRET": info["client_secret"],
            "MULTITUDES_SECRET_KEY": TokenCipher.generate_key(),
            "MULTITUDES_SYNC__STALE_AFTER_MINUTES": "0.25", "MULTITUDES_SYNC__WAVE_MINUTES": "0.25",
            "MULTITUDES_ALERTS__SCHEDULER_STORE": f"{tmp}/jobs.db"})
        setup_logging(settings)
        errors = _ErrorCount()
        logging.getLogger().addHandler(errors)
        engine = await bootstrap(settings)
        await engine.warm()
        fe = TelegramFrontend(engine, info["token"])
        await fe.start()
        sched = Scheduler(engine, {fe.platform: fe})
        await sched.start()
        lags: list[float] = []
        stop = asyncio.Event()

        async def ticker() -> None:
            loop = asyncio.get_running_loop()
            while not stop.is_set():
                t = loop.time()
                await asyncio.sleep(0.01)
                lags.append(max(0.0, loop.time() - t - 0.01))

        tick = asyncio.create_task(ticker())
        rss: dict[str, float] = {}

        async def sample_rss() -> None:
            await asyncio.sleep(_join(args) + 5)                  # everyone has joined by then
            rss["base"] = _rss_mb()

        sampler = asyncio.create_task(sample_rss())
        t0 = time.perf_counter()
        proc.stdin.write(b"go\n")
        await proc.stdin.drain()
        result = json.loads(await proc.stdout.readline())
        seconds = time.perf_counter() - t0
        await sampler
        rss["end"] = _rss_mb()
        stop.set()
        await tick
        waves = sched.runs.get("sync", 0)
        await sched.stop()
        await fe.stop()
        await engine.close()
        proc.stdin.close()
        await proc.wait()
    lags.sort()
    return {
        "people": result["people"], "seconds": round(seconds, 1), "requests": result["requests"],
        "errors": result["errors"] + errors.n, "lost_replies": result["lost_replies"], "shed": result["shed"],
        "limited": result["limited"], "abusers": result["abusers"],
        "loop_lag_p99_ms": round(1000 * lags[int(0.99 * (len(lags) - 1))], 1) if lags else None,
        "loop_lag_max_ms": round(1000 * lags[-1], 1) if lags else None,
        "rss_growth_ratio": round(rss["end"] / rss["base"], 3), "rss_end_mb": round(rss["end"], 1),
        "sync_waves": waves, "messages": result["messages"], "lost_by": result.get("lost_by", {}),
        "calls": result.get("calls", {}),
    }


def _join(args: argparse.Namespace) -> float:
    """Seconds over which people arrive: ``--join``, else the first half of the run (at most 300 s)."""
    return args.join if args.join is not None else min(300.0, args.seconds / 2)


class _ErrorCount(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.n = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.n += 1


def _rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--people", type=int, default=500)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--patience", type=float, default=120.0, help="seconds an answer may take before it is lost")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--abusers", type=int, default=0, help="people hammering /stats and uploading large files")
    ap.add_argument("--join", type=float, default=None,
                    help="seconds over which people arrive (default: half the run, at most 300)")
    ap.add_argument("--rate", type=float, default=12.5,
                    help="requests a second from everyone once joined (each acts every people/rate seconds)")
    ap.add_argument("--world", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.world:
        asyncio.run(world(args))
        return
    out = asyncio.run(bot(args))
    print(json.dumps(out) if args.json else "\n".join(f"{k:20} {v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
