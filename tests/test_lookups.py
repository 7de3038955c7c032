"""What a list reads from outside is read again only when it may have changed: Trakt's own picks for a person
are kept in the process for half an hour (and dropped when a 👎 hides one, or the person goes); the lists everyone
shares are kept for their lifetime in the store and, decoded, in the process — never longer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.plumbing.clock import StoppedClock
from engine.values.models import FeedbackKind, RecommendRequest
from tests.conftest import link_person
from tests.fakes.catalogue import history_rows
from tests.fakes.tmdb import FakeTmdb
from tests.fakes.trakt import FakeTrakt

pytestmark = pytest.mark.both_stores


async def test_trakts_own_picks_are_asked_once_per_half_hour_and_dropped_when_hidden_or_forgotten(
        make_engine: Any, fake_trakt: FakeTrakt, fake_tmdb: FakeTmdb) -> None:
    """Every list gathers Trakt's recommendations for the person; Trakt recomputes them rarely, so they are kept in
    the process for half an hour — asked again after a 👎 hides one (it must not come back from the copy) and gone
    with the person."""
    clock = StoppedClock(datetime(2026, 12, 8, 20, 0, tzinfo=UTC))
    fake_trakt.add_user("ann", history=history_rows(300, 20, years=2, seed=43))
    engine = await make_engine(trakt=fake_trakt, tmdb=fake_tmdb, clock=clock)
    pid = await link_person(engine, fake_trakt, "ann")
    await engine.sync(pid)
    await engine.update_settings(pid, trakt_write=True)

    def asked() -> int:
        return fake_trakt.count("/recommendations/shows", "GET")

    first = await engine.recommend(RecommendRequest(pid, k=2, use_llm=False))
    await engine.recommend(RecommendRequest(pid, k=2, mode="all", use_llm=False))
    assert asked() == 1
    clock.at += timedelta(minutes=31)
    await engine.recommend(RecommendRequest(pid, k=2, use_llm=False))
    assert asked() == 2                                                     # half an hour on: asked again
    await engine.record_feedback(pid, first.items[0].event_id, FeedbackKind.NOT_FOR_ME)   # hidden on Trakt
    await engine.recommend(RecommendRequest(pid, k=2, use_llm=False))
    assert asked() == 3
    await engine.forget(pid)
    assert not [k for k in engine_trakt(engine)._personal if k[0] == pid]


def engine_trakt(engine: Any) -> Any:
    return engine._s.trakt_writes.trakt          # the one Trakt client every service shares


async def test_a_shared_list_read_from_memory_lives_no_longer_than_its_stored_entry(
        make_engine: Any, fake_trakt: FakeTrakt, fake_tmdb: FakeTmdb) -> None:
    """Trakt's trending list is asked once an hour for everyone: within the hour every list reads this process's
    decoded copy; past it, Trakt is asked again (the copy expires with the stored entry)."""
    clock = StoppedClock(datetime(2026, 12, 8, 20, 0, tzinfo=UTC))
    fake_trakt.add_user("ann", history=history_rows(300, 20, years=2, seed=43))
    engine = await make_engine(trakt=fake_trakt, tmdb=fake_tmdb, clock=clock)
    pid = await link_person(engine, fake_trakt, "ann")
    await engine.sync(pid)
    for _ in range(3):
        await engine.recommend(RecommendRequest(pid, k=2, use_llm=False))
    assert fake_trakt.count("/shows/trending", "GET") == 1
    clock.at += timedelta(minutes=59)
    await engine.recommend(RecommendRequest(pid, k=2, use_llm=False))
    assert fake_trakt.count("/shows/trending", "GET") == 1
    clock.at += timedelta(minutes=2)
    await engine.recommend(RecommendRequest(pid, k=2, use_llm=False))
    assert fake_trakt.count("/shows/trending", "GET") == 2
