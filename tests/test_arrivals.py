"""Arrivals: a provider change between two alert scans sends exactly one alert per person, show, service and direction
— "X is now on your S" and later "no longer on your S" — to people who have S and have X listed or were shown it,
none to people who turned arrivals off or do not have S; the TMDB fake's watch providers change between scans."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot import render_alerts
from bot.grammar import parse_settings
from engine.values.alerts import ArrivalAlert
from engine.values.models import AlertKind, RecommendRequest
from tests.fakes.catalogue import catalogue
from tests.fakes.clock import FakeClock
from tests.fakes.tmdb import FakeTmdb
from tests.fakes.trakt import list_row

pytestmark = pytest.mark.both_stores

NOW_ISO = "2026-10-05T07:00:00+00:00"


async def arrivals(engine: Any, pid: int) -> list[ArrivalAlert]:
    return [a for a in await engine.person_alerts(pid) if a.kind is AlertKind.ARRIVAL]


async def test_a_provider_change_is_told_once_to_those_it_concerns(make_engine: Any, fake_tmdb: FakeTmdb) -> None:
    from datetime import datetime
    clock = FakeClock(datetime.fromisoformat(NOW_ISO))
    engine = await make_engine(tmdb=fake_tmdb, clock=clock)
    ann = await engine.person("telegram", "1", "Ann")
    await engine.load_sample(ann)
    got = await engine.recommend(RecommendRequest(ann, k=5, use_llm=False))
    await engine.attach_message([it.event_id for it in got.items], "telegram", "m1")    # shown: a resting pick
    pick = got.items[0]
    entry = dict(fake_tmdb.shows[pick.tmdb_id])
    everything = sorted({p for e in catalogue() for p in e["providers"]})
    service = next(p for p in everything if p not in entry["providers"])
    other = next(p for p in everything if p != service and p not in entry["providers"])
    fake_tmdb.shows[pick.tmdb_id] = entry                 # this test's copy: the shared catalogue stays as it was

    listed = json.dumps({"watchlist": [list_row(next(e for e in catalogue() if e["tmdb_id"] == pick.tmdb_id))]})
    people = {}
    for name, services, extra in (("ben", [service], []), ("cid", [service], ["arrivals:off"]),
                                  ("dee", [other], [])):
        pid = await engine.person("telegram", name, name.title())
        await engine.import_history(pid, "watchlist.json", listed.encode())
        people[name] = pid
        await engine.update_settings(pid, **parse_settings([f'services:"{",".join(services)}"', *extra]))
    await engine.update_settings(ann, services=(service,))

    await engine.scan_alerts()                            # the first look: remembered, nothing to compare with
    assert not await arrivals(engine, ann)

    entry["providers"] = [*entry["providers"], service]   # it arrives on `service`
    clock.advance(days=31)                                # past every metadata TTL: the scan reads TMDB again
    await engine.scan_alerts()
    await engine.scan_alerts()                            # again: the same change, told once
    for pid, want in ((ann, 1), (people["ben"], 1), (people["cid"], 0), (people["dee"], 0)):
        got_alerts = await arrivals(engine, pid)
        assert len(got_alerts) == want, (pid, got_alerts)
    a = (await arrivals(engine, ann))[0]
    assert a.arrived and a.service == service and a.show_id == pick.show_id
    assert render_alerts.alert(a).endswith(f"is now on your {service}.")

    entry["providers"] = [p for p in entry["providers"] if p != service]     # and leaves it again
    clock.advance(days=31)
    await engine.scan_alerts()
    left = [x for x in await arrivals(engine, ann) if not x.arrived]
    assert len(left) == 1 and render_alerts.alert(left[0]).endswith(f"is no longer on your {service}.")
    assert len(await arrivals(engine, people["ben"])) == 2 and not await arrivals(engine, people["cid"])


async def test_a_close_match_of_a_persona_arriving_is_told_without_being_listed_or_shown(
        make_engine: Any, fake_tmdb: FakeTmdb) -> None:
    from datetime import datetime
    clock = FakeClock(datetime.fromisoformat(NOW_ISO))
    engine = await make_engine(tmdb=fake_tmdb, clock=clock)
    eve = await engine.person("telegram", "5", "Eve")
    await engine.load_sample(eve)
    close = await engine._s.recommender.close_matches(eve)
    assert close and not close & await engine._s.recommender.seen(eve)
    everything = sorted({p for e in catalogue() for p in e["providers"]})
    async with engine._s.store.read() as uow:
        shows = await uow.shows.many(sorted(close))
    sid, rec = next((s, r) for s, r in sorted(shows.items()) if r.ids.tmdb in fake_tmdb.shows)
    entry = dict(fake_tmdb.shows[rec.ids.tmdb])
    service = next(p for p in everything if p not in entry["providers"])
    fake_tmdb.shows[rec.ids.tmdb] = entry
    await engine.update_settings(eve, services=(service,))
    await engine.scan_alerts()
    entry["providers"] = [*entry["providers"], service]
    clock.advance(days=31)
    await engine.scan_alerts()
    got = [a for a in await arrivals(engine, eve) if a.show_id == sid]
    assert len(got) == 1 and got[0].arrived and got[0].service == service
