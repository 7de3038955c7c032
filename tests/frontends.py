"""The real Telegram and Discord front ends against their loopback fakes, on an engine ``make_engine`` builds: the
set-up every end-to-end test of a front end shares."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tests.fakes.discord import FakeDiscord
from tests.fakes.telegram import FakeTelegram


@asynccontextmanager
async def telegram_bot(make_engine: Any, **kw: Any) -> AsyncIterator[FakeTelegram]:
    from bot.telegram import TelegramFrontend
    async with FakeTelegram() as tg:
        engine = await make_engine(MULTITUDES_TELEGRAM__BASE_URL=f"{tg.url}/bot",
                                   MULTITUDES_TELEGRAM__BASE_FILE_URL=f"{tg.url}/file/bot", **kw)
        fe = TelegramFrontend(engine, tg.token)
        await fe.start()
        try:
            yield tg
        finally:
            await fe.stop()


@asynccontextmanager
async def discord_bot(make_engine: Any, **kw: Any) -> AsyncIterator[FakeDiscord]:
    from bot.discord import DiscordFrontend
    async with FakeDiscord() as dc:
        engine = await make_engine(MULTITUDES_DISCORD__API_BASE=f"{dc.url}/api/v10",
                                   MULTITUDES_DISCORD__GATEWAY_URL=dc.gateway_url, **kw)
        fe = DiscordFrontend(engine, "fake-bot-token", guild_ready_timeout=0.05)
        await asyncio.wait_for(fe.start(), 20)
        try:
            yield dc
        finally:
            await fe.stop()
