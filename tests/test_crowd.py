"""Issue 14 end to end: a person alone in a fresh deployment gets picks from Trakt members who share their tastes.

The scheduler's crowd job reads Trakt's public graph (the fake serves show comments with each author's rating and
members' public ratings) within the person's request budget, skips private members, and stores the crowd; a
``/recommend`` afterwards reads it from the store — nothing goes to Trakt's public graph while a person waits —
and says why ("people on Trakt who share your … side"), never naming a stranger."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import render
from engine.schedule import Scheduler
from engine.values.models import Mode, RecommendRequest
from tests.conftest import link_person
from tests.fakes.catalogue import catalogue, play_row
from tests.fakes.trakt import FakeTrakt

pytestmark = pytest.mark.both_stores        # the engine on SQLite and on PostgreSQL


def _public(path: str) -> bool:
    """A request to Trakt's public graph: a show's comments, or a member's ratings."""
    return ((path.startswith("/shows/") and "/comments" in path)
            or (path.startswith("/users/") and path.endswith("/ratings/shows")))


def _public_requests(fake: FakeTrakt) -> list[str]:
    return [r.path for r in fake.requests if _public(r.path)]


def _world(fake: FakeTrakt) -> dict[str, Any]:
    """The person watched crime shows lately and comedies before; crime fans on Trakt rated those crime shows and
    love three crime shows the person has not seen; comedy fans likewise; one private member loves a show nobody
    else rated."""
    cat = catalogue()
    crime = [e for e in cat if "crime" in e["genres"] and "comedy" not in e["genres"]
             and "animation" not in e["genres"]][:12]
    comedy = [e for e in cat if "comedy" in e["genres"] and "crime" not in e["genres"]
              and "animation" not in e["genres"]][:12]
    mine_crime, their_crime = crime[:8], crime[8:11]
    mine_comedy, their_comedy = comedy[:8], comedy[8:11]
    secret = next(e for e in cat if e not in crime and e not in comedy and "drama" in e["genres"])
    end = datetime(2026, 11, 20, tzinfo=UTC)
    rows = []
    hid = 1
    for n, e in enumerate(mine_comedy):                       # a year ago: comedies
        for ep in range(1, 7):
            rows.append(play_row(hid, end - timedelta(days=400 - 3 * n, hours=ep), e, 1, ep))
            hid += 1
    for n, e in enumerate(mine_crime):                        # lately: crime
        for ep in range(1, 7):
            rows.append(play_row(hid, end - timedelta(days=40 - 4 * n, hours=ep), e, 1, ep))
            hid += 1
    rows.sort(key=lambda r: r["watched_at"], reverse=True)
    fake.add_user("solo", history=rows)
    for i in range(20):
        fake.add_public_user(f"crimefan{i}", [(e, 9 if (n + i) % 3 else 8) for n, e in enumerate(mine_crime)]
                             + [(e, 10 if (n + i) % 2 else 9) for n, e in enumerate(their_crime)]
                             + [(e, 4) for e in mine_comedy[:2]])
        fake.add_public_user(f"laughs{i}", [(e, 9) for e in mine_comedy + their_comedy] + [(e, 3) for e in crime[:2]])
    fake.add_public_user("hidden", [(e, 10) for e in mine_crime] + [(secret, 10)], private=True)
    return {"their_crime": their_crime, "their_comedy": their_comedy, "secret": secret}


