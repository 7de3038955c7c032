"""History sync against the loopback Trakt: complete, minimal, incremental, de-duplicated."""

from __future__ import annotations

import asyncio
import copy
import math
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import pytest

from engine.store import SqliteStore
from engine.store.testing import count
from engine.values.errors import SyncInProgress
from engine.values.models import ShowIds
from tests.conftest import link_person
from tests.fakes.catalogue import catalogue, history_rows
from tests.fakes.trakt import FakeTrakt, list_row, rating_row

pytestmark = pytest.mark.both_stores        # the engine on SQLite and on PostgreSQL

HEAVY_PLAYS, HEAVY_SHOWS = 20_000, 1_000


@lru_cache(maxsize=1)
def _heavy() -> tuple[dict[str, Any], ...]:
    return tuple(history_rows(HEAVY_PLAYS, HEAVY_SHOWS, years=6.0, seed=11))


def heavy_user(fake: FakeTrakt, name: str = "heavy") -> None:
    cat = catalogue()
    fake.add_user(
        name, history=copy.deepcopy(list(_heavy())),
        ratings=[rating_row(e, 1 + i % 10) for i, e in enumerate(cat[:120])],
        watchlist=[list_row(e) for e in cat[1200:1240]],
        hidden={"progress_watched": [list_row(e, "hidden_at") for e in cat[1300:1303]],
                "dropped": [list_row(e, "hidden_at") for e in cat[1310:1312]]},
    )


def minimal_first_sync(plays: int, limit: int = 100) -> int:
    # last_activities, settings, history pages, watched (count check), ratings, watchlist, hidden, dropped
    return 1 + 1 + math.ceil(plays / limit) + 1 + 1 + 1 + 1 + 1


async def plays_in_store(probe: SqliteStore, pid: int) -> list[tuple[Any, ...]]:
    async with probe.read() as uow:
        return [(p.history_id, p.show_id, p.season, p.episode, p.watched_at) for p in await uow.history.plays(pid)]


async def test_heavy_user_syncs_completely_with_minimal_requests(fake_trakt: FakeTrakt, make_engine: Any,
                                                                 probe: SqliteStore) -> None:
    heavy_user(fake_trakt)
    rows = _heavy()
    assert len(rows) >= 20_000
    assert len({r["show"]["ids"]["trakt"] for r in rows}) >= 1_000
    newest, oldest = (datetime.fromisoformat(rows[i]["watched_at"][:-1]) for i in (0, -1))
    span = newest - oldest
    assert span >= timedelta(days=5 * 365)

    engine = await make_engine(trakt=fake_trakt)
    pid = await link_person(engine, fake_trakt, "heavy")
    before = len(fake_trakt.requests)
    report = await engine.sync(pid)
    made = len(fake_trakt.requests) - before

    stored = await plays_in_store(probe, pid)
    assert [r[0] for r in stored] == sorted(r["id"] for r in rows)        # every play, none duplicated
    assert len({r[0] for r in stored}) == len(stored)
    assert len({r[1] for r in stored}) == len({r["show"]["ids"]["trakt"] for r in rows})
    assert report.new_plays == len(rows)
    assert made == minimal_first_sync(len(rows)), [r.path for r in fake_trakt.requests[before:]][:20]
    # ratings, watchlist, hidden and dropped are stored; aired_episodes kept from Trakt
    counts = (await count(probe, "ratings", person_id=pid), await count(probe, "watchlist", person_id=pid),
              await count(probe, "hidden", person_id=pid, kind="hidden"),
              await count(probe, "hidden", person_id=pid, kind="dropped"))
    assert counts == (120, 40, 3, 2)
    async with probe.read() as uow:
        played = await uow.shows.many({r[1] for r in stored})
    assert all(s.aired_episodes is not None for s in played.values())

    # nothing changed: exactly one request
    before = len(fake_trakt.requests)
    again = await engine.sync(pid)
    assert len(fake_trakt.requests) - before == 1, [r.path for r in fake_trakt.requests[before:]]
    assert fake_trakt.requests[-1].path == "/sync/last_activities"
    assert again.unchanged and again.new_plays == 0

    # three new plays: only what changed is fetched
    cat = catalogue()
    now = datetime.now(UTC) - timedelta(minutes=5)
    fake_trakt.add_plays("heavy", [(cat[3], 9, 1, now), (cat[3], 9, 2, now + timedelta(minutes=1)),
                                   (cat[1400], 1, 1, now + timedelta(minutes=2))])
    before = len(fake_trakt.requests)
    rep = await engine.sync(pid)
    paths = [r.path for r in fake_trakt.requests[before:]]
    assert paths == ["/sync/last_activities", "/sync/history/shows", "/sync/watched/shows"], paths
    hist = fake_trakt.requests[before + 1]
    assert "start_at" in hist.query and hist.query["page"] == "1"
    assert rep.new_plays == 3
    assert len(await plays_in_store(probe, pid)) == len(rows) + 3


