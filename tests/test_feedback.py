"""The feedback loop through the façade: Trakt watchlist writes (and a full watchlist), what /stats shows to a
person and to the bot owner, and the bandit's state surviving a restart."""

from __future__ import annotations

from typing import Any

import pytest

from bot.conversation import Conversation
from bot.memory import MemoryPlatform
from engine.store import SqliteStore
from engine.values.errors import TraktAccountLimit
from engine.values.models import FeedbackKind, RecommendRequest
from tests.conftest import link_person
from tests.fakes.catalogue import history_rows
from tests.fakes.tmdb import FakeTmdb
from tests.fakes.trakt import FakeTrakt

pytestmark = pytest.mark.both_stores        # the engine on SQLite and on PostgreSQL


async def test_add_to_watchlist_writes_to_trakt_only_when_allowed_and_a_full_list_is_explained(
        fake_trakt: FakeTrakt, fake_tmdb: FakeTmdb, make_engine: Any, probe: SqliteStore) -> None:
    user = fake_trakt.add_user("wes", history=history_rows(200, 15, years=1, seed=5))
    user.watchlist_limit = 1
    engine = await make_engine(trakt=fake_trakt, tmdb=fake_tmdb)
    pid = await link_person(engine, fake_trakt, "wes")
    await engine.sync(pid)
    r = await engine.recommend(RecommendRequest(pid, k=3))
    a, b, c = r.items
    # not allowed yet: kept here only
    assert await engine.record_feedback(pid, a.event_id, "watchlist")
    assert user.watchlist == [] and fake_trakt.count("/sync/watchlist", "POST") == 0
    await engine.update_settings(pid, trakt_watchlist=True)
    assert await engine.record_feedback(pid, b.event_id, "watchlist")
    assert len(user.watchlist) == 1
    sent = user.watchlist[0]["show"]["ids"]
    async with probe.read() as uow:
        row = await uow.shows.get(b.show_id)
    assert row is not None and (sent.get("tmdb") == row.ids.tmdb or sent.get("trakt") == row.ids.trakt)
    # the list is full (limit 1): Trakt answers 420; the feedback is kept and the message says what to do
    with pytest.raises(TraktAccountLimit) as e:
        await engine.record_feedback(pid, c.event_id, "watchlist")
    assert "watchlist is full" in e.value.user_message and "420" in e.value.user_message
    async with probe.read() as uow:
        kept = set(await uow.history.watchlist(pid))
    assert {a.show_id, b.show_id, c.show_id} <= kept
    assert not await engine.record_feedback(pid, c.event_id, "watchlist")     # redelivered: counted once


async def test_stats_show_rates_and_the_bandit_and_only_owners_see_everyone(make_engine: Any,
                                                                           tmp_path: Any) -> None:
    engine = await make_engine(MULTITUDES_FEEDBACK__OWNERS='["console:boss"]')
    pid = await engine.person("console", "pat", "Pat")
    await engine.load_sample(pid)
    r = await engine.recommend(RecommendRequest(pid, k=5))
    for item in r.items[:2]:
        await engine.record_feedback(pid, item.event_id, "liked")
    await engine.record_feedback(pid, r.items[2].event_id, "not_for_me")
    lg = await engine.learning(pid)
    assert sum(x.shown for x in lg.rates["strategy"]) == 5
    assert {x.key for x in lg.rates["persona"]} <= {p.name for p in (await engine.personas(pid)).personas}
    sources = [a for a in lg.arms if a.kind == "source" and a.shown]
    assert sources and sum(a.adopted for a in sources) >= 2        # liked picks count for their sources
    personas = [a for a in lg.arms if a.kind == "persona"]
    assert len(personas) == len((await engine.personas(pid)).personas)
    chat = MemoryPlatform(Conversation(engine), name="console")
    text = (await chat.say("pat", "/stats"))[-1].text
    assert "My picks for you: 5 shows suggested" in text and "2 liked · 1 not for you" in text
    assert not any(w in text for w in ("strategy", "blend", "popular_here", "source "))   # no internal names
    assert "Only the bot owner" in (await chat.say("pat", "/stats all"))[-1].text
    everyone = (await chat.say("boss", "/stats all"))[-1].text
    assert "everyone's" in everyone and "What I have learned" not in everyone


