"""The store's contract, run against an in-memory and a file database: repositories, units of work that are
all-or-nothing even when cancelled at any await, ids never reused, and the upgrade path of the schema."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from engine.store import PostgresStore, SqliteStore, Store
from engine.store.records import NewEvent
from engine.store.sqlite import migrations
from engine.store.testing import count, open_transactions
from engine.values.models import FeedbackKind, Play, ShowIds, ShowRef
from tests.conftest import pg_database

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "file", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "postgresql":
        async with pg_database(request.getfixturevalue("pg_server")) as url, PostgresStore(url) as pg:
            yield pg
        return
    s = SqliteStore(":memory:" if request.param == "memory" else tmp_path / "s.db")
    await s.open()
    yield s
    await s.close()


def ref(trakt: int | None = None, tmdb: int | None = None, imdb: str | None = None, title: str = "T") -> ShowRef:
    return ShowRef(ShowIds(trakt=trakt, tmdb=tmdb, imdb=imdb), title, 2020)


async def test_migrations_and_foreign_keys(store: Store) -> None:
    assert await store.schema_version() == max(n for n, _ in migrations())
    with pytest.raises((sqlite3.IntegrityError, asyncpg.IntegrityConstraintViolationError)):
        async with store.unit() as uow:
            await uow.people.note_chat_member("telegram", "-1", 999, NOW)      # nobody 999: refused
    await store.migrate()                                                       # idempotent
    assert await store.schema_version() == max(n for n, _ in migrations())


async def test_shows_merge_ids_from_different_sources(store: Store) -> None:
    async with store.unit() as uow:
        a = await uow.shows.upsert([ref(trakt=1, title="Show")])
        b = await uow.shows.upsert([ref(tmdb=10, imdb="tt1", title="Show")])
    assert a[("trakt", 1)] != b[("tmdb", 10)]
    async with store.unit() as uow:
        c = await uow.shows.upsert([ref(trakt=1, tmdb=10, title="Show")])   # now one source knows both ids
        got = await uow.shows.by_ids(ShowIds(trakt=1))
    assert c[("trakt", 1)] == a[("trakt", 1)]
    assert got is not None and got.ids.tmdb is None                          # never steals an id another row owns


async def test_plays_deduplicate_by_key_and_forget_cascades(store: Store) -> None:
    async with store.unit() as uow:
        pid = await uow.people.create("discord", "1", "A", NOW)
        plays = [Play(ref(trakt=5), 1, n, NOW, history_id=100 + n) for n in range(1, 4)]
        assert await uow.history.add_plays(pid, plays, "trakt") == 3
        assert await uow.history.add_plays(pid, plays, "trakt") == 0
        assert len(await uow.history.recent(pid)) == 3
    async with store.unit() as uow:
        await uow.people.delete(pid)
    assert await count(store, "plays") == 0 and await count(store, "identities") == 0


async def test_same_trakt_account_from_two_platforms_is_one_person(store: Store) -> None:
    async with store.unit() as uow:
        d = await uow.people.create("discord", "1", "A", NOW)
        t = await uow.people.create("telegram", "2", "A", NOW)
        assert d != t
        assert await uow.people.attach_trakt_user(d, "alice") == d
        assert await uow.people.attach_trakt_user(t, "alice") == d
        assert await uow.people.find("telegram", "2") == d


async def test_a_failed_unit_leaves_nothing(store: Store) -> None:
    async with store.unit() as uow:
        pid = await uow.people.create("console", "x", None, NOW)
    with pytest.raises(RuntimeError):
        async with store.unit() as uow:
            await uow.people.set_display_name(pid, "changed")
            raise RuntimeError("crash mid-write")
    async with store.read() as uow:
        person = await uow.people.get(pid)
    assert person is not None and person.display_name is None


async def test_units_do_not_nest(store: Store) -> None:
    async with store.unit():
        with pytest.raises(RuntimeError, match="do not nest"):
            async with store.read():
                pass


async def _write(store: Store, n: int) -> None:
    """One unit with several statements of several kinds."""
    async with store.unit() as uow:
        pid = await uow.people.create("console", f"u{n}", "X", NOW)
        await uow.people.set_timezone(pid, "Europe/Paris")
        await uow.history.add_plays(pid, [Play(ref(trakt=7000 + n), 1, e, NOW, history_id=n * 100 + e)
                                          for e in range(1, 4)], "trakt")
        await uow.events.record([NewEvent(pid, (await uow.shows.by_ids(ShowIds(trakt=7000 + n))).id,  # type: ignore[union-attr]
                                          "r", "blend", None, (), 1, "auto", None, "", False, None)], NOW)


def _cancel_at(store: Store, k: int) -> Callable[[], int]:
    """Cancel the current task while it awaits the k-th statement it sends (the statement is already queued).
    PostgreSQL: every statement and transaction command of asyncpg's connections, BEGIN and COMMIT included."""
    conn: Any
    if isinstance(store, PostgresStore):
        import asyncpg
        conn = asyncpg.connection.Connection
        names: tuple[str, ...] = ("execute", "fetch", "fetchrow", "executemany")
        txn = asyncpg.transaction.Transaction
        originals = {name: getattr(conn, name) for name in names}
        originals |= {f"txn.{name}": getattr(txn, name) for name in ("start", "commit")}
    else:
        conn, txn = store.conn, None
        originals = {name: getattr(conn, name) for name in ("execute", "execute_fetchall", "executemany")}
    seen = 0

    def wrap(name: str) -> Any:
        orig = originals[name]

        async def call(*a: Any, **kw: Any) -> Any:
            nonlocal seen
            seen += 1
            if seen == k:
                task = asyncio.current_task()
                assert task is not None
                asyncio.get_running_loop().call_soon(task.cancel)
            return await orig(*a, **kw)
        return call

    def target(name: str) -> tuple[Any, str]:
        return (txn, name[4:]) if name.startswith("txn.") else (conn, name)

    for name in originals:
        setattr(*target(name), wrap(name))

    def restore() -> int:
        for name, orig in originals.items():
            setattr(*target(name), orig)
        return seen
    return restore




