"""Issue 15: the scheduler's scan and crowd jobs run in one process at a time — the one holding the ``scheduler``
lease in the shared database — and another process takes over when the leader stops renewing it; delivery, digests
and the sync wave run everywhere (claimed row by row). On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from engine.schedule import Scheduler
from tests.fakes.clock import FakeClock

pytestmark = pytest.mark.both_stores
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def test_one_leader_at_a_time_and_failover_when_it_lapses(make_engine: Any) -> None:
    clock = FakeClock(NOW)
    a = await make_engine(clock=clock)
    b = await make_engine(clock=clock)                   # a second process on the same database
    ttl = timedelta(minutes=15)
    assert await a.lead("scheduler", "a", ttl)
    assert not await b.lead("scheduler", "b", ttl)       # a holds it
    clock.advance(minutes=10)
    assert await a.lead("scheduler", "a", ttl)           # renewed
    clock.advance(minutes=10)
    assert not await b.lead("scheduler", "b", ttl)       # still a's: renewed 10 minutes ago
    clock.advance(minutes=6)                             # a stopped renewing (it died): the lease lapses
    assert await b.lead("scheduler", "b", ttl)
    assert not await a.lead("scheduler", "a", ttl)       # a back from the dead follows
    # many asking at once: exactly one wins
    clock.advance(minutes=20)
    got = await asyncio.gather(*(e.lead("scheduler", f"p{n}", ttl) for n, e in enumerate([a, b, a, b])))
    assert sum(got) == 1


async def test_a_follower_scheduler_runs_its_jobs_without_doing_their_work(tmp_path: Path, make_engine: Any) -> None:
    engine = await make_engine()
    assert await engine.lead("scheduler", "another-process", timedelta(minutes=15))
    s = Scheduler(engine, {}, store_path=str(tmp_path / "jobs.db"))
    await s.start()
    try:
        s.run_soon("alerts.scan")
        await asyncio.wait_for(s.wait_runs("scan", 1), 60)
        assert s.followed == 1                            # it asked, and another process leads: no scan here
        for job, kind in (("alerts.deliver", "deliver"), ("digest.weekly", "digest")):
            s.run_soon(job)                               # work claimed row by row is done in every process
            await asyncio.wait_for(s.wait_runs(kind, 1), 60)
        assert s.followed == 1
    finally:
        await s.stop()
    assert not await engine.lead("scheduler", s.owner, s.ttl)


async def test_two_processes_seeing_a_new_person_at_once_make_one(make_engine: Any) -> None:
    """A Discord user in two servers served by two shards speaks in both at once: one person, no error."""
    a = await make_engine()
    b = await make_engine()
    for uid in range(20):
        got = await asyncio.gather(a.person("discord", str(uid), "x"), b.person("discord", str(uid), "x"),
                                   a.person("discord", str(uid), "x"))
        assert len(set(got)) == 1


async def test_processes_starting_together_on_an_empty_postgresql_database_all_start(pg_server: str) -> None:
    """Issue 24 (14): several shard processes opening one empty database at once — every one of them starts (the
    migration table is created under the migration lock, not before it)."""
    from engine.store import PostgresStore
    from tests.conftest import pg_database
    for _ in range(3):
        async with pg_database(pg_server) as url:
            stores = [PostgresStore(url) for _ in range(4)]
            try:
                await asyncio.gather(*(s.open() for s in stores))
                versions = {await s.schema_version() for s in stores}
                assert len(versions) == 1 and versions.pop() >= 16
            finally:
                for s in stores:
                    await s.close()
