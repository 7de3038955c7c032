"""/recommend through the façade and the console, in every mode, against the demo catalogue and the fakes."""

from __future__ import annotations

import io
import json
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.console import Console
from bot.grammar import GrammarError, parse_recommend
from engine.store import SqliteStore
from engine.store.testing import count
from engine.values.catalogue import load_catalogue
from engine.values.errors import MultitudesError
from engine.values.models import FeedbackKind, Filters, Mode, RecommendRequest
from tests.conftest import link_person
from tests.fakes.catalogue import history_rows, play_row
from tests.fakes.clock import FakeClock
from tests.fakes.openai import FakeOpenAI, as_json, is_naming, is_tagging, names_answer, shortlist_ids, tags_answer
from tests.fakes.tmdb import FakeTmdb
from tests.fakes.trakt import FakeTrakt, list_row

pytestmark = pytest.mark.both_stores        # the engine on SQLite and on PostgreSQL


async def forbidden(probe: SqliteStore, pid: int) -> set[int]:
    """Shows a list must never hold: played at all (``max_watched_episodes = 0``), rated, hidden or dropped,
    dismissed."""
    async with probe.read() as uow:
        watched = set(await uow.history.episodes_watched(pid))
        return watched | set(await uow.history.ratings(pid)) | await uow.history.hidden(pid) | set(
            await uow.feedback.dismissed(pid))


async def sample_engine(make_engine: Any, **env: str) -> tuple[Any, int]:
    engine = await make_engine(clock=FakeClock(), **env)
    pid = await engine.person("console", "s")
    await engine.load_sample(pid)
    return engine, pid


@pytest.fixture
async def sample(make_engine: Any) -> tuple[Any, int]:
    return await sample_engine(make_engine)


