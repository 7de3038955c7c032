"""Scheduled messages through the real platform libraries: alerts and the weekly digest sent by the Telegram and
Discord notifiers to their loopback fakes, and the one APScheduler with its persistent job store."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.discord import DiscordFrontend
from bot.telegram import TelegramFrontend
from engine.schedule import Scheduler
from engine.store import SqliteStore
from tests.fakes.clock import FakeClock
from tests.fakes.discord import FakeDiscord
from tests.fakes.lifecycle import Lifecycle
from tests.fakes.telegram import FakeTelegram
from tests.test_alerts import NOW, OTHER, PARIS, RECENT, Recorder, lifecycle, world

pytestmark = pytest.mark.both_stores        # the engine on SQLite and on PostgreSQL

__all__ = ["lifecycle"]


async def _until(cond: Any, within: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not cond():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def to_digest_time(clock: FakeClock) -> None:
    """On to the next Sunday 18:00 in Paris: the default digest moment (feedback.digest_weekday/hour)."""
    while clock.now().astimezone(PARIS).weekday() != 6:
        clock.advance(days=1)
    clock.advance(hours=18 - clock.now().astimezone(PARIS).hour)


async def test_telegram_sends_alerts_privately_and_the_digest_with_buttons(
        tmp_path: Path, lifecycle: Lifecycle, make_engine: Any, probe: SqliteStore) -> None:
    clock = FakeClock(NOW)
    async with FakeTelegram() as tg, world(tmp_path, lifecycle, make_engine, clock, platform="telegram",
                                           MULTITUDES_TELEGRAM__BASE_URL=f"{tg.url}/bot",
                                           MULTITUDES_TELEGRAM__BASE_FILE_URL=f"{tg.url}/file/bot") as (
            trakt, _, engine):
        fe = TelegramFrontend(engine, tg.token)
        await fe.start()
        try:
            await engine.scan_alerts()
            clock.advance(days=3, hours=6)                                # Friday noon UTC
            rep = await engine.deliver_alerts({"telegram": fe})
            assert rep.sent >= 2 and rep.failed == 0
            texts = {m["chat"]["id"]: m["text"] for m in tg.sent}
            assert f"season {RECENT['seasons'] + 1} premieres" in texts[9000]              # wendy, privately
            assert f"season {OTHER['seasons'] + 1} is complete" in texts[9001]             # bill
            alerts = [a for a in await engine.person_alerts(await engine.find_person("telegram", "9000"))
                      if a.status == "sent"]
            assert alerts and all(a.kind == "premiere" for a in alerts)
            # the weekly digest: opt-in, on the person's weekday and hour, once per week
            wendy = await engine.find_person("telegram", "9000")
            await engine.update_settings(wendy, digest=True)
            to_digest_time(clock)                                                  # Sunday 18:00 Paris
            n = len(tg.sent)
            assert await engine.send_digests({"telegram": fe}) == 1
            assert await engine.send_digests({"telegram": fe}) == 0                        # once a week
            digest = tg.sent[n:]
            assert "Your week on Multitudes" in digest[0]["text"] and digest[0]["chat"]["id"] == 9000
            assert len(digest) == 4 and all(len(m["reply_markup"]["inline_keyboard"][0]) == 3 for m in digest[1:])
            event = int(digest[1]["reply_markup"]["inline_keyboard"][0][1]["callback_data"].split(":")[1])
            assert await engine.events_for_message("telegram", f"9000:{digest[1]['message_id']}") == [event]
            clock.advance(days=7)
            assert await engine.send_digests({"telegram": fe}) == 1                        # next week's
            # 📌 on a pick writes to the Trakt watchlist when allowed; a full list (420) is explained, kept here
            await engine.update_settings(wendy, trakt_watchlist=True)
            trakt.users["wendy"].watchlist_limit = 0
            tg.press(9000, digest[1], f"fb:{event}:watchlist")
            await _until(lambda: any("watchlist is full" in a.get("text", "") for a in tg.answered))
            async with probe.read() as uow:
                ev = await uow.events.get(event)
                assert ev is not None and ev.show_id in await uow.history.watchlist(wendy)
            # /upcoming lists what is coming and the alerts still to be sent (bill's "returning" is next week)
            n = len(tg.sent)
            tg.command(9001, "/upcoming")
            reply = (await tg.wait_sent(n + 1))[n]["text"]
            assert "Alerts I will send you" in reply and "returning" in reply
            # channel:here, typed in a group: bill's alerts go to that group from now on
            n = len(tg.sent)
            tg.command(9001, "/settings channel:here", chat=-100500)
            await tg.wait_sent(n + 1)
            bill = await engine.find_person("telegram", "9001")
            assert (await engine.person_settings(bill)).alert_channel == "telegram:-100500"
            clock.advance(days=4)
            n = len(tg.sent)
            assert (await engine.deliver_alerts({"telegram": fe})).sent >= 1
            assert any(m["chat"]["id"] == -100500 and "is back after" in m["text"] for m in tg.sent[n:])
        finally:
            await fe.stop()


async def test_a_telegram_process_that_does_not_poll_still_delivers(tmp_path: Path, lifecycle: Lifecycle,
                                                                   make_engine: Any) -> None:
    """Shards 1..N-1 of a sharded deployment: Telegram allows one getUpdates poller per token, so they only send."""
    clock = FakeClock(NOW)
    async with FakeTelegram() as tg, world(tmp_path, lifecycle, make_engine, clock, platform="telegram",
                                           MULTITUDES_TELEGRAM__BASE_URL=f"{tg.url}/bot",
                                           MULTITUDES_TELEGRAM__BASE_FILE_URL=f"{tg.url}/file/bot") as (_, _t, engine):
        fe = TelegramFrontend(engine, tg.token, poll=False)
        await fe.start()
        try:
            await engine.scan_alerts()
            clock.advance(days=3, hours=6)
            rep = await engine.deliver_alerts({"telegram": fe})
            assert rep.sent >= 2 and rep.failed == 0 and len(tg.sent) == rep.sent
        finally:
            await fe.stop()
        called = {m for m, _ in tg.calls}
        assert "sendMessage" in called and not called & {"getUpdates", "setMyCommands", "deleteWebhook"}


async def test_discord_sends_alerts_by_direct_message_or_to_a_chosen_channel(
        tmp_path: Path, lifecycle: Lifecycle, make_engine: Any) -> None:
    clock = FakeClock(NOW)
    async with FakeDiscord() as dc, world(tmp_path, lifecycle, make_engine, clock, platform="discord",
                                          MULTITUDES_DISCORD__API_BASE=f"{dc.url}/api/v10",
                                          MULTITUDES_DISCORD__GATEWAY_URL=dc.gateway_url) as (_, _, engine):
        fe = DiscordFrontend(engine, "fake-bot-token", guild_ready_timeout=0.05)
        await asyncio.wait_for(fe.start(), 20)
        try:
            bill = await engine.find_person("discord", "9001")
            await engine.update_settings(bill, alert_channel="discord:555")               # his server's channel
            await engine.scan_alerts()
            clock.advance(days=3, hours=6)
            rep = await engine.deliver_alerts({"discord": fe})
            assert rep.sent >= 2 and rep.failed == 0
            by_channel = {m["channel_id"]: m["content"] for m in dc.sent}
            assert f"season {RECENT['seasons'] + 1} premieres" in by_channel["79000"]     # wendy's DM channel
            assert f"season {OTHER['seasons'] + 1} is complete" in by_channel["555"]
            sent = [a for a in await engine.person_alerts(bill) if a.status == "sent"]
            assert sent
            # the digest by DM: the summary, then each pick with its buttons (feedback row + watchlist row)
            wendy = await engine.find_person("discord", "9000")
            await engine.update_settings(wendy, digest=True)
            to_digest_time(clock)
            n = len(dc.sent)
            assert await engine.send_digests({"discord": fe}) == 1
            digest = [m for m in dc.sent[n:] if m["channel_id"] == "79000"]
            assert "Your week on Multitudes" in digest[0]["content"] and len(digest) == 4
            assert all(m["embeds"] and [len(r["components"]) for r in m["components"]] == [3, 1] for m in digest[1:])
            assert await engine.events_for_message("discord", str(digest[1]["id"]))
        finally:
            await fe.stop()


async def test_one_scheduler_runs_the_jobs_and_keeps_their_cadence_across_restarts(
        tmp_path: Path, lifecycle: Lifecycle, make_engine: Any) -> None:
    """Jobs are run on demand (``run_soon``) and awaited (``wait_runs``): nothing waits on wall-clock cadence."""
    clock = FakeClock(NOW)
    store = tmp_path / "jobs.db"
    rec = Recorder()
    async with world(tmp_path, lifecycle, make_engine, clock) as (_, _, engine):
        clock.advance(days=3, hours=6)
        s = Scheduler(engine, {"console": rec}, store_path=str(store))
        await s.start()
        with pytest.raises(RuntimeError):
            await Scheduler(engine, {}, store_path=str(tmp_path / "other.db")).start()
        s.run_soon("alerts.scan")
        await asyncio.wait_for(s.wait_runs("scan", 1), 60)
        assert {a.kind for _, a in rec.sent} >= {"premiere", "binge"}
        persisted = s.next_runs()
        await s.stop()
        again = Scheduler(engine, {"console": rec}, store_path=str(store))
        await again.start()
        try:
            kept = again.next_runs()
            assert set(kept) >= {"alerts.scan", "alerts.deliver", "digest.weekly"}
            assert kept["alerts.deliver"] == persisted["alerts.deliver"]           # the cadence survived
            assert kept["digest.weekly"] == persisted["digest.weekly"]
            n = len(rec.sent)
            again.run_soon("alerts.scan")
            await asyncio.wait_for(again.wait_runs("scan", 1), 60)
            assert len(rec.sent) == n                                                # nothing sent twice
        finally:
            await again.stop()


class _Digests(Recorder):
    def __init__(self) -> None:
        super().__init__()
        self.digests: list[tuple[str, Any]] = []

    async def send_digest(self, target: str, digest: Any) -> str:
        self.digests.append((target, digest))
        return f"d{len(self.digests)}"


async def test_a_digest_claimed_by_a_process_that_died_goes_out_once_its_claim_lapses(
        tmp_path: Path, lifecycle: Lifecycle, make_engine: Any, probe: SqliteStore) -> None:
    clock = FakeClock(NOW)
    async with world(tmp_path, lifecycle, make_engine, clock) as (_trakt, _tmdb, engine):
        wendy = await engine.find_person("console", "wendy")
        await engine.update_settings(wendy, digest=True)
        to_digest_time(clock)
        y, w, _ = clock.now().astimezone(PARIS).isocalendar()
        async with probe.unit() as uow:          # a process claimed wendy's digest and died computing the picks
            assert await uow.alerts.claim_digest(wendy, f"{y}-W{w:02d}", "elsewhere:1:dead", clock.now(),
                                                 abandoned_before=clock.now() - timedelta(minutes=5))
        rec = _Digests()
        assert await engine.send_digests({"console": rec}) == 0 and not rec.digests    # a fresh claim: left
        clock.advance(minutes=6)                                                      # alerts.claim_minutes = 5
        assert await engine.send_digests({"console": rec}) == 1
        assert await engine.send_digests({"console": rec}) == 0
        assert [d.person_id for _, d in rec.digests] == [wendy]                       # sent, once
