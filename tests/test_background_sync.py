"""Always current: the scheduler's sync wave keeps linked people fresh within a Trakt request budget, feeds
adoption, and unlinks (and tells once) a person whose authorisation was revoked."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from engine.schedule import Scheduler
from engine.store import SqliteStore
from engine.store.testing import count
from engine.usecases.refresh import RELINK_NOTICE
from engine.values.models import Mode, RecommendRequest
from tests.conftest import link_person
from tests.fakes.catalogue import history_rows
from tests.fakes.clock import FakeClock
from tests.fakes.trakt import FakeTrakt

pytestmark = pytest.mark.both_stores        # the engine on SQLite and on PostgreSQL

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


class Notices:
    """The notifier port, recording notices (the Telegram and Discord ones are tested in their own files)."""

    platform = "console"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send_alert(self, target: str, alert: Any) -> str:
        return "a"

    async def send_digest(self, target: str, digest: Any) -> str:
        return "d"

    async def send_notice(self, target: str, text: str) -> str:
        self.sent.append((target, text))
        return f"n{len(self.sent)}"


async def _world(fake_trakt: FakeTrakt, make_engine: Any, names: list[str], **env: str) -> tuple[Any, FakeClock,
                                                                                                  list[int]]:
    clock = FakeClock(NOW)
    for i, n in enumerate(names):
        fake_trakt.add_user(n, history=history_rows(40, 8, seed=30 + i))
    engine = await make_engine(trakt=fake_trakt, clock=clock, **env)
    pids = [await link_person(engine, fake_trakt, n) for n in names]
    return engine, clock, pids


async def test_a_wave_syncs_who_is_stale_and_costs_one_request_each_when_nothing_changed(
        fake_trakt: FakeTrakt, make_engine: Any) -> None:
    engine, clock, _ = await _world(fake_trakt, make_engine, ["ann", "bob", "cat"])
    first = await engine.sync_wave({})
    assert (first.due, first.synced, first.failed) == (3, 3, 0)            # never synced: all of them, fully
    again = await engine.sync_wave({})
    assert again.due == 0 and again.requests == 0                            # fresh: nobody, nothing spent
    clock.advance(minutes=61)                                                # past sync.stale_after_minutes = 60
    before = fake_trakt.count("/sync/")
    later = await engine.sync_wave({})
    assert (later.due, later.synced, later.unchanged) == (3, 3, 3)
    assert later.requests == 3 and fake_trakt.count("/sync/") - before == 3  # one last_activities each
    fake_trakt.add_plays("bob", [(fake_trakt._catalogue()[0], 1, 1, NOW)])
    clock.advance(minutes=61)
    changed = await engine.sync_wave({})
    assert changed.synced == 3 and changed.unchanged == 2


async def test_two_processes_waving_at_once_sync_each_stale_person_once(fake_trakt: FakeTrakt, make_engine: Any,
                                                                        secret_key: str) -> None:
    names = ["hal", "ida", "jon", "kim", "lea", "max"]
    a, clock, pids = await _world(fake_trakt, make_engine, names, MULTITUDES_SYNC__WAVE_CONCURRENCY="1",
                                  secret_key=secret_key)
    for p in pids:
        await a.sync(p)
    b = await make_engine(trakt=fake_trakt, clock=clock, MULTITUDES_SYNC__WAVE_CONCURRENCY="1",
                          secret_key=secret_key)                       # another process, same database and key
    clock.advance(minutes=61)
    before = fake_trakt.count("/sync/last_activities")
    ra, rb = await asyncio.gather(a.sync_wave({}), b.sync_wave({}))
    # both found people due (how many depends on which process looked first: a person one of them already holds
    # the lease of is not due for the other) …
    assert ra.due and rb.due and max(ra.due, rb.due) == len(names)
    assert ra.synced + rb.synced == len(names)              # …and between them synced each once
    assert fake_trakt.count("/sync/last_activities") - before == len(names)
    assert (await a.sync_wave({})).due == (await b.sync_wave({})).due == 0


async def test_the_budget_bounds_a_wave_and_the_rest_wait_their_turn(fake_trakt: FakeTrakt,
                                                                     make_engine: Any) -> None:
    engine, clock, pids = await _world(fake_trakt, make_engine, ["dan", "eve", "fay", "gus"],
                                       MULTITUDES_SYNC__WAVE_REQUESTS="2", MULTITUDES_SYNC__WAVE_CONCURRENCY="1")
    for p in pids:
        await engine.sync(p)
    clock.advance(minutes=61)
    w1 = await engine.sync_wave({})
    assert (w1.due, w1.synced, w1.left, w1.requests) == (4, 2, 2, 2)       # two people fit 2 requests
    clock.advance(minutes=1)
    w2 = await engine.sync_wave({})
    assert (w2.due, w2.synced, w2.left) == (2, 2, 0)                        # the others, not the same two again


async def test_the_budget_counts_the_waves_own_requests_not_the_rest_of_the_bot(fake_trakt: FakeTrakt,
                                                                                 make_engine: Any) -> None:
    """Under load the bot talks to Trakt for /sync and /recommend too; that must not eat the wave's budget."""
    engine, clock, pids = await _world(fake_trakt, make_engine, ["nia", "oli", "pam", "quy", "rob"],
                                       MULTITUDES_SYNC__WAVE_REQUESTS="2", MULTITUDES_SYNC__WAVE_PEOPLE="2",
                                       MULTITUDES_SYNC__WAVE_CONCURRENCY="1")
    for p in pids:
        await engine.sync(p)
    clock.advance(minutes=61)
    before = fake_trakt.count("/sync/")
    rep, *_ = await asyncio.gather(engine.sync_wave({}), *(engine.sync(p) for p in pids[2:]))
    assert (rep.due, rep.synced, rep.requests) == (2, 2, 2)        # nia and oli, one request each
    assert fake_trakt.count("/sync/") - before > rep.requests       # the others' syncs were counted apart


