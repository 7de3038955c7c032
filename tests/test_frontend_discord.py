"""End to end through the real discord.py Bot against a loopback Discord REST + gateway, with the engine on real
SQLite and the Trakt and TMDB fakes: link -> sync -> personas -> recommend -> 👎 never returns -> 👀 seen."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from bot.discord import DiscordFrontend
from engine.models import RecommendRequest
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
                                                             make_engine: Any) -> None:
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
            await dc.wait_sent(4)
            assert "Your taste personas" in dc.sent[3]["content"]
            # /recommend: one embed per pick, three buttons each, the bot seeds the reactions
            n = len(dc.sent)
            await dc.slash(UID, "recommend", {"filters": "k:3"})
            picks = (await dc.wait_sent(n + 3))[n:n + 3]
            assert all(len(m["components"][0]["components"]) == 3 and m["embeds"] for m in picks)
            await _until(lambda: len(dc.reactions) >= 9)
            first, second = picks[0], picks[1]
            buttons = first["components"][0]["components"]
            custom = next(c["custom_id"] for c in buttons if "not_for_me" in c["custom_id"])
            event = int(custom.split(":")[1])
            pid = await engine.find_person("discord", str(UID))
            show = (await engine.store.one("SELECT show_id FROM rec_events WHERE id=?", (event,)))[0]
            await dc.click(UID, first, custom)
            await _until(lambda: any("won't come back" in (c.get("data") or {}).get("content", "")
                                     for c in dc.callbacks))
            assert show in await engine.recommender.excluded(pid)
            later = await engine.recommend(RecommendRequest(pid, k=10))
            assert show not in {i.show_id for i in later.items}
            # 👀 reaction on the second pick is recorded; removing it undoes it
            ev2 = int(second["components"][0]["components"][0]["custom_id"].split(":")[1])
            await dc.react(UID, second, "👀")

            async def state() -> int:
                row = await engine.store.one("SELECT active FROM feedback WHERE event_id=? AND kind='seen'", (ev2,))
                return int(row[0]) if row else -1

            for want, add in ((1, None), (0, False)):
                if add is not None:
                    await dc.react(UID, second, "👀", add=add)
                deadline = asyncio.get_running_loop().time() + 10
                while await state() != want:
                    assert asyncio.get_running_loop().time() < deadline
                    await asyncio.sleep(0.02)
            assert not dc.unhandled, dc.unhandled
        finally:
            await fe.stop()
