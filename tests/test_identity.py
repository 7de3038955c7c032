"""Nobody is anybody else: events that do not come from a person (anonymous group admins, channel posts, bots,
forwarded and edited commands) are refused with a reply, through the real front ends, and never become a person."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.identity import ANONYMOUS, CHANNEL_BOT, EDITED, FORWARDED, GROUP_ANONYMOUS_BOT, discord_refusal
from bot.telegram import TelegramFrontend
from engine.store import SqliteStore
from engine.store.testing import count
from tests.fakes.telegram import FakeTelegram

GROUP_A, GROUP_B = -1001, -1002


async def _settle(tg: FakeTelegram, n: int) -> list[dict[str, Any]]:
    return await tg.wait_sent(n)


async def test_anonymous_admins_and_channels_are_nobody(make_engine: Any, probe: SqliteStore) -> None:
    async with FakeTelegram() as tg:
        engine = await make_engine(MULTITUDES_TELEGRAM__BASE_URL=f"{tg.url}/bot",
                                   MULTITUDES_TELEGRAM__BASE_FILE_URL=f"{tg.url}/file/bot")
        fe = TelegramFrontend(engine, tg.token)
        await fe.start()
        try:
            # an anonymous admin of group A asks for the sample history; one of group B asks for "their" history
            tg.command(GROUP_ANONYMOUS_BOT, "/sync", chat=GROUP_A, kind="supergroup", sender_chat=GROUP_A,
                       name="Group")
            tg.command(GROUP_ANONYMOUS_BOT, "/history 3", chat=GROUP_B, kind="supergroup", sender_chat=GROUP_B,
                       name="Group")
            tg.command(CHANNEL_BOT, "/recommend", chat=GROUP_B, kind="supergroup", sender_chat=-1009, name="Channel")
            sent = await _settle(tg, 3)
            assert all(m["text"] == ANONYMOUS for m in sent[:3])
            assert {m["chat"]["id"] for m in sent[:3]} == {GROUP_A, GROUP_B}
            tg.command(7, "/help", forwarded_from=8)
            tg.command(7, "/history", edited=True)
            sent = await _settle(tg, 5)
            assert [m["text"] for m in sent[3:5]] == [FORWARDED, EDITED] or \
                   sorted(m["text"] for m in sent[3:5]) == sorted([FORWARDED, EDITED])
            tg.command(99, "/recommend", is_bot=True)            # a bot: not even a reply
            tg.command(7, "/help")                               # a person is still answered
            sent = await _settle(tg, 6)
            await asyncio.sleep(0.2)
            assert len(tg.sent) == 6 and "recommend" in tg.sent[5]["text"].lower()
            for nobody in (GROUP_ANONYMOUS_BOT, CHANNEL_BOT, 99):
                assert await count(probe, "identities", platform_user_id=str(nobody)) == 0
            assert await count(probe, "identities") == 0          # /help needs nobody; nothing was made for anyone
        finally:
            await fe.stop()


def test_discord_bots_and_system_accounts_are_nobody() -> None:
    class U:
        def __init__(self, bot: bool = False, system: bool = False) -> None:
            self.bot, self.system, self.id = bot, system, 1
    assert discord_refusal(U()) is None
    assert discord_refusal(U(bot=True)) is not None and discord_refusal(U(system=True)) is not None
    assert discord_refusal(None) is not None