async def test_adoption_is_noticed_without_anyone_typing_sync(fake_trakt: FakeTrakt, make_engine: Any,
                                                              probe: SqliteStore) -> None:
    engine, clock, (pid,) = await _world(fake_trakt, make_engine, ["hal"])
    await engine.sync(pid)
    recs = await engine.recommend(RecommendRequest(pid, mode=Mode.AUTO, k=3, use_llm=False))
    picked = recs.items[0]
    show = next(e for e in fake_trakt._catalogue() if e["trakt_id"] == picked.trakt_id)
    fake_trakt.add_plays("hal", [(show, 1, 1, NOW + timedelta(hours=1))])
    clock.advance(minutes=61)
    assert (await engine.sync_wave({})).synced == 1
    assert await count(probe, "adoptions", person_id=pid, state="started") == 1


async def test_a_revoked_link_is_unlinked_and_told_once(fake_trakt: FakeTrakt, make_engine: Any,
                                                        probe: SqliteStore) -> None:
    engine, clock, (ivy, joe) = await _world(fake_trakt, make_engine, ["ivy", "joe"])
    await engine.sync_wave({})
    fake_trakt.expire_access_tokens()
    fake_trakt.refresh.pop(next(t for t, u in fake_trakt.refresh.items() if u == "ivy"))   # revoked at Trakt
    clock.advance(days=8)                                                    # past the access token's life too
    notices = Notices()
    w = await engine.sync_wave({"console": notices})
    assert w.unlinked == 1 and w.synced == 1
    assert notices.sent == [("user:ivy", RELINK_NOTICE)]
    assert await count(probe, "trakt_tokens", person_id=ivy) == 0
    assert await count(probe, "trakt_tokens", person_id=joe) == 1
    clock.advance(minutes=61)
    await engine.sync_wave({"console": notices})
    assert len(notices.sent) == 1                                            # told once


async def test_the_scheduler_runs_the_wave(tmp_path: Path, fake_trakt: FakeTrakt, make_engine: Any) -> None:
    engine, _, _ = await _world(fake_trakt, make_engine, ["kay"])
    s = Scheduler(engine, {}, store_path=str(tmp_path / "jobs.db"))
    await s.start()
    try:
        assert "sync.wave" in s.next_runs()
        s.run_soon("sync.wave")
        await asyncio.wait_for(s.wait_runs("sync", 1), 60)
    finally:
        await s.stop()
    assert (await engine.sync_wave({})).due == 0                             # the job synced kay
