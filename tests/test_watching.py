"""/next and /tonight: the next episode of each show in progress, and an evening's plan that fits the time.

The episode arithmetic runs on TMDB's own payloads (tests/data/fixtures: The Boys in the middle of season 3, Game of
Thrones ended); the plans run on the bundled demo viewer through the engine the console uses."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ical.calendar_stream import IcsCalendarStream  # a second, independent iCalendar parser

from bot.grammar import GrammarError, duration, parse_tonight
from bot.render_plans import tonight as tonight_text
from bot.render_plans import up_next as up_next_text
from engine.adapters.tmdb import normalise_tv
from engine.plumbing.clock import StoppedClock
from engine.store import Store
from engine.store.records import PlayRow
from engine.usecases.watching import next_episode
from engine.values.errors import MultitudesError
from engine.values.models import Filters
from tests.conftest import link_person
from tests.fakes.catalogue import history_rows

FIXTURES = Path(__file__).parent / "data" / "fixtures"
BOYS = normalise_tv(json.loads((FIXTURES / "tmdb_tv_76479_the_boys_2022.json").read_text(encoding="utf-8")))
GOT = normalise_tv(json.loads((FIXTURES / "tmdb_tv_1399_game_of_thrones_2024.json").read_text(encoding="utf-8")))
BETWEEN = datetime(2022, 6, 12, 20, tzinfo=UTC)      # The Boys S03E04 aired 2022-06-09, S03E05 airs 2022-06-16


def plays(*eps: tuple[int, int], start: datetime = datetime(2022, 6, 1, 20, tzinfo=UTC)) -> list[PlayRow]:
    return [PlayRow(1, s, e, None, start + timedelta(hours=i), None, "trakt") for i, (s, e) in enumerate(eps)]


def test_the_fixtures_are_what_the_cases_assume() -> None:
    assert BOYS.last_episode is not None and (BOYS.last_episode.season, BOYS.last_episode.episode) == (3, 4)
    assert BOYS.next_episode is not None and (BOYS.next_episode.season, BOYS.next_episode.episode) == (3, 5)
    assert GOT.ended


def test_the_episode_after_the_last_one_watched_in_a_season_that_is_airing() -> None:
    assert next_episode(plays((3, 1), (3, 2)), BOYS, None, BETWEEN) == (3, 3, False, 2, None)


def test_a_finished_season_opens_the_next_one_with_what_has_aired_of_it() -> None:
    assert next_episode(plays(*[(2, e) for e in range(1, 9)]), BOYS, None, BETWEEN) == (3, 1, True, 4, None)


def test_caught_up_on_an_airing_season_waits_for_the_announced_episode() -> None:
    s, e, opens, left, when = next_episode(plays((3, 3), (3, 4)), BOYS, None, BETWEEN) or (0, 0, 0, 0, None)
    assert (s, e, opens, left) == (3, 5, False, None) and when is not None and when.date().isoformat() == "2022-06-16"


def test_the_end_of_a_show_that_ended_is_the_end() -> None:
    assert next_episode(plays((8, 5), (8, 6)), GOT, None, BETWEEN) is None
    assert next_episode(plays((8, 2), (8, 3)), GOT, None, BETWEEN)[:2] == (8, 4)     # type: ignore[index]


def test_where_they_are_is_their_latest_viewing_day_not_their_furthest_episode() -> None:
    # watched all of season 2, then rewatched the start of season 1 weeks later: on with season 1
    rewatch = plays(*[(2, e) for e in range(1, 9)]) + plays((1, 1), (1, 2), start=datetime(2022, 7, 1, tzinfo=UTC))
    assert next_episode(rewatch, BOYS, None, BETWEEN)[:2] == (1, 3)                  # type: ignore[index]
    # an episode skipped and watched later the same evening does not send them back
    same_day = plays((3, 1), (3, 3), (3, 2))
    assert next_episode(same_day, BOYS, None, BETWEEN)[:2] == (3, 4)                 # type: ignore[index]


def test_durations_read_as_people_write_them() -> None:
    for text, minutes in (("90m", 90), ("90", 90), ("2h", 120), ("1h30", 90), ("1.5h", 90), ("1h 30m", 90),
                          ("45 min", 45), ("2 hours", 120)):
        assert duration(text) == minutes, text
    for bad in ("-30m", "abc", "h", "1h30x", ""):
        assert duration(bad) is None, bad
    for tokens in ([], ["soon"], ["3h", "persona", "Comedies"], ["90m", "k:3"], ["90m", "genre:+horor"]):
        with pytest.raises(GrammarError):
            parse_tonight(tokens)
    ask = parse_tonight(["1h30", "mood:something light", "genre:-horror"])
    assert (ask.minutes, ask.mood, ask.filters.genres_out) == (90, "something light", ("horror",))


NOW = datetime(2026, 7, 6, 19, 0, tzinfo=UTC)        # a few days after the demo viewer's last play, 8 pm in London


@pytest.fixture
async def demo(make_engine: Any) -> tuple[Any, int]:
    engine = await make_engine(clock=StoppedClock(NOW))
    pid = await engine.person("console", "you")
    await engine.load_sample(pid)
    return engine, pid


async def test_up_next_on_the_demo_resumes_seasons_and_never_shows_constructed_episode_numbers(
        demo: tuple[Any, int]) -> None:
    engine, pid = demo
    items = await engine.up_next(pid)
    assert items and all(n.episode is None and n.left is None for n in items)    # the demo's numbers are made up
    assert len({n.show_id for n in items}) == len(items)
    text = up_next_text(items, NOW)
    assert text.startswith("Up next:") and "S0" not in text
    gotham = next(n for n in items if n.title == "Gotham")
    assert (gotham.season, gotham.new_season) == (5, True) and "Gotham — season 5 begins" in text


async def test_a_plan_never_runs_over_the_time_and_a_new_pick_fits_what_is_left(demo: tuple[Any, int],
                                                                                  probe: Store) -> None:
    engine, pid = demo
    kept = []
    for minutes in (10, 25, 44, 60, 90, 120, 150, 240, 480, 720):
        plan = await engine.tonight(pid, minutes)
        assert plan.used <= minutes, (minutes, plan)
        for item in plan.items:
            assert item.minutes == item.episodes * (item.show.runtime or 0) and item.episodes >= 1 and item.why
        if plan.pick is not None:
            (p,) = plan.pick.items
            assert p.runtime and plan.pick_minutes == p.runtime <= minutes - sum(i.minutes for i in plan.items)
            kept.append(p.event_id)
        assert plan.items or plan.pick or plan.note
    # only the picks a plan kept count as shown; the candidates it did not use were withdrawn
    async with probe.read() as uow:
        events = await uow.events.of_person(pid)
    assert kept and sorted(e.id for e in events) == sorted(kept)


async def test_a_plan_for_an_evening_reads_well(demo: tuple[Any, int]) -> None:
    engine, pid = demo
    plan = await engine.tonight(pid, 90)
    text = tonight_text(plan)
    assert text.startswith("Tonight, 1 h 30 — ") and "Gotham — season 5 begins" in text
    assert "an episode a week is how you watch it" in text and "you usually watch it in the evening" in text
    big = await engine.tonight(pid, 240)
    binge = next(i for i in big.items if i.show.style == "binge")
    assert binge.episodes > 1 and "you binge this one" in binge.why


async def test_a_mood_keeps_the_shows_in_progress_that_fit_it(demo: tuple[Any, int]) -> None:
    engine, pid = demo
    plan = await engine.tonight(pid, 120, mood="something funny")
    assert [i.show.title for i in plan.items] == ["Silicon Valley"]
    plan = await engine.tonight(pid, 120, filters=Filters(genres_out=("comedy",)))
    assert "Silicon Valley" not in [i.show.title for i in plan.items]


async def test_absurd_times_are_refused_and_change_nothing(demo: tuple[Any, int], probe: Store) -> None:
    engine, pid = demo
    for minutes in (-30, 0, 5, 721, 100_000):
        with pytest.raises(MultitudesError) as e:
            await engine.tonight(pid, minutes)
        assert "between 10 minutes and 12 hours" in e.value.user_message
    async with probe.read() as uow:
        assert await uow.events.of_person(pid) == []


async def test_nothing_fits_says_why(make_engine: Any) -> None:
    engine = await make_engine(clock=StoppedClock(NOW))
    pid = await engine.person("console", "nobody")
    assert "No show in progress" in up_next_text(await engine.up_next(pid), NOW)


# -- /upcoming ics -----------------------------------------------------------------------------------------------

def _events(data: bytes) -> list[Any]:
    return list(IcsCalendarStream.calendar_from_ics(data.decode()).events)


async def test_a_linked_person_gets_every_episode_with_its_time_in_their_zone_and_stable_ids(
        fake_trakt: Any, fake_tmdb: Any, make_engine: Any) -> None:
    fake_trakt.add_user("ann", history=history_rows(500, 30, years=3, seed=43))
    engine = await make_engine(trakt=fake_trakt, tmdb=fake_tmdb)
    pid = await link_person(engine, fake_trakt, "ann")
    await engine.sync(pid)
    await engine.update_settings(pid, timezone="Asia/Tokyo")
    before = fake_trakt.count("/calendars/my/shows/")
    cal = await engine.calendar(pid)
    assert fake_trakt.count("/calendars/my/shows/") - before == 2          # 60 days: 33 + 27, Trakt's limit
    events = _events(cal.data)
    assert cal.episodes == len(events) > 0 and cal.exact > 0 and cal.note is None
    timed = [e for e in events if isinstance(e.dtstart, datetime)]
    assert timed and all(str(e.dtstart.tzinfo) == "Asia/Tokyo" for e in timed), {str(e.dtstart) for e in timed}
    assert b"BEGIN:VTIMEZONE" in cal.data and b"TZID:Asia/Tokyo" in cal.data
    now = engine.clock.now()
    assert all(now.date() <= (e.dtstart.date() if isinstance(e.dtstart, datetime) else e.dtstart) for e in events)
    again = _events((await engine.calendar(pid)).data)
    assert sorted(e.uid for e in again) == sorted(e.uid for e in events)  # a re-import updates, never duplicates
    assert len({e.uid for e in events}) == len(events)


async def test_a_trakt_outage_still_gives_tmdb_dates_and_says_so(fake_trakt: Any, fake_tmdb: Any,
                                                                 make_engine: Any) -> None:
    fake_trakt.add_user("ann", history=history_rows(500, 30, years=3, seed=43))
    engine = await make_engine(trakt=fake_trakt, tmdb=fake_tmdb)
    pid = await link_person(engine, fake_trakt, "ann")
    await engine.sync(pid)
    fake_trakt.inject(503, count=50, path_prefix="/calendars/my/")
    cal = await engine.calendar(pid)
    assert cal.exact == 0 and cal.note and "Trakt did not answer" in cal.note
    assert all(not isinstance(e.dtstart, datetime) for e in _events(cal.data))   # dates: no made-up time of day


async def test_the_demo_calendar_is_valid_and_bad_spans_are_refused(demo: tuple[Any, int]) -> None:
    engine, pid = demo
    cal = await engine.calendar(pid)
    assert len(_events(cal.data)) == cal.episodes and cal.exact == 0
    for days in (0, -1, 400):
        with pytest.raises(MultitudesError):
            await engine.calendar(pid, days)