async def test_a_unit_cancelled_at_any_await_leaves_no_transaction_open(store: Store) -> None:
    restore = _cancel_at(store, 10**9)              # count the awaits of one unit first
    await _write(store, 0)
    awaits = restore()
    assert awaits >= 8
    for k in range(1, awaits + 1):
        restore = _cancel_at(store, k)
        task = asyncio.ensure_future(_write(store, k))
        try:
            await task
            cancelled = False
        except asyncio.CancelledError:
            cancelled = True
        finally:
            restore()
        assert cancelled or k == awaits, k
        assert not await open_transactions(store), f"cancelled at await {k} of {awaits}: a transaction stayed open"
        async with store.read() as uow:               # the next unit works, and the cancelled one is all or nothing
            pid = await uow.people.find("console", f"u{k}")
            plays = len(await uow.history.recent(pid)) if pid is not None else 0
            events = len(await uow.events.of_person(pid)) if pid is not None else 0
        assert (pid is None and plays == 0) or (plays == 3 and events == 1), (k, pid, plays, events)


async def test_ids_are_never_reused(store: Store) -> None:
    async with store.unit() as uow:
        alice = await uow.people.create("telegram", "1", "Alice", NOW)
    async with store.unit() as uow:
        await uow.people.delete(alice)
    async with store.unit() as uow:
        bob = await uow.people.create("telegram", "2", "Bob", NOW)
    assert bob > alice