async def test_feedback_and_bandit_state_survive_a_restart(make_engine: Any) -> None:
    engine = await make_engine()
    pid = await engine.person("console", "ren", "Ren")
    await engine.load_sample(pid)
    r = await engine.recommend(RecommendRequest(pid, k=4))
    ev = r.items[0].event_id
    assert await engine.record_feedback(pid, ev, "liked")
    assert not await engine.record_feedback(pid, ev, "liked")                 # duplicate delivery
    assert await engine.record_feedback(pid, ev, "liked", active=False)       # removed …
    assert await engine.record_feedback(pid, ev, "liked")                     # … and added again
    before = await engine.learning(pid)
    await engine.close()
    again = await make_engine()                                               # same database file
    after = await again.learning(pid)
    assert [(x.key, x.shown, x.liked) for x in after.rates["strategy"]] == \
        [(x.key, x.shown, x.liked) for x in before.rates["strategy"]]
    assert sum(x.liked for x in after.rates["strategy"]) == 1 and sum(x.shown for x in after.rates["strategy"]) == 4
    assert {a.kind for a in after.arms} == {"source", "persona", "strategy"}
    assert [(a.arm, a.alpha, a.beta) for a in after.arms] == [(a.arm, a.alpha, a.beta) for a in before.arms]


async def test_reordered_reaction_events_keep_the_newest_state(make_engine: Any, probe: SqliteStore) -> None:
    from datetime import UTC, datetime, timedelta
    engine = await make_engine()
    pid = await engine.person("console", "ola", "Ola")
    await engine.load_sample(pid)
    ev = (await engine.recommend(RecommendRequest(pid, k=2))).items[0].event_id
    t = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    # the platform says: added at t, removed at t+1, added again at t+2 — delivered as add(t), add(t+2), remove(t+1)
    assert await engine.record_feedback(pid, ev, "not_for_me", True, at=t)
    assert not await engine.record_feedback(pid, ev, "not_for_me", True, at=t + timedelta(seconds=2))
    assert not await engine.record_feedback(pid, ev, "not_for_me", False, at=t + timedelta(seconds=1))
    async with probe.read() as uow:
        state = await uow.feedback.state(pid, ev, FeedbackKind.NOT_FOR_ME)
        assert state is not None and state.active and await uow.feedback.dismissed(pid)
    # a genuinely newer removal still applies
    assert await engine.record_feedback(pid, ev, "not_for_me", False, at=t + timedelta(seconds=3))
    async with probe.read() as uow:
        assert not await uow.feedback.dismissed(pid)


def test_adaptation_terms_are_relative_and_bounded() -> None:
    from engine.recommend import adapt
    draws = {"a": 0.02, "b": 0.06, "c": 0.5}
    mean = sum(draws.values()) / 3
    assert adapt.source_bonus(["b"], draws, mean) < adapt.source_bonus(["c"], draws, mean)
    assert adapt.source_bonus(["a", "c"], draws, mean) == adapt.source_bonus(["c"], draws, mean)   # the best source
    assert all(abs(adapt.source_bonus([k], draws, mean)) <= adapt.SOURCE_BONUS + 1e-12 for k in draws)
    assert adapt.source_bonus(["unknown"], draws, mean) == 0.0
    m = adapt.persona_multipliers([0.001, 0.05, 0.9])
    assert m[0] <= m[1] < m[2] and m.min() >= 0.5 ** adapt.PERSONA_TILT - 1e-12 and m.max() <= 2 ** adapt.PERSONA_TILT
    assert adapt.ignored_penalty(0) == 0 and adapt.ignored_penalty(1) < adapt.ignored_penalty(2)
    assert adapt.ignored_penalty(50) == adapt.ignored_penalty(adapt.IGNORED_CAP)