async def test_a_person_alone_gets_picks_from_people_who_share_their_tastes(
        tmp_path: Path, fake_trakt: FakeTrakt, make_engine: Any) -> None:
    w = _world(fake_trakt)
    engine = await make_engine(trakt=fake_trakt)
    pid = await link_person(engine, fake_trakt, "solo")
    await engine.sync(pid)
    # nobody found yet: a crowd list says so and does not go looking (never on a request's path)
    before = len(_public_requests(fake_trakt))
    empty = await engine.recommend(RecommendRequest(pid, mode=Mode.CROWD, k=5))
    assert not empty.items and "not found people who share your tastes" in empty.note
    assert len(_public_requests(fake_trakt)) == before == 0

    # the scheduler's job finds the crowd, within the person's budget
    s = Scheduler(engine, {}, store_path=str(tmp_path / "jobs.db"))
    await s.start()
    try:
        assert "crowd.refresh" in s.next_runs()
        s.run_soon("crowd.refresh")
        await asyncio.wait_for(s.wait_runs("crowd", 1), 60)
    finally:
        await s.stop()
    asked = _public_requests(fake_trakt)
    assert 0 < len(asked) <= engine.settings.crowd.budget == 60
    assert not any("/users/hidden" in p for p in asked)                 # a private member is never read

    before = len(fake_trakt.requests)
    auto = await engine.recommend(RecommendRequest(pid, k=8))
    crowd = await engine.recommend(RecommendRequest(pid, mode=Mode.CROWD, k=5))
    assert not any(_public(r.path) for r in fake_trakt.requests[before:])        # read from the store

    titles = {e["title"] for e in w["their_crime"]}
    assert titles <= {it.title for it in auto.items}                   # what crime fans love, all of it
    backed = [it for it in auto.items if it.title in titles]
    assert all("crowd" in it.sources and "People on Trakt who share that side" in it.reason and it.persona_name
               and it.persona_name.lower() in it.reason for it in backed), [it.reason for it in backed]
    # `recommend crowd`: only what the crowd proposes (the picks just shown rest, like any recent pick)
    assert crowd.items and all("crowd" in it.sources for it in crowd.items)
    assert not {it.title for it in crowd.items} & {it.title for it in auto.items}
    assert not any(it.title == w["secret"]["title"] and "crowd" in it.sources      # the private member's show
                   for it in crowd.items + auto.items)
    assert not any("crimefan" in it.reason or "laughs" in it.reason for it in crowd.items + auto.items)

    # /personas: a line per persona of what people who share that side rated lately
    report = await engine.personas(pid)
    lately = await engine.crowd_lately(pid)
    text = render.personas(report, lately)
    crime_side = next(it.persona_id for it in backed)
    assert set(lately[crime_side]) <= titles | {e["title"] for e in w["their_comedy"]}
    assert "Lately rated highly by people who share this side:" in text and "crimefan" not in text

    # a second run finds nobody due (refreshed a week at most), and a refresh again costs nothing: all cached
    assert (await engine.crowd_wave()).due == 0
    before = len(fake_trakt.requests)
    again = await engine.refresh_crowd(pid)
    assert again.requests == 0 and len(fake_trakt.requests) == before and again.people > 0


async def test_the_crowd_needs_trakt_and_is_forgotten_with_the_person(fake_trakt: FakeTrakt, make_engine: Any,
                                                                       probe: Any) -> None:
    demo = await make_engine()
    assert (await demo.crowd_wave()).due == 0                          # no Trakt: no crowd job, no requests
    me = await demo.person("console", "me")
    await demo.load_sample(me)
    got = await demo.recommend(RecommendRequest(me, mode=Mode.CROWD, k=3))
    assert not got.items and "Trakt must be configured" in got.note
    _world(fake_trakt)
    engine = await make_engine(trakt=fake_trakt)
    pid = await link_person(engine, fake_trakt, "solo")
    await engine.sync(pid)
    rep = await engine.refresh_crowd(pid, budget=10)
    assert rep.requests <= 10 and rep.people > 0                       # a smaller budget holds too
    assert len(_public_requests(fake_trakt)) == rep.requests
    async with probe.read() as uow:
        row = await uow.crowd.get(pid)
    assert row is not None and row.members and row.requests == rep.requests
    await engine.forget(pid)
    async with probe.read() as uow:
        assert await uow.crowd.get(pid) is None
