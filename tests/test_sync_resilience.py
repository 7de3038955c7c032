"""Rate limits, outages, timeouts and a SIGKILL mid-sync: the sync waits, stops resumably, and loses nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from engine.store import SqliteStore
from engine.store.records import SyncState
from engine.values.errors import ServiceUnavailable
from tests.conftest import FAST, link_person, trakt_client
from tests.fakes.catalogue import history_rows
from tests.fakes.trakt import FakeTrakt

pytestmark = pytest.mark.both_stores        # the engine on SQLite and on PostgreSQL

ROOT = Path(__file__).resolve().parents[1]


async def all_ids(probe: SqliteStore, pid: int) -> list[int]:
    async with probe.read() as uow:
        return sorted(p.history_id for p in await uow.history.plays(pid) if p.history_id is not None)


async def sync_state(probe: SqliteStore, pid: int) -> SyncState:
    async with probe.read() as uow:
        return await uow.sync.state(pid)


@pytest.mark.parametrize("with_header", [True, False])
async def test_429_with_retry_after_waits_and_completes(make_engine: Any,
                                                        probe: SqliteStore, with_header: bool) -> None:
    # a real token bucket: 6 requests of burst, then about 10 per second
    async with FakeTrakt(rate_capacity=6, rate_period=0.6, ratelimit_header=with_header) as fake:
        fake.add_user("pat", history=history_rows(900, 30, seed=8))
        engine = await make_engine(trakt=fake)
        pid = await link_person(engine, fake, "pat")
        t0 = time.monotonic()
        rep = await engine.sync(pid)
        limited = [r for r in fake.requests if r.status == 429]
        assert limited, "the bucket should have run dry"
        assert all(("X-Ratelimit" in r.response_headers) == with_header for r in limited)
        assert all(r.response_headers["Retry-After"].isdigit() for r in limited)
        assert rep.new_plays == 900
        assert await all_ids(probe, pid) == sorted(r["id"] for r in fake.users["pat"].history)
        assert time.monotonic() - t0 >= 1.0                   # it honoured Retry-After (whole seconds)


async def test_retry_after_as_http_date(fake_trakt: FakeTrakt, make_engine: Any, probe: SqliteStore) -> None:
    from email.utils import formatdate
    fake_trakt.add_user("quin")
    engine = await make_engine(trakt=fake_trakt)
    pid = await link_person(engine, fake_trakt, "quin")
    fake_trakt.inject(429, 1, headers={"Retry-After": formatdate(time.time() + 1, usegmt=True)})
    t0 = time.monotonic()
    async with trakt_client(engine.settings, probe) as client:
        await client.last_activities(pid)
    assert 0.0 < time.monotonic() - t0 < 5


async def test_short_5xx_storm_and_timeouts_back_off_and_complete(fake_trakt: FakeTrakt, make_engine: Any) -> None:
    fake_trakt.add_user("rae", history=history_rows(600, 25, seed=9))
    engine = await make_engine(trakt=fake_trakt, MULTITUDES_TRAKT__HTTP__TIMEOUT_S="0.3")
    pid = await link_person(engine, fake_trakt, "rae")
    fake_trakt.inject(503, 2, path_prefix="/sync/history")
    fake_trakt.inject(502, 1)
    fake_trakt.inject(200, 1, path_prefix="/sync/watched", delay=1.0)   # times out once
    rep = await engine.sync(pid)
    assert rep.new_plays == 600
    assert sum(1 for r in fake_trakt.requests if r.status in (502, 503)) == 3


async def test_long_outage_stops_resumably_then_resumes(fake_trakt: FakeTrakt, make_engine: Any,
                                                        probe: SqliteStore) -> None:
    fake_trakt.add_user("sam", history=history_rows(2000, 60, seed=10))
    engine = await make_engine(trakt=fake_trakt)
    pid = await link_person(engine, fake_trakt, "sam")
    served: list[int] = []

    def on_page(path: str, page: int) -> None:
        served.append(page)
        if len(served) == 6:
            fake_trakt.inject(503, 10_000)                    # Trakt goes down mid-sync

    fake_trakt.on_page = on_page
    with pytest.raises(ServiceUnavailable) as e:
        await engine.sync(pid)
    assert e.value.resumable and "Nothing was lost" in e.value.user_message
    state = await sync_state(probe, pid)
    assert state.job and state.job["pages_done"]
    assert "history" not in state.activities                 # not marked done
    partial = await all_ids(probe, pid)
    assert 0 < len(partial) < 2000
    assert state.last_error and "ServiceUnavailable" in state.last_error

    fake_trakt.injections.clear()
    fake_trakt.on_page = None
    before = len(fake_trakt.requests)
    await engine.sync(pid)
    pages = [int(r.query["page"]) for r in fake_trakt.requests[before:] if r.path == "/sync/history/shows"]
    assert set(pages).isdisjoint(set(state.job["pages_done"]) - {1})   # committed pages are not read again
    assert await all_ids(probe, pid) == sorted(r["id"] for r in fake_trakt.users["sam"].history)
    assert (await sync_state(probe, pid)).job is None


async def test_sigkill_mid_sync_resumes_with_nothing_lost_or_duplicated(tmp_path: Path, fake_trakt: FakeTrakt,
                                                                        make_engine: Any,
                                                                        probe: SqliteStore, secret_key: str) -> None:
    fake_trakt.add_user("tess", history=history_rows(3000, 80, seed=12))
    fake_trakt.latency = 0.01
    engine = await make_engine(trakt=fake_trakt, secret_key=secret_key)
    pid = await link_person(engine, fake_trakt, "tess")
    await engine.close()

    env = {k: v for k, v in os.environ.items() if not k.startswith("MULTITUDES_")}
    env.update(FAST)
    env.update({
        "MULTITUDES_STORAGE__PATH": str(tmp_path / "multitudes.db"),
        **({"MULTITUDES_STORAGE__URL": engine.settings.storage.url} if engine.settings.storage.url else {}),
        "MULTITUDES_LOGGING__FILE": str(tmp_path / "sub.log"),
        "MULTITUDES_TRAKT__BASE_URL": fake_trakt.url,
        "MULTITUDES_TRAKT_CLIENT_ID": fake_trakt.client_id,
        "MULTITUDES_TRAKT_CLIENT_SECRET": fake_trakt.client_secret,
        "MULTITUDES_SECRET_KEY": secret_key,
        "PYTHONPATH": str(ROOT),
    })
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "sync", "--user", "tess", env=env, cwd=str(tmp_path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    served: list[int] = []

    def on_page(path: str, page: int) -> None:
        served.append(page)
        if len(served) == 12:                 # later pages wait: the child cannot run ahead of the kill
            fake_trakt.gate = asyncio.Event()

    fake_trakt.on_page = on_page
    # kill once the child reports committed pages (its resume point in the database), not at a guessed moment
    deadline = asyncio.get_running_loop().time() + 60
    while not (await sync_state(probe, pid)).job or len((await sync_state(probe, pid)).job["pages_done"]) < 5:
        assert proc.returncode is None and asyncio.get_running_loop().time() < deadline, "the child never committed"
        await asyncio.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    await asyncio.wait_for(proc.wait(), 60)
    assert proc.returncode == -signal.SIGKILL
    assert fake_trakt.gate is not None
    fake_trakt.gate.set()
    fake_trakt.gate = None

    fake_trakt.on_page = None
    engine = await make_engine(trakt=fake_trakt, secret_key=secret_key)
    state = await sync_state(probe, pid)
    assert state.job is not None and state.lease_owner               # the dead process's lease is still there
    before_ids = await all_ids(probe, pid)
    assert 0 < len(before_ids) < 3000
    before = len(fake_trakt.requests)
    await engine.sync(pid)                                             # stale lease is taken over
    history_pages = [r for r in fake_trakt.requests[before:] if r.path == "/sync/history/shows"]
    assert len(history_pages) < 30                                      # resumed, not restarted
    ids = await all_ids(probe, pid)
    assert ids == sorted(r["id"] for r in fake_trakt.users["tess"].history)


async def test_a_long_sync_keeps_its_lease_while_it_makes_progress(fake_trakt: Any, make_engine: Any,
                                                                  probe: Any) -> None:
    """Issue 24 (12): a sync that runs past its lease (900 s) renews it with every batch of pages it commits, so no
    other process takes the person over and syncs them twice at once."""
    from datetime import timedelta

    from tests.fakes.catalogue import history_rows
    from tests.fakes.clock import FakeClock
    fake_trakt.add_user("lena", history=history_rows(3000, 40, years=3, seed=12))
    clock = FakeClock()
    engine = await make_engine(trakt=fake_trakt, clock=clock, MULTITUDES_TRAKT__PAGE_CONCURRENCY="1")
    pid = await link_person(engine, fake_trakt, "lena")
    taken: list[bool] = []
    pages: list[int] = []
    twenty = asyncio.Event()

    async def probe_lease() -> None:
        async with probe.unit() as uow:
            now = clock.now()
            taken.append(await uow.sync.acquire_lease(pid, "other-process", now + timedelta(seconds=900), now))

    def on_page(path: str, page: int) -> None:
        if "/sync/history" in path:
            pages.append(page)
            clock.advance(seconds=400)          # slow pages: the whole sync takes far longer than the lease
            if len(pages) == 20:
                twenty.set()
    fake_trakt.on_page = on_page
    fake_trakt.latency = 0.02                   # pages come in one at a time, as from a real server
    task = asyncio.create_task(engine.sync(pid))
    await asyncio.wait_for(twenty.wait(), 30)
    await asyncio.sleep(0.05)                   # the client takes in the page it was just sent
    await probe_lease()
    rep = await task
    assert rep.new_plays == 3000 and len(pages) >= 20
    assert taken == [False]                     # 8,000 s in, the lease was still this sync's
