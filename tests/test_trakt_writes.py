"""Trakt both ways (`/settings trakt:write`): 👀 asks whether to mark the show watched on Trakt, `/rate` writes the
rating, 👎 keeps the show out of Trakt's own recommendations — through the real client against the Trakt fake,
each write once, and none of it counted as the person adopting a pick."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.conversation import Conversation
from bot.grammar import GrammarError, parse_rate
from bot.memory import MemoryPlatform
from engine.values.catalogue import aired_episodes
from engine.values.errors import MultitudesError
from engine.values.models import FeedbackKind, RecommendRequest
from tests.conftest import link_person
from tests.fakes.catalogue import catalogue, history_rows, play_row
from tests.fakes.tmdb import FakeTmdb
from tests.fakes.trakt import FakeTrakt

pytestmark = pytest.mark.both_stores


async def _ann(make_engine: Any, trakt: FakeTrakt, tmdb: FakeTmdb, *, write: bool = True,
               platform: str = "console") -> tuple[Any, int]:
    trakt.add_user("ann", history=history_rows(300, 20, years=2, seed=43))
    engine = await make_engine(trakt=trakt, tmdb=tmdb)
    pid = await link_person(engine, trakt, "ann", platform=platform)
    await engine.sync(pid)
    if write:
        await engine.update_settings(pid, trakt_write=True)
    return engine, pid


async def test_seen_it_marks_the_show_watched_on_trakt_once_and_earns_no_adoption(
        make_engine: Any, fake_trakt: FakeTrakt, fake_tmdb: FakeTmdb, probe: Any) -> None:
    engine, pid = await _ann(make_engine, fake_trakt, fake_tmdb)
    picks = await engine.recommend(RecommendRequest(pid, k=3, use_llm=False))
    first = picks.items[0]
    noted = await engine.record_feedback(pid, first.event_id, FeedbackKind.SEEN)
    assert noted.offer_watched
    title, added = await engine.mark_watched(pid, first.event_id)
    assert title == first.title and added > 0
    (user, body), = fake_trakt.history_adds
    assert user == "ann" and body["shows"][0]["watched_at"] == "released"
    with pytest.raises(MultitudesError, match="already marked"):
        await engine.mark_watched(pid, first.event_id)                  # never sent twice
    assert len(fake_trakt.history_adds) == 1
    again = await engine.record_feedback(pid, first.event_id, FeedbackKind.SEEN, False)
    assert not again.offer_watched
    assert not (await engine.record_feedback(pid, first.event_id, FeedbackKind.SEEN)).offer_watched
    # the marked plays come back with the next sync, and so does an evening's rewatch of it: neither is the pick's
    # adoption (she had seen it before it was recommended)
    entry = next(e for e in catalogue() if e["trakt_id"] == first.trakt_id)
    fake_trakt.users["ann"].history.insert(0, play_row(8_000_001, datetime.now(UTC), entry, 1, 1))
    report = await engine.sync(pid)
    assert report.new_plays >= added + 1
    async with probe.read() as uow:
        adopted = {c.event_id for c in await uow.feedback.adoption_candidates(pid)}
    assert first.event_id not in adopted


async def test_an_unconfirmed_mark_is_never_repeated_and_says_to_look(
        make_engine: Any, fake_trakt: FakeTrakt, fake_tmdb: FakeTmdb) -> None:
    engine, pid = await _ann(make_engine, fake_trakt, fake_tmdb)
    pick = (await engine.recommend(RecommendRequest(pid, k=1, use_llm=False))).items[0]
    fake_trakt.inject(502, count=1, path_prefix="/sync/history")
    with pytest.raises(MultitudesError) as e:
        await engine.mark_watched(pid, pick.event_id)
    assert "did not confirm" in e.value.user_message and fake_trakt.count("/sync/history", method="POST") == 1
    with pytest.raises(MultitudesError, match="already marked"):
        await engine.mark_watched(pid, pick.event_id)


async def test_ratings_reach_trakt_and_come_off_again(make_engine: Any, fake_trakt: FakeTrakt,
                                                      fake_tmdb: FakeTmdb, probe: Any) -> None:
    engine, pid = await _ann(make_engine, fake_trakt, fake_tmdb)
    title = (await engine.history(pid, 1))[0].title
    got = await engine.rate(pid, title.lower(), 9)
    assert got.on_trakt and got.rating == 9
    rows = fake_trakt.users["ann"].ratings
    assert [(r["show"]["title"], r["rating"]) for r in rows if r["show"]["title"] == got.title] == [(got.title, 9)]
    await engine.rate(pid, title, 7)                                   # a new rating replaces the old one
    assert [r["rating"] for r in fake_trakt.users["ann"].ratings if r["show"]["title"] == got.title] == [7]
    await engine.rate(pid, title, None)
    assert not [r for r in fake_trakt.users["ann"].ratings if r["show"]["title"] == got.title]
    async with probe.read() as uow:
        assert not await uow.history.ratings(pid)
    with pytest.raises(MultitudesError) as e:
        await engine.rate(pid, title[:-1] + "x", 8)
    assert "Did you mean" in e.value.user_message
    for bad in (["Severance", "11"], ["Severance", "ten"], ["9"]):
        with pytest.raises(GrammarError):
            parse_rate(bad)


async def test_without_trakt_write_nothing_reaches_trakt(make_engine: Any, fake_trakt: FakeTrakt,
                                                        fake_tmdb: FakeTmdb) -> None:
    engine, pid = await _ann(make_engine, fake_trakt, fake_tmdb, write=False)
    pick = (await engine.recommend(RecommendRequest(pid, k=1, use_llm=False))).items[0]
    assert not (await engine.record_feedback(pid, pick.event_id, FeedbackKind.SEEN)).offer_watched
    with pytest.raises(MultitudesError) as e:
        await engine.mark_watched(pid, pick.event_id)
    assert "/settings trakt:write" in e.value.user_message
    got = await engine.rate(pid, (await engine.history(pid, 1))[0].title, 8)
    assert not got.on_trakt and not fake_trakt.users["ann"].ratings
    await engine.record_feedback(pid, pick.event_id, FeedbackKind.NOT_FOR_ME)
    assert not fake_trakt.users["ann"].hidden.get("recommendations")


async def test_not_for_me_hides_it_from_trakts_recommendations_too(make_engine: Any, fake_trakt: FakeTrakt,
                                                                   fake_tmdb: FakeTmdb) -> None:
    engine, pid = await _ann(make_engine, fake_trakt, fake_tmdb)
    pick = (await engine.recommend(RecommendRequest(pid, k=1, use_llm=False))).items[0]
    await engine.record_feedback(pid, pick.event_id, FeedbackKind.NOT_FOR_ME)
    hidden = fake_trakt.users["ann"].hidden.get("recommendations", [])
    assert [r["show"]["title"] for r in hidden] == [pick.title]
    await engine.record_feedback(pid, pick.event_id, FeedbackKind.NOT_FOR_ME, False)      # undone: back again
    assert not fake_trakt.users["ann"].hidden.get("recommendations")


async def test_the_question_after_seen_it_goes_to_the_person_and_their_answer_is_done(
        make_engine: Any, fake_trakt: FakeTrakt, fake_tmdb: FakeTmdb) -> None:
    engine, _ = await _ann(make_engine, fake_trakt, fake_tmdb, platform="memory")
    chat = MemoryPlatform(Conversation(engine))
    got = await chat.say("ann", "/recommend k:1")
    pick = next(s for s in got if s.kind == "pick")
    assert pick.rec is not None
    answered = await chat.press("ann", f"fb:{pick.rec.event_id}:seen")
    question = next(s for s in answered if s.kind == "confirm")
    assert "watched on Trakt" in question.text and question.token
    other = await chat.press("bob", f"cf:{question.token}:yes")           # someone else's press does nothing
    assert "someone else" in other[-1].text and not fake_trakt.history_adds
    done = await chat.press("ann", f"cf:{question.token}:yes")
    assert "Marked" in done[-1].text and len(fake_trakt.history_adds) == 1
    assert "expired" in (await chat.press("ann", f"cf:{question.token}:yes"))[-1].text


async def test_seen_it_can_mark_only_up_to_an_episode(make_engine: Any, fake_trakt: FakeTrakt,
                                                      fake_tmdb: FakeTmdb) -> None:
    """👀's question answered with `watched S02E03`: the seasons before it and that season up to that episode, once;
    a malformed episode or a `watched` with no question pending is a clear answer that marks nothing."""
    engine, _ = await _ann(make_engine, fake_trakt, fake_tmdb, platform="memory")
    chat = MemoryPlatform(Conversation(engine))
    nothing = await chat.say("ann", "/watched S01E02")
    assert "press 👀 on a pick first" in nothing[-1].text and not fake_trakt.history_adds
    got = await chat.say("ann", "/recommend k:3")
    pick = next(s for s in got if s.kind == "pick" and s.rec is not None and s.rec.trakt_id is not None)
    assert pick.rec is not None
    entry = next(e for e in catalogue() if e["trakt_id"] == pick.rec.trakt_id)
    per = entry["episodes_per_season"]
    answered = await chat.press("ann", f"fb:{pick.rec.event_id}:seen")
    assert "watched S02E04" in next(s for s in answered if s.kind == "confirm").text
    bad = await chat.say("ann", "/watched season two")
    assert "not an episode" in bad[-1].text and not fake_trakt.history_adds
    done = await chat.say("ann", "/watched S02E03")
    aired = aired_episodes(entry)
    want = min(aired, per) + min(3, max(0, aired - per))              # season 1, then S02E01–E03 where aired
    assert f"up to S02E03 ({want} episode" in done[-1].text, done[-1].text
    [(who, body)] = fake_trakt.history_adds
    assert who == "ann"
    seasons = body["shows"][0]["seasons"]
    assert [s["number"] for s in seasons] == [1, 2] and "episodes" not in seasons[0]
    assert [e["number"] for e in seasons[1]["episodes"]] == [1, 2, 3]
    again = await chat.say("ann", "/watched S02E03")                   # the question was answered: nothing pending
    assert "press 👀 on a pick first" in again[-1].text and len(fake_trakt.history_adds) == 1