async def test_an_old_database_upgrades_with_everything_kept(tmp_path: Path) -> None:
    """A database written by the release that stopped at schema 7 (tests/data/store_v7.sql, dumped from what the
    code of commit a1ce850^ wrote: Ann with one play, one shown pick she liked, a deleted person) opens under
    today's code with every row kept, its shows counted as verified, and cascades that still hold."""
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    try:
        conn.executescript((Path(__file__).parent / "data" / "store_v7.sql").read_text())
    finally:
        conn.close()
    new = await SqliteStore(db).open()
    try:
        assert await new.schema_version() == max(n for n, _ in migrations())
        async with new.read() as uow:
            pid = await uow.people.find("telegram", "1")
            assert pid == 1 and await uow.people.find("telegram", "2") is None
            assert (await uow.feedback.state(pid, 1, FeedbackKind.LIKED)).active  # type: ignore[union-attr]
            assert [e.id for e in await uow.events.of_person(pid)] == [1]
            show = await uow.shows.by_ids(ShowIds(trakt=9))
            assert show is not None and show.verified and show.ids.trakt == 9
        async with new.unit() as uow:                                        # cascades still hold after the rebuild
            await uow.people.delete(pid)
        assert await count(new, "feedback") == 0 and await count(new, "rec_events") == 0
    finally:
        await new.close()


async def test_a_request_reads_through_indexes(tmp_path: Path) -> None:
    """Every statement a /recommend, a feedback tap and the bandit's statistics run, EXPLAINed: none scans the
    big per-person tables (plays, rec_events, feedback, adoptions, ratings) — each finds its rows by index."""
    import re

    from engine import bootstrap
    from engine.store.testing import query_plan, traced
    from engine.values.models import RecommendRequest
    from tests.conftest import settings_for
    from tests.fakes.clock import FakeClock

    store = await SqliteStore(tmp_path / "multitudes.db").open()
    engine = await bootstrap(settings_for(tmp_path), store=store, clock=FakeClock(), seed=0)
    try:
        pid = await engine.person("console", "x")
        await engine.load_sample(pid)
        await engine.warm()
        await engine.personas(pid)
        first = await engine.recommend(RecommendRequest(pid, k=5))
        async with traced(store) as sqls:
            r = await engine.recommend(RecommendRequest(pid, k=5))
            await engine.record_feedback(pid, r.items[0].event_id, "liked")
            await engine.recommend(RecommendRequest(pid, k=5, mode="like", like=first.items[0].title))
        reads = [s for s in dict.fromkeys(sqls) if s.lstrip().upper().startswith(("SELECT", "WITH"))]
        assert len(reads) >= 10
        scans = {}
        for sql in reads:
            plan = await query_plan(store, sql)
            bad = [p for p in plan if re.match(r"SCAN (plays|rec_events|feedback|adoptions|ratings)\b", p)]
            if bad:
                scans[sql] = plan
        assert not scans, scans
    finally:
        await engine.close()


async def test_units_writing_overlapping_shows_in_opposite_orders_never_deadlock(store: Store) -> None:
    """Shows are shared rows: two processes storing the same new shows (a related list, a page of history) in
    different orders must queue on PostgreSQL, not deadlock."""
    refs = [ref(trakt=10_000 + i, tmdb=50_000 + i, title=f"S{i}") for i in range(240)]

    async def put(xs: list[ShowRef]) -> dict[Any, int]:
        async with store.unit() as uow:
            return await uow.shows.upsert(xs)

    async def meta(ids: list[int]) -> None:
        async with store.unit() as uow:
            await uow.shows.save_metas([(i, None, datetime(2027, 1, 1, tzinfo=UTC)) for i in ids],
                                       datetime(2026, 12, 1, tzinfo=UTC))

    for n in range(4):
        batch = refs[n * 60:(n + 1) * 60]
        a, b, c = await asyncio.gather(put(batch), put(batch[::-1]), put(batch[30:] + batch[:30]))
        assert a == b == c
        ids = sorted(set(a.values()))
        await asyncio.gather(meta(ids), meta(ids[::-1]), meta(ids[20:] + ids[:20]))


async def test_a_file_that_is_not_a_database_is_refused_and_leaves_no_thread_behind(tmp_path: Path) -> None:
    import threading

    bad = tmp_path / "multitudes.db"
    bad.write_bytes(b"this is not a SQLite database, just a file someone put here" * 100)
    before = {t.ident for t in threading.enumerate()}
    with pytest.raises(sqlite3.DatabaseError):
        await SqliteStore(bad).open()
    for t in threading.enumerate():
        if t.ident not in before:
            t.join(timeout=2.0)
            assert not t.is_alive(), t.name
    assert bad.read_bytes().startswith(b"this is not")        # nothing written over it