async def test_backdated_and_removed_plays_are_reconciled(fake_trakt: FakeTrakt, make_engine: Any,
                                                          probe: SqliteStore) -> None:
    cat = catalogue()
    fake_trakt.add_user("alice", history=history_rows(300, 20, years=2, seed=3))
    engine = await make_engine(trakt=fake_trakt)
    pid = await link_person(engine, fake_trakt, "alice")
    await engine.sync(pid)
    u = fake_trakt.users["alice"]
    by_id = {e["trakt_id"]: e for e in cat}
    # 1) a play logged today but dated years ago (a start_at window cannot see it), and a removed play
    victim = u.history[-1]["id"]
    fake_trakt.remove_play("alice", victim)
    (backdated,) = fake_trakt.add_plays("alice", [(cat[5], 1, 1, datetime(2023, 1, 5, 20, tzinfo=UTC))])
    before = len(fake_trakt.requests)
    rep = await engine.sync(pid)
    ids = {r[0] for r in await plays_in_store(probe, pid)}
    assert backdated in ids and victim not in ids
    assert ids == {r["id"] for r in u.history}
    assert rep.removed_plays == 1
    per_show = {r.path for r in fake_trakt.requests[before:] if r.path.startswith("/sync/history/shows/")}
    assert len(per_show) == 2                 # only the two affected shows were read again

    # 2) a removal and a back-dated play in the same show: the count is unchanged, last_updated_at is not
    victim2 = u.history[-1]
    show = by_id[victim2["show"]["ids"]["trakt"]]
    fake_trakt.remove_play("alice", victim2["id"])
    (backdated2,) = fake_trakt.add_plays("alice", [(show, 7, 7, datetime(2022, 3, 1, 21, tzinfo=UTC))])
    await engine.sync(pid)
    ids = {r[0] for r in await plays_in_store(probe, pid)}
    assert backdated2 in ids and victim2["id"] not in ids
    assert ids == {r["id"] for r in u.history}


async def test_two_syncs_of_one_person_never_overlap(fake_trakt: FakeTrakt, make_engine: Any,
                                                     probe: SqliteStore, secret_key: str) -> None:
    fake_trakt.add_user("bob", history=history_rows(500, 30, years=2, seed=5))
    fake_trakt.latency = 0.01
    engine = await make_engine(trakt=fake_trakt, secret_key=secret_key)
    pid = await link_person(engine, fake_trakt, "bob")
    r1, r2 = await asyncio.gather(engine.sync(pid), engine.sync(pid))
    assert r1 == r2                                       # the second joined the first
    assert fake_trakt.count("/sync/last_activities") == 1
    # a second engine (another process) sharing the database is refused while the lease is held
    other = await make_engine(trakt=fake_trakt, secret_key=secret_key)    # same keys, as another process has
    fake_trakt.add_plays("bob", [(catalogue()[7], 1, 1, datetime.now(UTC) - timedelta(hours=1))])
    in_history = asyncio.Event()
    fake_trakt.on_page = lambda path, page: in_history.set()
    fake_trakt.gate = asyncio.Event()        # the page is held: the first engine stays mid-sync, lease held
    task = asyncio.create_task(engine.sync(pid))
    await in_history.wait()
    with pytest.raises(SyncInProgress):
        await other.sync(pid)
    fake_trakt.gate.set()
    await task
    async with probe.read() as uow:
        assert (await uow.sync.state(pid)).lease_owner is None


async def test_parses_real_recorded_trakt_payloads(fake_trakt: FakeTrakt, make_engine: Any, probe: SqliteStore) -> None:
    """Bodies recorded from the real Trakt API (2026) go through the same sync path."""
    import json

    from tests.conftest import FIXTURES

    history = json.loads((FIXTURES / "trakt_history_2026.json").read_text())
    fake_trakt.add_user("rec", history=history,
                        ratings=json.loads((FIXTURES / "trakt_ratings_shows_2026.json").read_text()),
                        watchlist=json.loads((FIXTURES / "trakt_watchlist_shows_2026.json").read_text()),
                        hidden={"progress_watched": json.loads(
                            (FIXTURES / "trakt_hidden_progress_watched_2026.json").read_text())})
    engine = await make_engine(trakt=fake_trakt)
    pid = await link_person(engine, fake_trakt, "rec")
    rep = await engine.sync(pid)
    episodes = [h for h in history if h.get("type") == "episode"]
    assert rep.new_plays == len(episodes) > 0
    async with probe.read() as uow:
        silo = await uow.shows.by_ids(ShowIds(trakt=180770))
    assert silo is not None and (silo.title, silo.aired_episodes, silo.ids.tmdb, silo.ids.imdb) == (
        "Silo", 30, 125988, "tt14688458")
    assert rep.ratings > 0 and rep.watchlist > 0 and rep.hidden > 0
