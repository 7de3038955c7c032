"""End to end through the real discord.py Bot against a loopback Discord REST + gateway, with the engine on real
SQLite and the Trakt and TMDB fakes: link -> sync -> personas -> recommend -> 👎 never returns -> 👀 seen."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from bot.discord import DiscordFrontend
from engine.store import SqliteStore
from engine.store.testing import count
from engine.values.errors import MultitudesError
from engine.values.models import FeedbackKind, RecommendRequest
from tests.fakes.catalogue import history_rows
from tests.fakes.discord import FakeDiscord
from tests.fakes.tmdb import FakeTmdb
from tests.fakes.trakt import FakeTrakt

UID = 31337


async def _until(cond: Any, within: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not cond():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_discord_link_sync_personas_recommend_feedback(fake_trakt: FakeTrakt, fake_tmdb: FakeTmdb,
                                                             make_engine: Any, probe: SqliteStore) -> None:
    fake_trakt.add_user("dora", history=history_rows(600, 30, years=3, seed=43))
    async with FakeDiscord() as dc:
        engine = await make_engine(trakt=fake_trakt, tmdb=fake_tmdb,
                                   MULTITUDES_DISCORD__API_BASE=f"{dc.url}/api/v10",
                                   MULTITUDES_DISCORD__GATEWAY_URL=dc.gateway_url)
        fe = DiscordFrontend(engine, "fake-bot-token", guild_ready_timeout=0.05)
        await asyncio.wait_for(fe.start(), 20)
        try:
            assert {"recommend", "personas", "link", "sync", "stats", "help"} <= {c["name"] for c in dc.commands}
            # /link: the code only for the asker (ephemeral), then the follow-up once approved
            await dc.slash(UID, "link")
            sent = await dc.wait_sent(1)
            assert sent[0]["flags"] & 64
            code = re.search(r"code (\w+)", sent[0]["content"]).group(1)     # type: ignore[union-attr]
            fake_trakt.approve(code, "dora")
            await dc.wait_sent(2)
            assert "Linked to Trakt as dora" in dc.sent[1]["content"]
            # /sync and /personas are deferred (thinking) and answered by follow-ups
            await dc.slash(UID, "sync")
            await dc.wait_sent(3)
            assert "Synced" in dc.sent[2]["content"] and dc.callbacks[-1]["type"] == 5
            await dc.slash(UID, "personas")
            await dc.wait_sent(7)
            assert "Your taste personas" in dc.sent[3]["content"]     # then the three charts
            assert [m["content"] for m in dc.sent[4:7]] == ["Your tastes over time", "When you watch",
                                                           "Your shows by persona"]
            # /recommend: a heading, one embed per pick, three buttons each, the bot seeds the reactions
            n = len(dc.sent)
            await dc.slash(UID, "recommend", {"filters": "k:3"})
            picks = (await dc.wait_sent(n + 4))[n + 1:n + 4]
            assert all(len(m["components"][0]["components"]) == 3 and m["embeds"] for m in picks)
            await _until(lambda: len(dc.reactions) >= 12)
            first, second = picks[0], picks[1]
            buttons = first["components"][0]["components"]
            custom = next(c["custom_id"] for c in buttons if "not_for_me" in c["custom_id"])
            event = int(custom.split(":")[1])
            pid = await engine.find_person("discord", str(UID))
            async with probe.read() as uow:
                ev = await uow.events.get(event)
            assert ev is not None
            show = ev.show_id
            await dc.click(UID, first, custom)
            await _until(lambda: any("won't come back" in m.get("content", "") for m in dc.sent))
            async with probe.read() as uow:
                assert show in await uow.feedback.dismissed(pid)
            later = await engine.recommend(RecommendRequest(pid, k=10))
            assert show not in {i.show_id for i in later.items}
            # 👀 reaction on the second pick is recorded; removing it undoes it
            ev2 = int(second["components"][0]["components"][0]["custom_id"].split(":")[1])
            await dc.react(UID, second, "👀")

            async def state() -> int:
                async with probe.read() as uow:
                    got = await uow.feedback.state(pid, ev2, FeedbackKind.SEEN)
                return int(got.active) if got else -1

            for want, add in ((1, None), (0, False)):
                if add is not None:
                    await dc.react(UID, second, "👀", add=add)
                deadline = asyncio.get_running_loop().time() + 10
                while await state() != want:
                    assert asyncio.get_running_loop().time() < deadline
                    await asyncio.sleep(0.02)
            # /bridge between the two biggest personas
            names = [p.name for p in (await engine.personas(pid)).personas]
            n = len(dc.sent)
            await dc.slash(UID, "bridge", {"first": names[0], "second": names[1]})
            bridged = (await dc.wait_sent(n + 2))[n + 1]
            assert "Bridges your" in bridged["embeds"][0]["description"]
            assert not dc.unhandled, dc.unhandled
        finally:
            await fe.stop()


async def test_discord_groupwatch_needs_opt_in_and_skips_what_anyone_saw(fake_trakt: FakeTrakt,
                                                                        make_engine: Any,
                                                                        probe: SqliteStore) -> None:
    from tests.conftest import link_person
    async with FakeDiscord() as dc:
        engine = await make_engine(trakt=fake_trakt, MULTITUDES_DISCORD__API_BASE=f"{dc.url}/api/v10",
                                   MULTITUDES_DISCORD__GATEWAY_URL=dc.gateway_url)
        users = {101: "ann", 102: "ben", 103: "cat"}
        pids = {}
        for uid, name in users.items():
            fake_trakt.add_user(name, history=history_rows(250, 15, years=2, seed=uid))
            await link_person(engine, fake_trakt, name, platform_id=str(uid))     # at the console first …
            pids[uid] = await link_person(engine, fake_trakt, name, platform_id=str(uid), platform="discord")
            await engine.sync(pids[uid])                  # … and the same Trakt account from Discord: one person
            assert pids[uid] == await engine.find_person("console", str(uid))
        fe = DiscordFrontend(engine, "fake-bot-token", guild_ready_timeout=0.05)
        await asyncio.wait_for(fe.start(), 20)
        try:
            for uid in (101, 102):
                await dc.slash(uid, "settings", {"group": "on"})
            await dc.wait_sent(2)
            dc.user(102, "ben")
            dc.user(103, "cat")
            dc.user(101, "ann")

            async def groupwatch() -> None:
                await dc.slash(101, "groupwatch", users={"a": 102, "b": 103})

            await groupwatch()
            refusal = (await dc.wait_sent(3))[2]["content"]
            assert "must opt in to group picks here" in refusal and "cat" in refusal.lower()
            # opting in elsewhere (a private chat, another server) does not count here
            await engine.update_settings(pids[103], group_opt_in=True)
            await engine.set_group_opt_in("discord", "another-server", pids[103], True)
            people_before = await count(probe, "people")
            dc.user(104, "dan")                                   # never used the bot
            await dc.slash(101, "groupwatch", users={"a": 103, "b": 104})
            refusal = (await dc.wait_sent(4))[3]["content"]
            assert "must opt in to group picks here" in refusal and "cat" in refusal.lower()
            assert await count(probe, "people") == people_before   # nobody created for a mention
            await dc.slash(103, "settings", {"group": "on"})
            await dc.wait_sent(5)
            n = len(dc.sent)
            await groupwatch()
            msgs = (await dc.wait_sent(n + 4))[n:n + 4]
            assert "Group picks for" in msgs[0]["content"]
            titles = [m["embeds"][0]["title"].split(". ", 1)[1].rsplit(" (", 1)[0] for m in msgs[1:]]
            seen_titles = set()
            async with probe.read() as uow:
                for p in pids.values():
                    seen_titles |= {h.title for h in await uow.history.recent(p, 10_000)}
            assert titles and not set(titles) & seen_titles
            assert all("ann's" in m["embeds"][0]["description"].lower() for m in msgs[1:])
            # re-roll: three different shows for the same people
            reroll = (await dc.wait_sent(n + 5))[n + 4]
            await dc.click(102, reroll, reroll["components"][0]["components"][0]["custom_id"])
            again = (await dc.wait_sent(n + 9))[n + 5:n + 9]
            assert "Re-rolled" in again[0]["content"]
            new_titles = [m["embeds"][0]["title"].split(". ", 1)[1].rsplit(" (", 1)[0] for m in again[1:]]
            assert len(new_titles) == 3 and not set(new_titles) & set(titles) and not set(new_titles) & seen_titles
            assert not dc.unhandled
        finally:
            await fe.stop()


@asynccontextmanager
async def demo_discord(make_engine: Any) -> AsyncIterator[FakeDiscord]:
    """The real front end against the Discord fake, on the offline demo engine; the fake must have served it all."""
    async with FakeDiscord() as dc:
        engine = await make_engine(MULTITUDES_DISCORD__API_BASE=f"{dc.url}/api/v10",
                                   MULTITUDES_DISCORD__GATEWAY_URL=dc.gateway_url)
        fe = DiscordFrontend(engine, "fake-bot-token", guild_ready_timeout=0.05)
        await asyncio.wait_for(fe.start(), 20)
        try:
            yield dc
            assert not dc.unhandled
        finally:
            await fe.stop()


async def test_discord_import_attachment(make_engine: Any) -> None:
    async with demo_discord(make_engine) as dc:
        await dc.upload(UID, "import", "file", "NetflixViewingHistory.csv",
                        b'Title,Date\n"Ozark: Season 1: Sugarwood","1/5/22"\n')
        sent = await dc.wait_sent(1)
        assert "Imported Netflix viewing activity: 1 new play " in sent[0]["content"] and sent[0]["flags"] & 64


async def test_services_autocomplete_completes_the_last_name_typed(make_engine: Any) -> None:
    async with demo_discord(make_engine) as dc:
        got = await dc.autocomplete(UID, "settings", "services", "netflix,hu")
        assert got and all(c["value"].startswith("netflix,") for c in got)
        assert "netflix,Hulu" in [c["value"] for c in got]
        first = await dc.autocomplete(UID, "settings", "services", "netf")
        assert [c["value"] for c in first] == ["Netflix"]
        await dc.slash(UID, "settings", {"services": "netflix,Hulu"})
        sent = await dc.wait_sent(1)
        assert "your services: Netflix, Hulu" in sent[0]["content"]


async def test_a_shard_identifies_as_its_share_and_only_shard_zero_registers_commands(make_engine: Any) -> None:
    """`multitudes run --shard I/N`: IDENTIFY carries [I, N] (Discord routes that share of the servers to this
    process); the slash commands are registered once, by shard 0."""
    for shard, registers in (((1, 3), False), ((0, 3), True)):
        async with FakeDiscord() as dc:
            engine = await make_engine(MULTITUDES_DISCORD__API_BASE=f"{dc.url}/api/v10",
                                       MULTITUDES_DISCORD__GATEWAY_URL=dc.gateway_url)
            fe = DiscordFrontend(engine, "fake-bot-token", guild_ready_timeout=0.05, shard=shard)
            await asyncio.wait_for(fe.start(), 20)
            try:
                assert dc.identify[-1]["shard"] == list(shard)
                assert bool(dc.commands) is registers
                assert not dc.unhandled
            finally:
                await fe.stop()


def test_shards_are_checked_and_need_the_shared_store(tmp_path: Any, monkeypatch: Any, capsys: Any) -> None:
    from bot.cli import main, parse_shard
    assert parse_shard("2/3") == (2, 3) and parse_shard(None) is None
    for bad in ("3/3", "a/b", "1", "-1/2"):
        with pytest.raises(MultitudesError):
            parse_shard(bad)
    monkeypatch.setenv("MULTITUDES_STORAGE__PATH", str(tmp_path / "m.db"))
    monkeypatch.setenv("MULTITUDES_LOGGING__FILE", str(tmp_path / "m.log"))
    monkeypatch.setenv("MULTITUDES_DISCORD_TOKEN", "fake-bot-token")
    assert main(["run", "--shard", "1/2"]) == 2
    assert "PostgreSQL" in capsys.readouterr().err
