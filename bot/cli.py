"""`multitudes` command line: run the bot (or the console demo), sync, import, link, keygen."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import importlib
import json
import logging
import os
import signal
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.plumbing.config import Settings, StorageSettings, load_settings
from engine.values.errors import MultitudesError

from . import render, render_alerts
from .cli_args import parser
from .cli_measure import convert_command, eval_command, tune_command
from .console import Console, chart_paths
from .health import check, heartbeat, heartbeat_path
from .logs import redact, setup_logging

if TYPE_CHECKING:
    from engine import Engine

DEMO_DB = "var/demo.db"


async def bootstrap(settings: Settings) -> Engine:
    """The engine (imported here, not at the top: the console shows its prompt before NumPy and scikit-learn load)."""
    from engine.bootstrap import bootstrap as boot
    return await boot(settings)


def _demo_settings(settings: Settings, fresh: bool) -> Settings:
    """No Trakt credentials: the demo database, kept between runs (what was imported, liked or dismissed stays);
    ``--fresh`` starts again from the bundled sample."""
    Path(DEMO_DB).parent.mkdir(parents=True, exist_ok=True)
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(DEMO_DB + suffix).unlink(missing_ok=True)
    return settings.model_copy(update={"storage": StorageSettings(path=DEMO_DB)})


def _migrate_to(settings: Settings, url: str) -> int:
    from engine.plumbing.maintenance import migrate_database
    try:
        rep = asyncio.run(migrate_database(settings.storage.path, url))
    except MultitudesError as e:
        print(f"multitudes: {e.user_message}", file=sys.stderr)
        return 1
    print(f"Copied {rep.source} into PostgreSQL: {len(rep.tables)} tables, {rep.rows:,} rows, every row verified. "
          "Set storage.url (or MULTITUDES_STORAGE__URL) to use it.")
    return 0


def _backup(settings: Settings, dest: str) -> int:
    from engine.plumbing.maintenance import backup_database
    if settings.storage.url:
        print("multitudes: the store is PostgreSQL (storage.url): back it up with pg_dump, e.g. "
              "pg_dump -Fc -f multitudes.dump \"$URL\"", file=sys.stderr)
        return 1
    try:
        rep = asyncio.run(backup_database(settings.storage.path, dest))
    except MultitudesError as e:
        print(f"multitudes: {e.user_message}", file=sys.stderr)
        return 1
    rows = sum(rep.tables.values())
    print(f"Backed up {rep.source} to {rep.dest}: {rep.bytes:,} bytes, {len(rep.tables)} tables, {rows:,} rows; "
          "integrity check ok.")
    return 0


async def _console(settings: Settings, user: str | None, *, fresh: bool = False) -> int:
    if not settings.trakt_enabled and "MULTITUDES_STORAGE__PATH" not in os.environ:
        settings = _demo_settings(settings, fresh)
    engine: list[Engine] = []

    async def boot() -> Engine:
        await asyncio.to_thread(importlib.import_module, "engine.bootstrap")    # the heavy imports, off the loop
        engine.append(await bootstrap(settings))
        return engine[0]

    try:
        read_any = await Console(None, user=user, boot=boot).run()
    finally:
        if engine:
            await engine[0].close()
    if not read_any and not sys.stdin.isatty():     # e.g. a container without tokens: say so, never exit 0 quietly
        print("multitudes: no chat token is configured (MULTITUDES_TELEGRAM_TOKEN or MULTITUDES_DISCORD_TOKEN) and "
              "there is no terminal for the console demo. Set a token to run the bot, or attach a terminal "
              "(docker run -it …) for the console.", file=sys.stderr)
        return 2
    return 0


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """``I/N`` (0 ≤ I < N) as (I, N); None for no sharding."""
    if text is None:
        return None
    a, sep, b = text.partition("/")
    if not (sep and a.isdigit() and b.isdigit() and 0 <= int(a) < int(b)):
        raise MultitudesError(f"shard {text!r}", user_message=f"--shard {text}: write I/N with 0 <= I < N, e.g. 0/3.")
    return int(a), int(b)


async def _serve(settings: Settings, shard: tuple[int, int] | None = None) -> int:
    """The bot: engine and every front end with a token, in one process and one event loop, until SIGTERM.
    ``shard``: this process serves Discord shard I of N; Telegram allows one getUpdates poller per bot token (a
    second one gets 409 Conflict), so only shard 0 polls it and the others only send. Every process runs the
    scheduler: the leader (``scheduler`` lease) scans, every process delivers its claimed share of the alerts and
    digests and syncs who is due (both platforms send over their HTTP APIs, so any process reaches anyone)."""
    engine = await bootstrap(settings)
    frontends: list[Any] = []
    scheduler: Any = None
    beat: asyncio.Task[None] | None = None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        if settings.secrets.telegram_token:
            from .telegram import TelegramFrontend
            frontends.append(TelegramFrontend(engine, settings.secrets.telegram_token,
                                              poll=shard is None or shard[0] == 0))
        if settings.secrets.discord_token:
            from .discord import DiscordFrontend
            frontends.append(DiscordFrontend(engine, settings.secrets.discord_token, shard=shard))
        await engine.warm()                  # the catalogue index and population, before the first request
        for fe in frontends:
            await fe.start()
        if settings.alerts.enabled and frontends:
            from engine.schedule import Scheduler
            scheduler = Scheduler(engine, {fe.platform: fe for fe in frontends})
            await scheduler.start()
        beat_path = heartbeat_path(settings.storage.path)
        if beat_path is not None:
            beat = asyncio.create_task(heartbeat(beat_path))
        print(f"Multitudes is running ({', '.join(type(f).__name__ for f in frontends)})"
              + (" with release alerts" if scheduler is not None else "") + "; stop with Ctrl-C.", flush=True)
        await stop.wait()
    finally:
        if beat is not None:
            beat.cancel()
        if scheduler is not None:
            await scheduler.stop()
        for fe in reversed(frontends):
            await fe.stop()
        await engine.close()
    return 0


async def _sync(settings: Settings, user: str) -> int:
    if not settings.trakt_enabled:       # never the bundled sample into a real database by mistake
        print("multitudes: Trakt is not configured (set MULTITUDES_TRAKT_CLIENT_ID, MULTITUDES_TRAKT_CLIENT_SECRET "
              "and MULTITUDES_SECRET_KEY). The console demo (./dev run) shows the bundled sample.", file=sys.stderr)
        return 2
    engine = await bootstrap(settings)
    async with engine:
        pid = await engine.person("console", user, user)
        print(render.sync_report(await engine.sync(pid, progress=lambda m: print(f"… {m}", flush=True))))
    return 0


async def _import(settings: Settings, user: str, file: str) -> int:
    engine = await bootstrap(settings)
    async with engine:
        pid = await engine.person("console", user, user)
        path = Path(file)
        data = await asyncio.to_thread(path.read_bytes)
        print(render.import_report(await engine.import_history(pid, path.name, data)))
    return 0


@asynccontextmanager
async def _person_engine(settings: Settings, args: argparse.Namespace) -> AsyncIterator[tuple[Engine, int]]:
    """The engine and the person a one-shot command is about: ``--sample`` (the bundled history in a throwaway
    database, offline) or ``--user NAME``."""
    with tempfile.TemporaryDirectory() if args.sample else contextlib.nullcontext() as tmp:
        if tmp is not None:
            settings = _offline(settings, f"{tmp}/sample.db")
        engine = await bootstrap(settings)
        async with engine:
            pid = await engine.person("console", "sample" if args.sample else args.user)
            if args.sample:
                await engine.load_sample(pid)
            yield engine, pid


async def _personas(settings: Settings, args: argparse.Namespace) -> int:
    async with _person_engine(settings, args) as (engine, pid):
        report = await engine.personas(pid)
        if args.chart:
            charts = await engine.persona_charts(pid)
            for path, chart in zip(chart_paths(Path(args.chart), charts), charts, strict=True):
                await asyncio.to_thread(path.write_bytes, chart.png)
        print(json.dumps(render.personas_json(report), ensure_ascii=False, indent=2) if args.json
              else render.personas(report))
    return 0


async def _recommend(settings: Settings, args: argparse.Namespace) -> int:
    from .grammar import parse_recommend
    parsed = parse_recommend(list(args.request))           # a grammar error stops before anything is opened
    async with _person_engine(settings, args) as (engine, pid):
        req = parsed.request(pid, "console")
        if args.no_llm:
            req = dataclasses.replace(req, use_llm=False)
        result = await engine.recommend(req)
        print(json.dumps(render.recommendations_json(result), ensure_ascii=False, indent=2) if args.json
              else render.recommendations(result))
    return 0


def _offline(settings: Settings, path: str) -> Settings:
    """A throwaway database and no outside services: the bundled sample, offline."""
    settings = settings.model_copy(update={"storage": StorageSettings(path=path)})
    return settings.model_copy(update={"secrets": settings.secrets.model_copy(
        update={"trakt_client_id": None, "trakt_client_secret": None, "tmdb_api_key": None})})


async def _publish(settings: Settings, user: str | None) -> int:
    engine = await bootstrap(settings)
    async with engine:
        who = [await engine.find_person("console", user)] if user else None
        rep = await engine.publish(who)
    print(f"Published the picks of {rep.people} people who opted in: {rep.lists} Trakt lists, "
          f"{rep.collections} media-server collections" + (f"; {len(rep.failed)} failed (see the log)."
                                                            if rep.failed else "."))
    return 1 if rep.failed else 0


async def _alerts(settings: Settings, args: argparse.Namespace) -> int:
    """An operator's look at the alert scan: what it costs and what it decided; delivery stays with `run`."""
    engine = await bootstrap(settings)
    async with engine:
        rep = await engine.scan_alerts()
        rows = await engine.alert_counts()
        mine = []
        if args.user:
            mine = await engine.person_alerts(await engine.person("console", args.user, args.user))
        if args.json:
            print(json.dumps({"scan": dataclasses.asdict(rep),
                              "alerts": [{"kind": k, "status": st, "count": n} for k, st, n in rows],
                              "person": [{"title": a.title, "season": a.season, "kind": a.kind, "status": a.status,
                                          "due_at": a.due_at.isoformat()} for a in mine]}, indent=2))
        else:
            print(f"Scanned {rep.people} people and {rep.shows} shows ({rep.metadata_fetched} metadata refreshed): "
                  f"{rep.created} new alerts, {rep.updated} moved.")
            for k, st, n in rows:
                print(f"  {k:10} {st:8} {n}")
            for a in mine:
                print(render_alerts.alert(a) + f"  [{a.status}, due {a.due_at:%Y-%m-%d %H:%M} UTC]")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    if args.cmd == "keygen":
        from engine.plumbing.crypto import TokenCipher
        print(TokenCipher.generate_key())
        return 0
    try:
        settings = load_settings(args.config)
        setup_logging(settings)
        if args.cmd == "health":
            ok, why = check(heartbeat_path(settings.storage.path), args.max_age)
            print(why, file=sys.stdout if ok else sys.stderr)
            return 0 if ok else 1
        if args.cmd == "db":
            if args.db_cmd == "migrate-to":
                return _migrate_to(settings, args.url)
            return _backup(settings, args.dest)
        if args.cmd in (None, "run"):
            shard = parse_shard(getattr(args, "shard", None))
            if shard is not None and shard[1] > 1 and not settings.storage.url:
                raise MultitudesError("shards on SQLite", user_message="Several processes need the PostgreSQL store: "
                                      "set storage.url (SQLite serves one process).")
            if settings.secrets.telegram_token or settings.secrets.discord_token:
                return asyncio.run(_serve(settings, shard))
            return asyncio.run(_console(settings, None, fresh=args.fresh))
        if args.cmd == "console":
            return asyncio.run(_console(settings, args.user, fresh=args.fresh))
        if args.cmd == "sync":
            return asyncio.run(_sync(settings, args.user))
        if args.cmd == "import":
            return asyncio.run(_import(settings, args.user, args.file))
        if args.cmd == "personas":
            return asyncio.run(_personas(settings, args))
        if args.cmd == "recommend":
            return asyncio.run(_recommend(settings, args))
        if args.cmd == "alerts":
            return asyncio.run(_alerts(settings, args))
        if args.cmd == "publish":
            return asyncio.run(_publish(settings, args.user))
        if args.cmd == "eval":
            return eval_command(args)
        if args.cmd == "tune":
            return tune_command(args, argv)
        if args.cmd == "dataset":
            return convert_command(args)
    except MultitudesError as e:
        print(f"multitudes: {e.user_message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as e:               # no network, a platform refusing the token…: one clear line, details logged
        if not _unreachable(e):
            raise
        logging.getLogger("multitudes").info("start-up failed", exc_info=True)     # the file, not the console
        print(f"multitudes: could not reach a service it needs ({_describe(e)}). Check the network and the tokens; "
              "details are in the log file.", file=sys.stderr)
        return 3
    return 0


def _unreachable(e: BaseException) -> bool:
    """Network failures and refused credentials from any of the clients (httpx, python-telegram-bot, discord.py,
    aiohttp), however wrapped."""
    seen: BaseException | None = e
    while seen is not None:
        mod = type(seen).__module__.split(".")[0]
        if isinstance(seen, OSError | TimeoutError) or mod in ("httpx", "httpcore", "telegram", "discord", "aiohttp"):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _describe(e: BaseException) -> str:
    return redact(f"{type(e).__module__.split('.')[0]}: {type(e).__name__}: {str(e)[:160]}")



if __name__ == "__main__":
    sys.exit(main())
