"""Release-calendar alerts with a controllable clock, the Trakt and TMDB fakes agreeing on one lifecycle, and a
notifier that records what the front ends would send (the Telegram and Discord notifiers are tested end to end
in their own files)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import engine.usecases.alerts.delivery as delivery_module
from engine import Engine
from engine.store import SqliteStore, Store
from engine.store.testing import cache_keys
from engine.values.alerts import Alert, CatchupAlert
from tests.conftest import link_person
from tests.fakes.catalogue import catalogue, play_row
from tests.fakes.clock import FakeClock
from tests.fakes.lifecycle import Lifecycle
from tests.fakes.tmdb import FakeTmdb
from tests.fakes.trakt import FakeTrakt

pytestmark = pytest.mark.both_stores        # the engine on SQLite and on PostgreSQL

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[1]
PARIS, NEW_YORK = ZoneInfo("Europe/Paris"), ZoneInfo("America/New_York")


class Recorder:
    """The notifier port, recording instead of talking to a platform."""

    def __init__(self, platform: str = "console") -> None:
        self.platform = platform
        self.sent: list[tuple[str, Alert]] = []

    async def send_alert(self, target: str, alert: Alert) -> str:
        self.sent.append((target, alert))
        return f"m{len(self.sent)}"


def pick(pred: Any, skip: int = 0) -> dict[str, Any]:
    rows = [e for e in catalogue() if e.get("tmdb_id") and e["status"] == "returning series"
            and 2 <= e["seasons"] <= 4 and 4 <= e["episodes_per_season"] <= 12 and pred(e)]
    return sorted(rows, key=lambda e: e["tmdb_id"])[skip]


RECENT = pick(lambda e: True)
OTHER = pick(lambda e: True, skip=1)
OLD = pick(lambda e: e["year"] + e["seasons"] <= 2022, skip=2)         # nothing new since mid-2022 or earlier


def weekly(e: dict[str, Any], start: datetime, seasons: range) -> list[tuple[datetime, dict[str, Any], int, int]]:
    """One episode a week, Sunday evening."""
    out, t = [], start
    for s in seasons:
        for n in range(1, e["episodes_per_season"] + 1):
            out.append((t, e, s, n))
            t += timedelta(days=7)
    return out


def binged(e: dict[str, Any], start: datetime, seasons: range) -> list[tuple[datetime, dict[str, Any], int, int]]:
    """A season in a weekend, five episodes an evening."""
    out, t = [], start
    for s in seasons:
        for n in range(1, e["episodes_per_season"] + 1):
            out.append((t + timedelta(days=(n - 1) // 5, minutes=50 * ((n - 1) % 5)), e, s, n))
        t += timedelta(days=60)
    return out


def rows(plays: list[tuple[datetime, dict[str, Any], int, int]], first: int) -> list[dict[str, Any]]:
    return [play_row(first + i, t, e, s, n) for i, (t, e, s, n) in enumerate(sorted(plays, key=lambda p: p[0]))][::-1]


@pytest.fixture
def lifecycle() -> Lifecycle:
    lc = Lifecycle(today=NOW.date())
    # RECENT's last season ended in June; the next premieres Friday 02:00 UTC (an American evening): 03:00 in Paris
    lc.finale(RECENT, RECENT["seasons"], RECENT["episodes_per_season"], datetime(2026, 6, 1, 2, 0, tzinfo=UTC))
    lc.premiere(RECENT, RECENT["seasons"] + 1, datetime(2026, 11, 27, 2, 0, tzinfo=UTC))
    # OTHER's new season finished airing on Monday night, New York time
    lc.finale(OTHER, OTHER["seasons"] + 1, OTHER["episodes_per_season"], datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    # OLD comes back after years away
    lc.premiere(OLD, OLD["seasons"] + 1, datetime(2026, 12, 10, 2, 0, tzinfo=UTC))
    return lc


@asynccontextmanager
async def world(tmp_path: Path, lc: Lifecycle, make_engine: Any, clock: FakeClock, *, platform: str = "console",
                **env: str) -> AsyncIterator[tuple[FakeTrakt, FakeTmdb, Engine]]:
    """Wendy (weekly viewer, Paris, quiet 23-10), Bill (binge viewer, New York, quiet 00-07) and Cat (stopped
    RECENT after season 1), synced from the fakes; the fakes stop on leaving."""
    async with FakeTrakt(lifecycle=lc) as trakt, FakeTmdb(lifecycle=lc) as tmdb:
        yield await _people(trakt, tmdb, make_engine, clock, platform, env)


async def _people(trakt: FakeTrakt, tmdb: FakeTmdb, make_engine: Any, clock: FakeClock, platform: str,
                  env: dict[str, str]) -> tuple[FakeTrakt, FakeTmdb, Engine]:
    start = datetime(2026, 1, 4, 19, 0, tzinfo=UTC)
    full = range(1, RECENT["seasons"] + 1)
    trakt.add_user("wendy", timezone="Europe/Paris", history=rows(
        weekly(RECENT, start, full) + weekly(OTHER, start + timedelta(hours=2), range(1, OTHER["seasons"] + 1)), 1))
    trakt.add_user("bill", timezone="America/New_York", history=rows(binged(RECENT, start, full) + binged(
        OTHER, start + timedelta(days=20), range(1, OTHER["seasons"] + 1)) + binged(
        OLD, start - timedelta(days=900), range(1, OLD["seasons"] + 1)), 1000))
    trakt.add_user("cat", timezone="Europe/Paris",
                   history=rows(weekly(RECENT, datetime(2025, 1, 5, 19, tzinfo=UTC), range(1, 2)), 2000))
    engine = await make_engine(trakt=trakt, tmdb=tmdb, clock=clock, **env)
    for n, (name, quiet) in enumerate((("wendy", [23, 10]), ("bill", [0, 7]), ("cat", None))):
        pid = await link_person(engine, trakt, name, platform=platform,
                                platform_id=name if platform == "console" else str(9000 + n))
        await engine.sync(pid)                     # the time zone comes from the person's Trakt settings
        if quiet:
            await engine.update_settings(pid, quiet_hours=quiet)
    return trakt, tmdb, engine


async def ids(engine: Engine, *names: str) -> list[int]:
    return [await engine.find_person("console", n) for n in names]


async def test_weekly_viewer_gets_the_premiere_in_their_morning_and_binge_viewer_the_finished_season(
        tmp_path: Path, lifecycle: Lifecycle, make_engine: Any) -> None:
    clock = FakeClock(NOW)
    async with world(tmp_path, lifecycle, make_engine, clock) as (trakt, tmdb, engine):
        wendy, bill, cat = await ids(engine, "wendy", "bill", "cat")
        rep = await engine.scan_alerts()
        assert rep.people == 3 and rep.created >= 4
        got = {(a.person_id, a.title, a.kind) for p in (wendy, bill, cat) for a in await engine.person_alerts(p)}
        assert (wendy, RECENT["title"], "premiere") in got
        assert (bill, OTHER["title"], "binge") in got
        assert (bill, OLD["title"], "returning") in got
        assert (cat, RECENT["title"], "catchup") in got
        assert not {(p, t, k) for p, t, k in got if p == bill and k == "premiere"}      # binge viewers: no premiere
        assert not {(p, t, k) for p, t, k in got if p == wendy and k == "binge"}        # weekly viewers: no binge
        # the calendars were read once for everyone, and are cached for the next scan
        assert trakt.count("/calendars/all/shows/premieres") == 1 and trakt.count("/calendars/all/shows/finales") == 1
        tmdb_before = tmdb.count("/3/tv/")
        await engine.scan_alerts()
        assert trakt.count("/calendars/all/shows/") == 2 and tmdb.count("/3/tv/") == tmdb_before
        assert (await engine.scan_alerts()).created == 0                                # one alert per kind, ever

        rec = Recorder()
        notifiers = {"console": rec}
        await engine.deliver_alerts(notifiers)                   # 06:00 UTC: 07:00 in Paris, 01:00 in New York
        assert rec.sent == []                                    # nobody's morning yet
        sent_times: dict[tuple[int, str], datetime] = {}
        for _ in range(4 * 24 * 4):                                                      # four days, every 15 min
            before = len(rec.sent)
            await engine.deliver_alerts(notifiers)
            for _, a in rec.sent[before:]:
                sent_times[(a.person_id, a.kind)] = clock.now()
            clock.advance(minutes=15)
        # bill: the morning after the finale, after his quiet hours (00-07 in New York)
        t = sent_times[(bill, "binge")].astimezone(NEW_YORK)
        assert t.date() == datetime(2026, 11, 24).date() and t.hour == 7
        # wendy: the premiere day in Paris, at 10:00 (her quiet hours run 23-10, the usual 09:00 is inside them)
        t = sent_times[(wendy, "premiere")].astimezone(PARIS)
        assert t.date() == datetime(2026, 11, 27).date() and t.hour == 10
        kinds = [(a.person_id, a.kind, a.title) for _, a in rec.sent]
        assert len(kinds) == len(set(kinds))                                            # never twice
        assert all(target.startswith("user:") for target, _ in rec.sent)
        premiere = next(a for _, a in rec.sent if a.kind == "premiere")
        assert premiere.season == RECENT["seasons"] + 1 and premiere.exact is True
        catchup = next(a for _, a in rec.sent if isinstance(a, CatchupAlert))
        assert catchup.episodes_left == (RECENT["seasons"] - 1) * RECENT["episodes_per_season"]
        assert sent_times[(cat, "catchup")] < datetime(2026, 11, 27, 2, 0, tzinfo=UTC)   # before the premiere


async def test_a_restart_between_scan_and_send_sends_exactly_once(tmp_path: Path, lifecycle: Lifecycle,
                                                                  make_engine: Any, probe: SqliteStore) -> None:
    clock = FakeClock(NOW)
    async with world(tmp_path, lifecycle, make_engine, clock) as (trakt, tmdb, engine):
        await engine.scan_alerts()
        await engine.close()                                     # the process stops before anything is due
        clock.advance(days=3, hours=6)                           # Friday noon UTC: outside everyone's quiet hours
        # a process that claimed one alert and crashed before sending it: that one is never sent (nor twice)
        async with probe.unit() as uow:
            crashed = (await uow.alerts.due(clock.now()))[0]
            assert await uow.alerts.claim(crashed.id)
        rec = Recorder()
        second = await make_engine(trakt=trakt, tmdb=tmdb, clock=clock)      # same database
        rep = await second.deliver_alerts({"console": rec})
        assert rep.sent == len(rec.sent) >= 2
        assert crashed.id not in {a.id for _, a in rec.sent}
        assert (await second.deliver_alerts({"console": rec})).sent == 0
        await second.close()
        third = await make_engine(trakt=trakt, tmdb=tmdb, clock=clock)
        assert (await third.deliver_alerts({"console": rec})).sent == 0
        sent = [(a.person_id, a.kind, a.title) for _, a in rec.sent]
        assert len(sent) == len(set(sent))
        mine = [a for a in await third.person_alerts(crashed.person_id) if a.id == crashed.id]
        assert [a.status for a in mine] == ["sending"]


async def test_two_processes_delivering_at_once_send_each_alert_once(tmp_path: Path, lifecycle: Lifecycle,
                                                                    make_engine: Any, probe: Store,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delivery_module, "CLAIM_BATCH", 1)          # one alert per claim: the two interleave
    clock = FakeClock(NOW)
    async with world(tmp_path, lifecycle, make_engine, clock) as (trakt, tmdb, a):
        await a.scan_alerts()
        clock.advance(days=3, hours=6)                           # Friday noon UTC: outside everyone's quiet hours
        b = await make_engine(trakt=trakt, tmdb=tmdb, clock=clock)         # another process, same database
        ra, rb = Recorder(), Recorder()
        reps = await asyncio.gather(a.deliver_alerts({"console": ra}), b.deliver_alerts({"console": rb}))
        ids = [x.id for _, x in ra.sent + rb.sent]
        assert len(ids) == len(set(ids)) == sum(r.sent for r in reps) >= 2
        async with probe.read() as uow:
            assert await uow.alerts.due(clock.now()) == []     # nothing due was left behind
        assert (await b.deliver_alerts({"console": rb})).sent == 0


async def test_a_batch_claimed_by_a_process_that_died_goes_out_once_its_claim_lapses(
        tmp_path: Path, lifecycle: Lifecycle, make_engine: Any, probe: Store) -> None:
    clock = FakeClock(NOW)
    async with world(tmp_path, lifecycle, make_engine, clock) as (_trakt, _tmdb, engine):
        await engine.scan_alerts()
        clock.advance(days=3, hours=6)
        dead = "elsewhere:1:dead"
        async with probe.unit() as uow:      # a process claims every due alert, starts sending one, and dies
            claimed = await uow.alerts.claim_due(clock.now(), dead, 50,
                                                 abandoned_before=clock.now() - timedelta(minutes=5))
            assert len(claimed) >= 2
            assert await uow.alerts.begin(claimed[0].id, dead)
        rec = Recorder()
        assert (await engine.deliver_alerts({"console": rec})).sent == 0      # its claim is fresh: left alone
        clock.advance(minutes=6)                                               # alerts.claim_minutes = 5
        rep = await engine.deliver_alerts({"console": rec})
        assert rep.sent == len(rec.sent) == len(claimed) - 1
        assert {a.id for _, a in rec.sent} == {c.id for c in claimed[1:]}   # the untried ones, once each
        assert (await engine.deliver_alerts({"console": rec})).sent == 0
        started = [a for a in await engine.person_alerts(claimed[0].person_id) if a.id == claimed[0].id]
        assert [a.status for a in started] == ["sending"]     # the one it may have sent is not sent again


async def test_opting_out_of_a_kind_means_none_of_it(tmp_path: Path, lifecycle: Lifecycle,
                                                     make_engine: Any) -> None:
    clock = FakeClock(NOW)
    async with world(tmp_path, lifecycle, make_engine, clock) as (_trakt, _tmdb, engine):
        wendy, bill, _ = await ids(engine, "wendy", "bill", "cat")
        await engine.update_settings(wendy, alert_premiere=False)
        await engine.scan_alerts()
        assert not [a for a in await engine.person_alerts(wendy) if a.kind == "premiere"]
        # opting out after the scan still stops the send
        assert [a for a in await engine.person_alerts(bill) if a.kind == "binge"]
        await engine.update_settings(bill, alert_binge=False)
        rec = Recorder()
        clock.advance(days=4)
        await engine.deliver_alerts({"console": rec})
        assert not [a for _, a in rec.sent if a.kind in ("binge",) or (a.person_id == wendy and a.kind == "premiere")]
        assert [a.status for a in await engine.person_alerts(bill) if a.kind == "binge"] == ["skipped"]
        # everything off
        await engine.update_settings(bill, alerts=False)
        before = len(rec.sent)
        clock.advance(days=1)
        await engine.scan_alerts()
        await engine.deliver_alerts({"console": rec})
        assert not [a for _, a in rec.sent[before:] if a.person_id == bill]


async def test_downtime_past_the_moment_skips_stale_alerts_and_no_front_end_waits(
        tmp_path: Path, lifecycle: Lifecycle, make_engine: Any) -> None:
    clock = FakeClock(NOW)
    async with world(tmp_path, lifecycle, make_engine, clock) as (_trakt, _tmdb, engine):
        wendy, *_ = await ids(engine, "wendy", "bill", "cat")
        await engine.scan_alerts()
        clock.advance(days=3, hours=4)                           # Friday 10:00 UTC: premiere morning, nobody up
        assert (await engine.deliver_alerts({})).sent == 0       # no front end running: it waits
        assert (await engine.deliver_alerts({"telegram": Recorder("telegram")})).sent == 0   # wendy is not there
        clock.advance(days=3)                                    # back after the premiere is old news
        rec = Recorder()
        await engine.deliver_alerts({"console": rec})
        assert not [a for _, a in rec.sent if a.person_id == wendy and a.kind == "premiere"]
        assert [a.status for a in await engine.person_alerts(wendy) if a.kind == "premiere"] == ["skipped"]


async def test_catch_up_on_a_show_related_to_an_upcoming_premiere(tmp_path: Path, make_engine: Any) -> None:
    from bot import render_alerts
    from tests.fakes.trakt import _similar
    lc = Lifecycle(today=NOW.date())
    x = pick(lambda e: True, skip=5)
    lc.premiere(x, x["seasons"] + 1, datetime(2026, 12, 12, 2, 0, tzinfo=UTC))
    near = [e for e in _similar(x, catalogue(), 30) if e.get("tmdb_id")][:2]
    async with FakeTrakt(lifecycle=lc) as trakt, FakeTmdb(lifecycle=lc) as tmdb:
        start = datetime(2026, 3, 1, 19, 0, tzinfo=UTC)
        trakt.add_user("rae", timezone="Europe/Paris", history=rows(
            weekly(near[0], start, range(1, 2)) + weekly(near[1], start + timedelta(hours=1), range(1, 2)), 1))
        trakt.add_user("sol", timezone="Europe/Paris", history=rows(weekly(near[0], start, range(1, 2)), 500))
        engine = await make_engine(trakt=trakt, tmdb=tmdb, clock=FakeClock(NOW))
        rae = await link_person(engine, trakt, "rae")
        sol = await link_person(engine, trakt, "sol")
        for p in (rae, sol):
            await engine.sync(p)
        await engine.scan_alerts()
        got = [a for a in await engine.person_alerts(rae) if a.title == x["title"]]
        assert [a.kind for a in got] == ["catchup"]
        a = got[0]
        assert isinstance(a, CatchupAlert)
        assert set(a.related) == {near[0]["title"], near[1]["title"]} and a.started is False
        assert a.due_at < a.event_at                                          # before the premiere
        assert "Before it returns" in render_alerts.alert(a) and near[0]["title"] in render_alerts.alert(a)
        assert not [a for a in await engine.person_alerts(sol) if a.title == x["title"]]     # one show in common
        related_calls = trakt.count(f"/shows/{x['trakt_id']}/related")
        await engine.scan_alerts()
        assert trakt.count(f"/shows/{x['trakt_id']}/related") == related_calls == 1           # shared and cached


@pytest.mark.parametrize("hour, quiet, inside", [
    (23, [23, 8], True), (3, [23, 8], True), (8, [23, 8], False), (12, [23, 8], False),
    (13, [13, 15], True), (15, [13, 15], False), (5, None, False), (5, [5, 5], False),
])
def test_quiet_hours_wrap_around_midnight(hour: int, quiet: list[int] | None, inside: bool) -> None:
    from engine.usecases.alerts import in_quiet
    assert in_quiet(hour, quiet) is inside


def test_alerts_wait_for_the_end_of_quiet_hours_in_the_persons_own_clock() -> None:
    from engine.usecases.alerts import allowed_at, morning
    late = datetime(2026, 11, 24, 22, 30, tzinfo=UTC)                       # 23:30 in Paris
    assert allowed_at(late, PARIS, [23, 8]).astimezone(PARIS) == datetime(2026, 11, 25, 8, 0, tzinfo=PARIS)
    assert allowed_at(late, PARIS, [1, 6]) == late
    day = datetime(2026, 11, 27).date()
    assert morning(day, PARIS, 9, None, NOW).astimezone(PARIS).hour == 9
    assert morning(day, PARIS, 9, [23, 10], NOW).astimezone(PARIS).hour == 10
    past = datetime(2026, 11, 20).date()                                     # already gone: as soon as allowed
    assert morning(past, NEW_YORK, 9, [0, 7], NOW).astimezone(NEW_YORK) == datetime(2026, 11, 24, 7, 0,
                                                                                      tzinfo=NEW_YORK)


async def test_the_alerts_command_scans_and_lists_without_sending(tmp_path: Path, lifecycle: Lifecycle,
                                                                   make_engine: Any) -> None:
    import asyncio
    import json as json_
    import os
    import sys

    from engine.plumbing.crypto import TokenCipher
    clock = FakeClock(NOW)
    async with world(tmp_path, lifecycle, make_engine, clock) as (trakt, tmdb, engine):
        await engine.scan_alerts()
        await engine.close()
        env = {k: v for k, v in os.environ.items() if not k.startswith("MULTITUDES_")}
        env.update({"PYTHONPATH": str(ROOT),
                    "MULTITUDES_STORAGE__PATH": str(tmp_path / "multitudes.db"),
                    **({"MULTITUDES_STORAGE__URL": engine.settings.storage.url} if engine.settings.storage.url
                       else {}),
                    "MULTITUDES_LOGGING__FILE": str(tmp_path / "cli.log"),
                    "MULTITUDES_TRAKT__BASE_URL": trakt.url, "MULTITUDES_TRAKT_CLIENT_ID": trakt.client_id,
                    "MULTITUDES_TRAKT_CLIENT_SECRET": trakt.client_secret,
                    "MULTITUDES_SECRET_KEY": TokenCipher.generate_key(),
                    "MULTITUDES_TMDB__BASE_URL": tmdb.url + "/3", "MULTITUDES_TMDB_API_KEY": tmdb.api_key})
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "alerts", "--json", "--user", "wendy", env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, err.decode()
        doc = json_.loads(out)
        assert doc["scan"]["people"] == 3
        assert any(a["kind"] == "premiere" and a["status"] == "pending" for a in doc["person"])
        assert sum(r["count"] for r in doc["alerts"] if r["status"] == "sent") == 0          # it sends nothing


async def test_a_scan_during_outages_uses_what_is_cached(tmp_path: Path, lifecycle: Lifecycle,
                                                         make_engine: Any, probe: SqliteStore) -> None:
    clock = FakeClock(NOW)
    async with world(tmp_path, lifecycle, make_engine, clock) as (trakt, tmdb, engine):
        wendy, *_ = await ids(engine, "wendy", "bill", "cat")
        clock.advance(hours=30)                                  # airing shows' metadata has expired
        trakt.inject(503, 10_000, path_prefix="/calendars")      # Trakt's calendars are down
        tmdb.inject(503, 10_000, path_prefix="/3/tv")            # and TMDB too
        rep = await engine.scan_alerts()
        assert rep.people == 3 and rep.metadata_fetched == 0
        # TMDB's last known next_episode still announces the premiere (a date, not Trakt's exact time)
        premiere = [a for a in await engine.person_alerts(wendy) if a.kind == "premiere"]
        assert premiere and premiere[0].exact is False
        assert await cache_keys(probe, "trakt:calendar:") == []
