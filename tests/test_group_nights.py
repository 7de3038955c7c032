"""Group nights that work: /groupwatch with filters and the members' shared services, a vote deadline (`in:2h`)
after which no vote counts and the result is announced once in the chat, and — on Telegram — members named by
reply or mention."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from bot.grammar import GrammarError, parse_groupwatch
from bot.telegram import TelegramFrontend
from engine.recommend.weights import SIGNALS
from engine.values.errors import MultitudesError
from engine.values.models import Filters
from tests.fakes.clock import FakeClock
from tests.fakes.telegram import FakeTelegram

NOW = datetime(2026, 7, 6, 19, 0, tzinfo=UTC)
CHAT = ("memory", "g")


class Notices:
    platform = "memory"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send_notice(self, target: str, text: str) -> str:
        self.sent.append((target, text))
        return str(len(self.sent))


async def two(make_engine: Any) -> tuple[Any, FakeClock, int, int]:
    clock = FakeClock(NOW)
    engine = await make_engine(clock=clock)
    ann, ben = await engine.person("memory", "a", "Ann"), await engine.person("memory", "b", "Ben")
    for p in (ann, ben):
        await engine.load_sample(p)
        await engine.set_group_opt_in(*CHAT, p, True)
    return engine, clock, ann, ben


@pytest.mark.both_stores
async def test_a_deadline_closes_the_vote_and_the_result_is_announced_once(make_engine: Any) -> None:
    engine, clock, ann, ben = await two(make_engine)
    got = await engine.group_recommend([ann, ben], CHAT, closes_at=NOW + timedelta(hours=2))
    first, second = got.items[0], got.items[1]
    await engine.group_vote(first.event_id, ann, up=True)
    await engine.group_vote(second.event_id, ben, up=True)
    await engine.group_vote(first.event_id, ben, up=True)
    notices = Notices()
    assert await engine.close_group_votes({"memory": notices}) == 0            # not yet
    clock.advance(hours=2, seconds=1)
    with pytest.raises(MultitudesError) as e:
        await engine.group_vote(second.event_id, ann, up=True)
    assert "closed" in e.value.user_message
    assert await engine.close_group_votes({"memory": notices}) == 1
    (target, text), = notices.sent
    assert target == "channel:g" and first.title in text and "👍 2 · 👎 0" in text and "2 of 2 voted" in text
    assert await engine.close_group_votes({"memory": notices}) == 0             # once
    assert len(notices.sent) == 1


@pytest.mark.both_stores
async def test_nobody_voting_is_said_and_a_finished_vote_is_not_announced_again(make_engine: Any) -> None:
    engine, clock, ann, ben = await two(make_engine)
    quiet = await engine.group_recommend([ann, ben], CHAT, closes_at=NOW + timedelta(minutes=30))
    done = await engine.group_recommend([ann, ben], CHAT, closes_at=NOW + timedelta(minutes=30))
    for pick in done.items:                          # everyone voted on everything: announced by the last vote
        for p in (ann, ben):
            tally = await engine.group_vote(pick.event_id, p, up=True)
    assert tally.announce
    clock.advance(minutes=31)
    notices = Notices()
    assert await engine.close_group_votes({"memory": notices}) == 1
    assert "nobody voted" in notices.sent[0][1]
    assert quiet.request_id != done.request_id


@pytest.mark.both_stores
async def test_filters_and_shared_services_shape_the_picks(make_engine: Any) -> None:
    engine, _, ann, ben = await two(make_engine)
    got = await engine.group_recommend([ann, ben], CHAT, filters=Filters(genres_in=("comedy",)))
    assert got.items and all("comedy" in it.genres for it in got.items)
    with pytest.raises(MultitudesError) as e:
        await engine.group_recommend([ann, ben], CHAT, filters=Filters(provider="mine"))
    assert "share none" in e.value.user_message
    await engine.update_settings(ann, services=("hulu", "netflix"))
    await engine.update_settings(ben, services=("hulu",))
    mine = await engine.group_recommend([ann, ben], CHAT, filters=Filters(provider="mine"))
    assert mine.items and all("Hulu" in it.providers for it in mine.items)
    for bad in (NOW - timedelta(minutes=1), NOW + timedelta(days=8)):
        with pytest.raises(MultitudesError):
            await engine.group_recommend([ann, ben], CHAT, closes_at=bad)


def test_the_groupwatch_words() -> None:
    ask = parse_groupwatch(["in:1h30", "@ben", "genre:+comedy"])
    assert ask.closes_in == 90 and ask.filters.genres_in == ("comedy",)
    assert parse_groupwatch([]).closes_in is None
    for bad in (["in:2m"], ["in:9d"], ["in:soon"], ["persona:x"], ["k:3"]):
        with pytest.raises(GrammarError):
            parse_groupwatch(bad)


async def test_telegram_members_named_by_reply_mention_or_username(make_engine: Any) -> None:
    async with FakeTelegram() as tg:
        engine = await make_engine(MULTITUDES_TELEGRAM__BASE_URL=f"{tg.url}/bot",
                                   MULTITUDES_TELEGRAM__BASE_FILE_URL=f"{tg.url}/file/bot")
        fe = TelegramFrontend(engine, tg.token)
        await fe.start()
        try:
            group = -100500
            for uid, name in ((11, "Ann"), (12, "Ben"), (13, "Cat")):
                pid = await engine.person("telegram", str(uid), name)
                await engine.load_sample(pid)
                tg.command(uid, "/settings group:on", chat=group, name=name, kind="group")
                await tg.wait_sent(uid - 10)

            async def ask(want: int, **kw: Any) -> str:
                """/groupwatch from Ann; what the bot said once ``want`` messages came (a list is its heading,
                three picks and the re-roll offer: five)."""
                n = len(tg.sent)
                tg.command(11, "/groupwatch", chat=group, name="Ann", kind="group", **kw)
                await tg.wait_sent(n + want, within=60)
                return "\n".join(str(m.get("text") or m.get("caption") or "") for m in tg.sent[n:])

            refused = await ask(1, at=["zed"])                               # nobody the bot has seen
            assert "@zed" in refused and "opt in" in refused
            # (a text mention — the account itself — is what the conversation suite sends on Telegram)
            assert "you all" in await ask(5, reply_to=(12, "Ben"))          # replying to Ben's message
            assert "you all" in await ask(5, at=["cat"])                    # @cat: seen before, so known
        finally:
            await fe.stop()
            await asyncio.sleep(0)


def test_the_ledger_tips_the_least_misery_toward_whoever_was_served_worst() -> None:
    import numpy as np

    from engine.recommend.ranking import group_picks
    from engine.recommend.weights import shipped
    # two candidates the plain least misery ranks A first (equal worst fit, Ann's better mean), B better for Ben
    affinity = np.array([[0.9, 0.5], [0.5, 0.7]])
    scored = SimpleNamespace(pool=[0, 1], affinity=affinity, Z=np.zeros((2, len(SIGNALS))), penalty=np.zeros(2),
                             assign=np.array([0, 1]))
    job = SimpleNamespace(group=[("Ann", [0]), ("Ben", [1])], group_weights=[1.0, 1.0], req=SimpleNamespace(k=2))
    profile = shipped().profile("live")
    assert [p.index for p in group_picks(scored, job, profile)] == [0, 1]
    job.group_weights = [1.0, 1.5]
    assert [p.index for p in group_picks(scored, job, profile)] == [1, 0]


@pytest.mark.both_stores
async def test_whoever_the_last_night_served_worst_weighs_more_and_is_told_so(make_engine: Any) -> None:
    engine, _, ann, ben = await two(make_engine)
    first = await engine.group_recommend([ann, ben], CHAT)
    for n, pick in enumerate(first.items):                     # Ann likes the first, Ben likes none of them
        await engine.group_vote(pick.event_id, ann, up=n == 0)
        tally = await engine.group_vote(pick.event_id, ben, up=False)
    assert tally.done and tally.winner == first.items[0].title
    again = await engine.group_recommend([ann, ben], CHAT)
    assert all("Ben's taste weighs a little more tonight" in it.reason for it in again.items)
    assert not any("Ann's taste weighs" in it.reason for it in again.items)


def test_a_time_to_watch_is_read_in_the_askers_zone() -> None:
    from bot.render_plans import next_time
    assert parse_groupwatch(["at:21:00"]).at == (21, 0) and parse_groupwatch(["at:9"]).at == (9, 0)
    for bad in (["at:25:00"], ["at:21:75"], ["at:tonight"]):
        with pytest.raises(GrammarError):
            parse_groupwatch(bad)
    summer = datetime(2026, 7, 6, 19, 30, tzinfo=UTC)                # 20:30 in London
    assert next_time((21, 0), "Europe/London", summer) == datetime(2026, 7, 6, 20, 0, tzinfo=UTC)
    assert next_time((20, 0), "Europe/London", summer) == datetime(2026, 7, 7, 19, 0, tzinfo=UTC)


@pytest.mark.both_stores
async def test_a_time_to_watch_closes_the_vote_then_and_goes_with_the_result(make_engine: Any) -> None:
    engine, clock, ann, ben = await two(make_engine)
    at = NOW + timedelta(hours=3)
    with pytest.raises(MultitudesError):                              # watching before the vote closes
        await engine.group_recommend([ann, ben], CHAT, closes_at=NOW + timedelta(hours=4), event_at=at)
    got = await engine.group_recommend([ann, ben], CHAT, event_at=at, announce_to="channel-7")
    await engine.group_vote(got.items[0].event_id, ann, up=True)
    clock.advance(hours=3, seconds=1)                                 # no deadline given: it closes at the start

    class Events(Notices):
        def __init__(self) -> None:
            super().__init__()
            self.events: list[tuple[str, str, datetime]] = []

        async def schedule_event(self, target: str, title: str, when: datetime) -> bool:
            self.events.append((target, title, when))
            return True

    notices = Events()
    assert await engine.close_group_votes({"memory": notices}) == 1
    (target, text), = notices.sent
    assert target == "channel:channel-7" and "Watching together at" in text and "server's events" in text
    assert notices.events == [("channel:channel-7", got.items[0].title, at)]


@pytest.mark.both_stores
async def test_a_reroll_asks_again_the_same_way(make_engine: Any) -> None:
    engine, clock, ann, ben = await two(make_engine)
    first = await engine.group_recommend([ann, ben], CHAT, filters=Filters(genres_in=("comedy",)),
                                         closes_at=NOW + timedelta(hours=2), announce_to="channel-9")
    again = await engine.reroll_group(first.request_id, ben, CHAT)
    assert again.items and all("comedy" in it.genres for it in again.items)
    assert not {it.show_id for it in again.items} & {it.show_id for it in first.items}
    clock.advance(hours=2, seconds=1)                                  # the same deadline holds for the re-roll
    with pytest.raises(MultitudesError):
        await engine.group_vote(again.items[0].event_id, ann, up=True)
    notices = Notices()
    assert await engine.close_group_votes({"memory": notices}) == 2
    assert {t for t, _ in notices.sent} == {"channel:channel-9"}