async def test_every_mode_never_repeats_a_seen_show(sample: tuple[Any, int], probe: SqliteStore) -> None:
    engine, pid = sample
    report = await engine.personas(pid)
    names = [p.name for p in report.personas]
    comedy = next(n for n in names if "omed" in n)
    docs = next(n for n in names if "ocumentar" in n)
    requests = [
        RecommendRequest(pid, k=5), RecommendRequest(pid, mode="all", k=10),
        RecommendRequest(pid, mode="persona", persona=comedy, k=4),
        RecommendRequest(pid, mode="bridge", bridge=(comedy, docs), k=3),
        RecommendRequest(pid, mode="like", like="Fargo", k=3),
        RecommendRequest(pid, mode="mood", mood="something funny and short", k=3),
        RecommendRequest(pid, k=3, filters=Filters(genres_out=("drama",), anime=False, max_runtime=60)),
    ]
    seen_before = await forbidden(probe, pid)
    for req in requests:
        r = await engine.recommend(req)
        ids = [i.show_id for i in r.items]
        assert ids and len(ids) == len(set(ids)), (req.mode, r.note)
        assert not set(ids) & seen_before, req.mode
        assert all(i.reason for i in r.items)
        if req.mode == "all":                                              # every persona, in order, in rounds
            per = max(1, req.k // len(names))
            assert [i.persona_name for i in r.items] == names * per
        if req.mode == "persona":
            assert {i.persona_name for i in r.items} == {comedy} and len(ids) == 4
            assert all("comedy" in i.genres for i in r.items)
        if req.mode == "bridge":
            assert all("Bridges your" in i.reason for i in r.items)
            assert all({"comedy", "documentary"} <= set(i.genres) for i in r.items)
        if req.mode == "like":
            assert any("like" in i.sources for i in r.items) and all("Fargo" in i.reason for i in r.items)
        if req.mode == "mood":
            assert "comedy" in r.note and all("comedy" in i.genres for i in r.items)
            async with probe.read() as uow:              # every shown pick's metadata is stored with it
                runtimes = [s.meta.runtime for s in (await uow.shows.many(ids)).values()]
            assert "35 min" in r.note and all(rt is not None and rt <= 35 for rt in runtimes), runtimes
        if req.filters.genres_out:
            assert all("drama" not in i.genres and (i.runtime or 0) <= 60 for i in r.items)
    assert await count(probe, "rec_events", person_id=pid) >= 25            # every shown pick is an event


async def test_dismissed_never_returns_and_recent_picks_rest(make_engine: Any) -> None:
    engine, pid = await sample_engine(make_engine, MULTITUDES_RECOMMEND__ADAPTIVE="false")   # no decay here
    first = await engine.recommend(RecommendRequest(pid, k=5))
    victim = first.items[0].show_id
    await engine.dismiss(pid, victim)
    second = await engine.recommend(RecommendRequest(pid, k=5))
    assert not {i.show_id for i in second.items} & {i.show_id for i in first.items}   # recently shown rest
    engine.clock.advance(days=30)
    third = [await engine.recommend(RecommendRequest(pid, k=10)) for _ in range(3)]
    assert victim not in {i.show_id for r in third for i in r.items}
    assert {i.show_id for i in third[0].items} & {i.show_id for i in first.items}     # the others come back


async def test_a_person_with_no_history_gets_a_cold_start_list_that_learns(make_engine: Any) -> None:
    engine, _ = await sample_engine(make_engine)                   # someone else's history is in the database
    pid = await engine.person("console", "newcomer")
    got = await engine.recommend(RecommendRequest(pid, k=5))
    assert len(got.items) == 5 and "no viewing history" in got.note
    assert all(it.strategy == "cold" and it.reason and it.event_id for it in got.items)
    assert all(("rated" in it.reason) for it in got.items)            # saying why
    genres = [it.genres[0] for it in got.items if it.genres]
    assert max(genres.count(g) for g in genres) <= 2                    # not five of one kind
    nope = got.items[0]
    await engine.record_feedback(pid, nope.event_id, FeedbackKind.NOT_FOR_ME)
    engine.clock.advance(days=30)                                       # past the rest for recently shown picks
    later = [await engine.recommend(RecommendRequest(pid, k=10)) for _ in range(2)]
    assert nope.show_id not in {it.show_id for r in later for it in r.items}
    only = await engine.recommend(RecommendRequest(pid, k=5, filters=Filters(genres_in=("comedy",))))
    assert only.items and all("comedy" in it.genres for it in only.items)


async def test_all_with_a_larger_k_gives_several_per_persona_without_a_false_note(sample: tuple[Any, int]) -> None:
    engine, pid = sample
    personas = (await engine.personas(pid)).personas
    got = await engine.recommend(RecommendRequest(pid, mode=Mode.ALL, k=20))
    per = 20 // len(personas)
    assert len(got.items) == per * len(personas) and not got.note
    counts = Counter(it.persona_name for it in got.items)
    assert set(counts.values()) == {per} and set(counts) == {p.name for p in personas}
    assert [it.persona_name for it in got.items[:len(personas)]] == [p.name for p in personas]   # rounds


async def test_demo_cards_link_only_real_ids_and_never_state_made_up_facts(sample: tuple[Any, int]) -> None:
    """The bundled catalogue's Trakt ids, slugs and some TMDB ids are made up (marked ``synthesised`` in the data):
    cards link only real ids, and stats do not present made-up episode counts as completion."""
    engine, pid = sample
    entries = {e["imdb_id"]: e for e in load_catalogue()}
    assert all("trakt_id" in e["synthesised"] for e in entries.values())
    got = await engine.recommend(RecommendRequest(pid, k=10))
    assert got.items
    for it in got.items:
        e = entries[it.imdb_id]
        assert it.trakt_url is None
        assert (it.tmdb_url is not None) == e["tmdb_id_real"]
        assert it.imdb_url == f"https://www.imdb.com/title/{e['imdb_id']}/"
        assert it.scores[0] == ("IMDb", f"{e['imdb_rating']:.1f}")          # a real score (JustWatch, MIT)
    stats = await engine.stats(pid)
    assert all(t.completion is None for t in stats.top_shows)


async def test_where_to_watch_follows_the_persons_region(fake_tmdb: FakeTmdb, make_engine: Any) -> None:
    engine = await make_engine(tmdb=fake_tmdb, clock=FakeClock())
    pid = await engine.person("console", "uk")
    await engine.load_sample(pid)
    with pytest.raises(MultitudesError) as refused:
        await engine.update_settings(pid, region="Narnia")                # a country that exists, or nothing changes
    assert "not a country I know" in refused.value.user_message
    with pytest.raises(MultitudesError) as close:
        await engine.update_settings(pid, region="Germny")
    assert "Did you mean region:DE (Germany)?" in close.value.user_message
    assert (await engine.update_settings(pid, region="Britain")).region == "GB"   # a name people use
    assert (await engine.update_settings(pid, region="gb")).region == "GB"
    got = await engine.recommend(RecommendRequest(pid, k=10, filters=Filters(provider="Sky Go")))
    assert got.items and all("Sky Go" in it.providers for it in got.items)   # TMDB's British list, filtered
    assert not any("HBO Max" in it.providers for it in got.items)
    await engine.update_settings(pid, region=None)
    engine.clock.advance(days=30)
    us = await engine.recommend(RecommendRequest(pid, k=10, filters=Filters(provider="HBO Max")))
    assert us.items and all("HBO Max" in it.providers for it in us.items)


async def test_like_finds_a_show_nobody_here_knows_through_tmdb_search(fake_tmdb: FakeTmdb,
                                                                        make_engine: Any) -> None:
    fresh = dict(next(e for e in fake_tmdb.shows.values() if "crime" in e["genres"]))
    fresh.update(tmdb_id=990_123, title="Thursday Murder Club Files", imdb_id="tt99990123", year=2026)
    fake_tmdb.shows[fresh["tmdb_id"]] = fresh                 # on TMDB, not in the bundled catalogue
    assert not any(e["title"] == fresh["title"] for e in load_catalogue())
    offline, opid = await sample_engine(make_engine)
    with pytest.raises(MultitudesError) as refused:
        await offline.recommend(RecommendRequest(opid, mode=Mode.LIKE, like="Thursday Murder Club Files"))
    assert "don't know a show called" in refused.value.user_message
    engine = await make_engine(tmdb=fake_tmdb, clock=FakeClock())
    pid = await engine.person("console", "l")
    await engine.load_sample(pid)
    got = await engine.recommend(RecommendRequest(pid, mode=Mode.LIKE, like="thursday murder club files", k=5))
    assert got.items and any("Thursday Murder Club Files" in it.reason for it in got.items)
    assert fake_tmdb.count("/3/search/tv") >= 1 and fake_tmdb.count("/3/tv/990123") >= 1
    assert await engine.search_titles("Thursday Murder", 5) == ["Thursday Murder Club Files"]   # autocomplete


async def test_backfill_and_small_results_are_explained(sample: tuple[Any, int]) -> None:
    engine, pid = sample
    r = await engine.recommend(RecommendRequest(pid, k=5, filters=Filters(genres_in=("western",), anime=True)))
    assert len(r.items) < 5 and r.note
    with pytest.raises(MultitudesError) as e1:
        await engine.recommend(RecommendRequest(pid, mode="persona", persona="Knitting shows"))
    assert "I don't know the persona" in e1.value.user_message and "Comedies" in e1.value.user_message
    with pytest.raises(MultitudesError) as e2:
        await engine.recommend(RecommendRequest(pid, mode="like", like="A Show That Does Not Exist"))
    assert "show called" in e2.value.user_message


def test_grammar() -> None:
    p = parse_recommend(["bridge", "Comedies", "+", "Dark", "crime", "dramas", "k:3"])
    assert p.mode == "bridge" and p.bridge == ("Comedies", "Dark crime dramas") and p.k == 3
    p = parse_recommend(["like:Breaking Bad", "genre:-horror", "anime:no", "runtime:<45", "status:ended"])
    f = p.filters.build()
    assert (p.mode, p.like, f.genres_out, f.anime, f.max_runtime, f.status) == (
        "like", "Breaking Bad", ("horror",), False, 45, "ended")
    assert parse_recommend(["Comedies"]).persona == "Comedies"
    assert parse_recommend(["crowd", "k:3"]).mode == "crowd"
    for bad in (["k:99"], ["runtime:soon"], ["bridge", "A"], ["colour:blue"], ["anime:maybe"], ["k:²"],
                ["runtime:<²"]):
        with pytest.raises(GrammarError):
            parse_recommend(bad)


async def test_console_recommend(sample: tuple[Any, int]) -> None:
    engine, _ = sample
    out = io.StringIO()
    lines = iter(["recommend k:3", "recommend all", 'recommend like:"Fargo" k:2', "recommend k:0", "quit"])

    async def read(prompt: str) -> str | None:
        return next(lines, None)

    con = Console(engine, out=out, user="s", read_line=read)
    await con.run()
    text = out.getvalue()
    assert "Recommendations across your personas:" in text and "One pick per persona:" in text
    assert "If you liked that:" in text and "side." in text
    assert "k:0 should be a number from 1 to 20" in text


async def test_live_sources_through_the_fakes(fake_trakt: FakeTrakt, fake_tmdb: FakeTmdb, make_engine: Any,
                                             probe: SqliteStore) -> None:
    from tests.fakes.catalogue import catalogue
    fake_trakt.add_user("liv", history=history_rows(400, 25, seed=31),
                        watchlist=[list_row(e) for e in catalogue()[1000:1003]])
    engine = await make_engine(trakt=fake_trakt, tmdb=fake_tmdb)
    pid = await link_person(engine, fake_trakt, "liv")
    await engine.sync(pid)
    fake_trakt.inject(503, 10_000, path_prefix="/shows/anticipated")      # one source down: the rest answer
    r = await engine.recommend(RecommendRequest(pid, k=6))
    assert len(r.items) == 6
    sources = {s for i in r.items for s in i.sources}
    assert sources & {"tmdb_recommendations", "tmdb_similar", "tmdb_discover", "trakt_related"}
    assert not {i.show_id for i in r.items} & await forbidden(probe, pid)
    for path in ("/shows/trending", "/recommendations/shows", "/sync/last_activities"):
        assert fake_trakt.count(path) >= 1
    assert fake_tmdb.count("/3/tv/") > 0 and fake_tmdb.count("/3/discover/tv") >= 1
    # a second request reuses cached lists: no new TMDB or Trakt list calls
    before = (fake_tmdb.count("/3/discover/tv"), fake_trakt.count("/shows/trending"))
    await engine.recommend(RecommendRequest(pid, k=6))
    assert (fake_tmdb.count("/3/discover/tv"), fake_trakt.count("/shows/trending")) == before


async def test_llm_picks_validated_and_backfilled(tmp_path: Path, make_engine: Any, capsys: Any,
                                                  caplog: Any, probe: SqliteStore) -> None:
    answers: list[Any] = []

    def responder(req: dict[str, Any]) -> Any:
        if is_tagging(req):
            return tags_answer(req)
        if is_naming(req):
            return names_answer(req, "Side")
        ids = shortlist_ids(req)
        if not answers:
            answers.append("first")
            # one invented id, one duplicate, then two real ones from the end of the shortlist
            return as_json({"picks": [{"id": 999999, "persona_id": None, "reason": "Invented show."},
                                      {"id": ids[-1], "persona_id": None, "reason": "A grounded reason one."},
                                      {"id": ids[-1], "persona_id": None, "reason": "Duplicate."},
                                      {"id": ids[-2], "persona_id": None, "reason": "A grounded reason two."}]})
        answers.append("garbage")
        return "I think you would enjoy… {not json"

    async with FakeOpenAI(responder) as fake:
        engine = await make_engine(llm=fake)
        pid = await engine.person("console", "s")
        await engine.load_sample(pid)
        await engine.personas(pid)
        from bot.logs import setup_logging
        setup_logging(engine.settings)
        calls_before = len(fake.requests)
        with caplog.at_level(logging.INFO):
            r = await engine.recommend(RecommendRequest(pid, k=4))
        assert len(fake.requests) - calls_before == 1 and r.llm_used and r.llm_calls == 1
        assert r.prompt_tokens > 0
        reasons = [i.reason for i in r.items]
        assert reasons[:2] == ["A grounded reason one.", "A grounded reason two."]
        assert "Invented show." not in reasons and "Duplicate." not in reasons
        assert len(r.items) == 4 and len({i.show_id for i in r.items}) == 4     # backfilled by the engine
        assert all(i.rank == n for n, i in enumerate(r.items, start=1))
        # malformed JSON: retried once, then the engine's own picks and reasons
        r2 = await engine.recommend(RecommendRequest(pid, k=3))
        assert answers.count("garbage") == 2 and not r2.llm_used
        assert all(i.reason.startswith(("Because you watched", "Popular")) for i in r2.items)
        prompt = "You recommend TV shows to one person from a shortlist"
        assert prompt in (tmp_path / "prompts.log").read_text()
        out = capsys.readouterr()
        assert prompt not in out.out + out.err
        assert not any(prompt in rec.getMessage() for rec in caplog.records)
        async with probe.read() as uow:
            ev = await uow.events.of_person(pid)
        assert [e.llm for e in ev[:4]] == [True] * 4 and ev[0].reason == "A grounded reason one."


async def test_feedback_is_idempotent_and_undoable(sample: tuple[Any, int], probe: SqliteStore) -> None:
    engine, pid = sample
    r = await engine.recommend(RecommendRequest(pid, k=3))
    ids = [i.event_id for i in r.items]
    await engine.attach_message(ids, "telegram", "chat1:42")
    assert await engine.events_for_message("telegram", "chat1:42") == ids
    nope, seen = r.items[0], r.items[1]
    assert await engine.record_feedback(pid, nope.event_id, "not_for_me")
    assert not await engine.record_feedback(pid, nope.event_id, "not_for_me")        # redelivered: counted once
    assert await engine.record_feedback(pid, seen.event_id, "seen")
    assert await engine.record_feedback(pid, seen.event_id, "seen", active=False)    # reaction removed: undone
    assert await engine.record_feedback(pid, seen.event_id, "seen")                  # and added again
    async with probe.read() as uow:
        states = [await uow.feedback.state(pid, i.event_id, k) for i in r.items for k in FeedbackKind]
    assert [(s.kind, s.active) for s in states if s] == [(FeedbackKind.NOT_FOR_ME, True), (FeedbackKind.SEEN, True)]
    engine.clock.advance(days=60)
    later = [await engine.recommend(RecommendRequest(pid, k=10)) for _ in range(3)]
    shown = {i.show_id for x in later for i in x.items}
    assert nope.show_id not in shown and seen.show_id not in shown
    with pytest.raises(MultitudesError):
        await engine.record_feedback(pid + 1000, nope.event_id, "liked")


async def test_group_watch_least_misery_and_opt_in(fake_trakt: FakeTrakt, make_engine: Any,
                                                   probe: SqliteStore) -> None:
    """Three linked members: nothing any of them has seen, and nobody is included without opting in."""
    engine = await make_engine(trakt=fake_trakt)
    pids = []
    for n, name in enumerate(("ann", "ben", "cat")):
        fake_trakt.add_user(name, history=history_rows(250, 15, years=2, seed=50 + n))
        await engine.person("console", name, name.title())
        pid = await link_person(engine, fake_trakt, name)
        await engine.sync(pid)
        pids.append(pid)
    here, elsewhere = ("console", "g"), ("console", "h")
    for p in pids[:2]:
        await engine.set_group_opt_in(*here, p, True)
    await engine.set_group_opt_in(*elsewhere, pids[2], True)         # an opt-in in another group says nothing here
    with pytest.raises(MultitudesError) as e:
        await engine.group_recommend(pids, here, k=3)
    assert "Cat" in e.value.user_message and "/settings group:on" in e.value.user_message
    await engine.set_group_opt_in(*here, pids[2], True)
    await engine.set_group_opt_in(*elsewhere, pids[0], False)        # nor does an opt-out there (issue 24, 3)
    await engine.update_settings(pids[2], timezone="Europe/Paris")
    r = await engine.group_recommend(pids, here, k=3)
    assert len(r.items) == 3
    seen: set[int] = set()
    async with probe.read() as uow:
        for p in pids:
            seen |= await uow.history.played_shows(p)
        events = await uow.events.of_request(r.request_id)
    assert not {i.show_id for i in r.items} & seen
    assert all(all(n in i.reason for n in ("Ann's", "Ben's", "Cat's")) for i in r.items)
    assert {e.person_id for e in events} == set(pids)
    # a re-roll asks the group again: whoever opted out here since is left out of it (issue 24, 3)
    await engine.set_group_opt_in(*here, pids[2], False)
    again = await engine.reroll_group(r.request_id, pids[0], here, k=3)
    async with probe.read() as uow:
        again_events = await uow.events.of_request(again.request_id)
    assert {e.person_id for e in again_events} == set(pids[:2])
    assert all("Cat's" not in i.reason for i in again.items)
    await engine.set_group_opt_in(*here, pids[1], False)
    with pytest.raises(MultitudesError):                              # one left: no group to re-roll for
        await engine.reroll_group(r.request_id, pids[0], here, k=3)
    with pytest.raises(MultitudesError):
        await engine.update_settings(pids[0], timezone="Mars/Olympus")
    with pytest.raises(MultitudesError):
        await engine.update_settings(pids[0], colour="blue")


async def test_upcoming_lists_announced_episodes(fake_trakt: FakeTrakt, fake_tmdb: FakeTmdb, make_engine: Any) -> None:
    from tests.fakes.catalogue import catalogue
    airing = [e for e in catalogue() if e["status"] == "returning series" and e["tmdb_id"] % 3 == 0][:3]
    fake_trakt.add_user("una", history=[r for r in history_rows(200, 40, seed=61)])
    from datetime import UTC, datetime
    fake_trakt.add_plays("una", [(e, 1, 1, datetime(2026, 1, 5, 20, tzinfo=UTC)) for e in airing])
    engine = await make_engine(trakt=fake_trakt, tmdb=fake_tmdb)
    pid = await link_person(engine, fake_trakt, "una")
    await engine.sync(pid)
    items = await engine.upcoming(pid, days=90)
    titles = {u.title for u in items}
    assert {e["title"] for e in airing} <= titles
    assert [u.air_date for u in items] == sorted(u.air_date for u in items)
    assert all(u.kind == "premiere" for u in items if u.title in {e["title"] for e in airing})
    from bot import render
    assert "season premiere" in render.upcoming(items)


async def test_adoption_from_later_plays_and_success_rates(fake_trakt: FakeTrakt, fake_tmdb: FakeTmdb,
                                                           make_engine: Any, probe: SqliteStore) -> None:
    from datetime import UTC, datetime, timedelta

    from engine.usecases.feedback import wilson
    from tests.fakes.catalogue import catalogue
    fake_trakt.add_user("ada", history=history_rows(300, 20, years=2, seed=71))
    engine = await make_engine(trakt=fake_trakt, tmdb=fake_tmdb)
    pid = await link_person(engine, fake_trakt, "ada")
    await engine.sync(pid)
    r = await engine.recommend(RecommendRequest(pid, k=4))
    picked = r.items[0]
    async with probe.read() as uow:
        row = await uow.shows.get(picked.show_id)
    assert row is not None
    entry = next(e for e in catalogue() if e["trakt_id"] == row.ids.trakt)
    soon = datetime.now(UTC) + timedelta(minutes=1)
    fake_trakt.add_plays("ada", [(entry, 1, 1, soon), (entry, 1, 2, soon + timedelta(minutes=50))])
    await engine.sync(pid)
    rates = {x.key: x for x in await engine.success_rates(pid, "all")}
    assert rates["all"].shown == 4 and rates["all"].started == 1 and rates["all"].finished == 0
    per = entry["episodes_per_season"]
    fake_trakt.add_plays("ada", [(entry, s, n, soon + timedelta(hours=s * 30 + n))
                                 for s in range(1, entry["seasons"] + 1) for n in range(1, per + 1)
                                 if (s, n) not in ((1, 1), (1, 2))])
    await engine.sync(pid)
    rates = {x.key: x for x in await engine.success_rates(pid, "all")}
    assert rates["all"].finished == 1
    assert rates["all"].low < 0.25 < rates["all"].high
    assert {x.key for x in await engine.success_rates(None, "strategy")} <= {"blend", "taste", "crowd"}
    assert {x.key for x in await engine.success_rates(None, "mode")} == {"auto"}
    lo, hi = wilson(0, 0)
    assert (lo, hi) == (0.0, 1.0) and wilson(50, 100)[0] < 0.5 < wilson(50, 100)[1]


def test_source_posteriors_blend_a_global_prior_with_the_person() -> None:
    from engine.recommend.adapt import ArmStats
    from engine.recommend.adapt import posteriors as source_posteriors
    everyone = {"trending": ArmStats(1000, 100), "cowatch": ArmStats(1000, 300)}
    post = source_posteriors({"trending": ArmStats(10, 8)}, everyone)
    mean = {k: a / (a + b) for k, (a, b) in post.items()}
    assert mean["cowatch"] > 0.25                       # the prior (30%) carries a source the person never saw
    assert mean["trending"] > mean["cowatch"]           # 8 of 10 started outweighs the 10% global prior
    assert source_posteriors({}, {})  == {}


async def test_not_for_me_lowers_close_neighbours(make_engine: Any) -> None:
    engine, pid = await sample_engine(make_engine, MULTITUDES_RECOMMEND__ADAPTIVE="false",
                                      MULTITUDES_RECOMMEND__RECENT_DAYS="0")   # the same candidates, same moment
    comedy = next(p.name for p in (await engine.personas(pid)).personas if "omed" in p.name)
    first = await engine.recommend(RecommendRequest(pid, mode="persona", persona=comedy, k=10))
    before = {i.show_id: i.score for i in first.items}
    # the pick to dismiss: the one with the closest neighbour in the same list (the penalty reaches shows whose
    # features are close to it)
    dep = await engine._s.recommender.deployments.current()         # the feature rows the penalty reads
    ids = list(before)
    rows = dep.rows(ids)
    sims = np.asarray((rows @ rows.T).todense())
    np.fill_diagonal(sims, 0.0)
    target = ids[int(np.argmax(sims.max(axis=1)))]
    near = {ids[j] for j in np.flatnonzero(sims[ids.index(target)] > 0.65)}      # penalty 1.5 x (cosine - 0.6)
    assert near, "the list holds no two close shows to test with"
    await engine.record_feedback(pid, next(i.event_id for i in first.items if i.show_id == target), "not_for_me")
    engine.clock.advance(seconds=1)                  # past the (zero-day) rest of the first list
    after = {i.show_id: i.score for i in (await engine.recommend(
        RecommendRequest(pid, mode="persona", persona=comedy, k=20))).items}
    assert target not in after
    common = set(before) & set(after)
    # signals are standardised over each request's candidates, so a pool one show smaller moves every score a
    # little; what "not for me" does must be well beyond that
    assert common and all(after[s] <= before[s] + 0.03 for s in common), {s: (before[s], after[s]) for s in common}
    assert all(after.get(s, -1.0) < before[s] - 0.05 for s in near)           # close neighbours pushed down


async def test_ignored_picks_decay_with_every_showing(make_engine: Any, monkeypatch: pytest.MonkeyPatch,
                                                     probe: SqliteStore) -> None:
    """Shown and walked past: each showing costs score, so a list stops repeating what the person ignores;
    a pick that got any feedback does not decay."""
    from engine.recommend import adapt
    engine, pid = await sample_engine(make_engine, MULTITUDES_RECOMMEND__RECENT_DAYS="0")
    monkeypatch.setattr(adapt, "draw", lambda post, rng: {k: 0.5 for k in post})   # isolate the decay
    first = await engine.recommend(RecommendRequest(pid, k=10, use_context=False))
    before = {i.show_id: i.score for i in first.items}
    await engine.record_feedback(pid, first.items[0].event_id, "liked")
    engine.clock.advance(seconds=1)
    second = await engine.recommend(RecommendRequest(pid, k=20, use_context=False))
    after = {i.show_id: i.score for i in second.items}
    liked = first.items[0].show_id
    assert liked in after and after[liked] == pytest.approx(before[liked], abs=1e-3)
    ignored = [s for s in set(before) & set(after) if s != liked]
    assert ignored and all(after[s] < before[s] - 0.1 for s in ignored)
    async with probe.read() as uow:
        counts = await uow.feedback.ignored_counts(pid, engine.clock.now())
    assert liked not in counts and all(counts[s] == 1 for s in ignored)


async def test_llm_reasons_reach_people_as_plain_words(make_engine: Any) -> None:
    """Links, bare domains, mentions and markup from the model never reach a chat; a reason with nothing left is
    replaced by the engine's own."""
    hostile = ["@everyone VISIT evil.example now https://evil.example/x <@123> **Tense** like [Ozark](http://a.b)",
               "<@&42> www.spam.test"]

    def responder(req: dict[str, Any]) -> Any:
        if is_tagging(req):
            return tags_answer(req)
        if is_naming(req):
            return names_answer(req, "Side")
        ids = shortlist_ids(req)
        return as_json({"picks": [{"id": ids[0], "persona_id": None, "reason": hostile[0]},
                                  {"id": ids[1], "persona_id": None, "reason": hostile[1]}]})

    async with FakeOpenAI(responder) as fake:
        engine = await make_engine(llm=fake)
        pid = await engine.person("console", "s")
        await engine.load_sample(pid)
        r = await engine.recommend(RecommendRequest(pid, k=2))
    first, second = (i.reason for i in r.items[:2])
    for bad in ("@", "evil", "http", "www", "<", "*", "[", "spam"):
        assert bad not in first + second, (first, second)
    assert "Tense like Ozark" in first
    assert second.startswith(("Because you watched", "Popular")), second


async def test_co_watching_uses_only_people_who_opted_in(make_engine: Any) -> None:
    """Another person's history shapes my picks (co-watching, popular here) only once they said so."""
    from tests.fakes.catalogue import catalogue
    engine = await make_engine()
    cat = [e for e in catalogue() if e.get("tmdb_id")]
    me = await engine.person("console", "me")
    others = [await engine.person("console", f"other{i}") for i in range(5)]
    shared, theirs = cat[:25], cat[25:45]

    def export(shows: list[dict[str, Any]]) -> bytes:
        rows = [play_row(10_000 * k + i, datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=k, hours=i), e, 1, 1)
                for k, e in enumerate(shows) for i in range(2)]
        return json.dumps({"history": rows}).encode()

    await engine.import_history(me, "me.json", export(shared))
    for o in others:                                   # co-watching needs five people (three on a show)
        await engine.import_history(o, "other.json", export(shared + theirs))

    async def cowatched() -> set[int]:
        r = await engine.recommend(RecommendRequest(me, k=10, use_llm=False))
        return {i.show_id for i in r.items if "cowatch" in i.sources}

    assert not await cowatched()                       # nobody opted in: their histories are not used
    for o in others:
        await engine.update_settings(o, share_cowatch=True)
    assert await cowatched(), "opted-in neighbours' shows come in through co-watching"
    await engine.update_settings(others[0], share_cowatch=False)
    assert not await cowatched()                       # an opt-out holds from the next request on



async def test_someone_who_left_the_group_is_out_of_its_group_watch(make_engine: Any) -> None:
    """Issue 24 (3): opted in once, then left the group: their history is not in the group's picks."""
    from bot.conversation import Conversation
    from bot.memory import MemoryPlatform
    engine = await make_engine(clock=FakeClock())
    p = MemoryPlatform(Conversation(engine), name="memory")
    for uid in ("1", "2", "3"):
        pid = await engine.person("memory", uid, f"P{uid}")
        await engine.load_sample(pid)
        await p.say(uid, "/settings group:on", group="g1")
    p.left["g1"] = {"3"}
    got = await p.say("1", "/groupwatch", group="g1")
    heading = next(s.text for s in got if s.kind == "text")
    assert "for 2 of you" in heading, [s.text for s in got]
    assert all("P3" not in s.text for s in got if s.kind == "pick")
