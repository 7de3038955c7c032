"""End to end through the real python-telegram-bot Application against a loopback Bot API, with the engine on
real SQLite and the Trakt and TMDB fakes: link -> sync -> personas -> recommend -> 👎 never returns -> 👀 seen."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.telegram import ALLOWED_UPDATES, TelegramFrontend
from engine.store import SqliteStore
from engine.store.testing import count
from engine.values.models import FeedbackKind, RecommendRequest
from tests.fakes.catalogue import history_rows
from tests.fakes.openai import FakeOpenAI, as_json, is_naming, is_tagging, names_answer, shortlist_ids, tags_answer
from tests.fakes.telegram import FakeTelegram
from tests.fakes.tmdb import FakeTmdb
from tests.fakes.trakt import FakeTrakt

pytestmark = pytest.mark.both_stores        # the engine on SQLite and on PostgreSQL

UID = 4242
ROOT = Path(__file__).resolve().parents[1]


async def test_telegram_link_sync_personas_recommend_feedback(fake_trakt: FakeTrakt, fake_tmdb: FakeTmdb,
                                                              make_engine: Any, probe: SqliteStore) -> None:
    fake_trakt.add_user("tina", history=history_rows(600, 30, years=3, seed=41))

    def llm(req: dict[str, Any]) -> str:
        if is_tagging(req):
            return tags_answer(req)
        if is_naming(req):
            return names_answer(req, "Tina's side")
        return as_json({"picks": [{"id": i, "persona_id": None, "reason": f"LLM reason for {i}."}
                                  for i in shortlist_ids(req)[:3]]})

    async with FakeTelegram() as tg, FakeOpenAI(llm) as fake_llm:
        engine = await make_engine(trakt=fake_trakt, tmdb=fake_tmdb, llm=fake_llm,
                                   MULTITUDES_TELEGRAM__BASE_URL=f"{tg.url}/bot",
                                   MULTITUDES_TELEGRAM__BASE_FILE_URL=f"{tg.url}/file/bot")
        fe = TelegramFrontend(engine, tg.token)
        await fe.start()
        try:
            assert await _polled(tg)                                        # reactions were asked for
            # /link: the code arrives privately; approving it on Trakt finishes the link
            tg.command(UID, "/link")
            sent = await tg.wait_sent(1)
            code = re.search(r"code (\w+)", sent[-1]["text"]).group(1)      # type: ignore[union-attr]
            fake_trakt.approve(code, "tina")
            await tg.wait_sent(2)
            assert "Linked to Trakt as tina" in tg.sent[-1]["text"]
            # /sync edits its progress message
            tg.command(UID, "/sync")
            await tg.wait_sent(3)
            await _until(lambda: "Synced" in tg.sent[-1]["text"])
            # /personas: text and the three charts, each a photo with its caption
            tg.command(UID, "/personas")
            await tg.wait_sent(7)
            assert "Your taste personas" in tg.sent[3]["text"] and all(m["photo"] for m in tg.sent[4:7])
            assert [m.get("caption") for m in tg.sent[4:7]] == ["Your tastes over time", "When you watch",
                                                               "Your shows by persona"]
            # /recommend: a heading, then one message per pick, each with the three buttons
            n = len(tg.sent)
            tg.command(UID, "/recommend k:3")
            picks = (await tg.wait_sent(n + 4))[n + 1:n + 4]
            assert "Recommendations across your personas" in tg.sent[n]["text"]
            assert all(len(m["reply_markup"]["inline_keyboard"][0]) == 3 for m in picks)
            assert all("LLM reason for" in (m.get("caption") or m["text"]) for m in picks)   # the LLM fake's words
            photos = [m for m in picks if "photo" in m]              # a pick with a TMDB poster is sent as a photo
            assert photos and all(tg.photo_urls[m["message_id"]].startswith("https://image.tmdb.org/t/p/w342/")
                                  for m in photos)
            assert "Tina&#x27;s side" not in tg.sent[3]["text"] and "Tina's side 0" in tg.sent[3]["text"]
            first, second = picks[0], picks[1]
            event = int(first["reply_markup"]["inline_keyboard"][0][1]["callback_data"].split(":")[1])
            pid = await engine.find_person("telegram", str(UID))
            async with probe.read() as uow:
                ev = await uow.events.get(event)
            assert ev is not None
            show = ev.show_id
            # 👎 button: never recommended again
            tg.press(UID, first, f"fb:{event}:not_for_me")
            await _until(lambda: any(a.get("text", "").startswith("Noted") for a in tg.answered))
            tg.press(UID, first, f"fb:{event}:not_for_me")                 # pressed twice: counted once
            await _until(lambda: len(tg.answered) >= 2)
            assert tg.answered[-1]["text"] == "Already noted."
            # 👀 reaction on the second pick: recorded as seen; removing it undoes, adding again redoes
            tg.react(UID, second, [], ["👀"])
            tg.react(UID, second, ["👀"], [])
            tg.react(UID, second, [], ["👀"])
            ev2 = int(second["reply_markup"]["inline_keyboard"][0][0]["callback_data"].split(":")[1])
            await _until_async(lambda: _feedback(probe, pid, ev2, FeedbackKind.SEEN), 1)
            async with probe.read() as uow:
                assert show in await uow.feedback.dismissed(pid)
            later = await engine.recommend(RecommendRequest(pid, k=10))
            assert show not in {i.show_id for i in later.items}
            assert not tg.unhandled
        finally:
            await fe.stop()


async def _feedback(probe: SqliteStore, pid: int, event: int, kind: FeedbackKind) -> int:
    async with probe.read() as uow:
        state = await uow.feedback.state(pid, event, kind)
    return int(state.active) if state else -1


async def _polled(tg: FakeTelegram) -> bool:
    await _until(lambda: bool(tg.allowed_updates))
    return all(u in tg.allowed_updates[0] for u in ALLOWED_UPDATES)


async def _until(cond: Any, within: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not cond():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def _until_async(fn: Any, want: Any, within: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while await fn() != want:
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_multitudes_run_serves_telegram_and_stops_on_sigterm(tmp_path: Any) -> None:
    async with FakeTelegram() as tg:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MULTITUDES_")}
        env.update({"PYTHONPATH": str(ROOT), "MULTITUDES_TELEGRAM_TOKEN": tg.token,
                    "MULTITUDES_TELEGRAM__BASE_URL": f"{tg.url}/bot",
                    "MULTITUDES_STORAGE__PATH": str(tmp_path / "m.db"),
                    "MULTITUDES_LOGGING__FILE": str(tmp_path / "m.log")})
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "run", env=env, cwd=tmp_path,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            await _until(lambda: bool(tg.allowed_updates), within=60)
            tg.command(UID, "/help")
            await tg.wait_sent(1, within=30)
            assert "/recommend" in tg.sent[0]["text"] and "TMDB" in tg.sent[0]["text"]
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, err.decode()
        assert b"Multitudes is running (TelegramFrontend) with release alerts" in out
        assert (tmp_path / "m.scheduler.db").exists()                  # the one scheduler's job store
        assert tg.token.encode() not in out + err                       # the token never reaches the console


async def test_telegram_groupwatch_only_opted_in_members(fake_trakt: FakeTrakt, make_engine: Any,
                                                         probe: SqliteStore) -> None:
    from tests.conftest import link_person
    group = -100123
    async with FakeTelegram() as tg:
        engine = await make_engine(trakt=fake_trakt, MULTITUDES_TELEGRAM__BASE_URL=f"{tg.url}/bot")
        users = {201: "Ann", 202: "Ben", 203: "Cat"}
        pids = {}
        for uid, name in users.items():
            fake_trakt.add_user(name.lower(), history=history_rows(250, 15, years=2, seed=uid))
            pids[uid] = await link_person(engine, fake_trakt, name.lower(), platform_id=str(uid), platform="telegram")
            await engine.sync(pids[uid])
        fe = TelegramFrontend(engine, tg.token)
        await fe.start()
        try:
            tg.command(201, "/settings group:on", chat=group, name="Ann", kind="group")
            tg.command(202, "/settings group:on", chat=group, name="Ben", kind="group")
            tg.command(203, "/stats", chat=group, name="Cat", kind="group")          # here, but not opted in
            await tg.wait_sent(3)
            tg.command(201, "/groupwatch", chat=group, name="Ann", kind="group")
            msgs = (await tg.wait_sent(7))[3:7]
            assert "Group picks for 2 of you" in msgs[0]["text"]
            picks = msgs[1:]
            texts = [m["text"].lower() for m in picks]
            assert all("ann's" in t and "ben's" in t and "cat's" not in t for t in texts)
            seen = set()
            async with probe.read() as uow:
                for uid in (201, 202):
                    seen |= {h.title for h in await uow.history.recent(pids[uid], 10_000)}
            titles = {m["text"].split("\n")[0].split(". ", 1)[1].rsplit(" (", 1)[0] for m in picks}
            assert not titles & seen
            reroll = (await tg.wait_sent(8))[7]
            tg.press(202, reroll, reroll["reply_markup"]["inline_keyboard"][0][0]["callback_data"], name="Ben")
            again = (await tg.wait_sent(12))[9:12]
            new = {m["text"].split("\n")[0].split(". ", 1)[1].rsplit(" (", 1)[0] for m in again}
            assert len(new) == 3 and not new & titles and not new & seen
            assert not tg.unhandled
        finally:
            await fe.stop()


async def test_telegram_import_of_a_netflix_csv(make_engine: Any) -> None:
    async with FakeTelegram() as tg:
        engine = await make_engine(MULTITUDES_TELEGRAM__BASE_URL=f"{tg.url}/bot",
                                   MULTITUDES_TELEGRAM__BASE_FILE_URL=f"{tg.url}/file/bot",
                                   MULTITUDES_IMPORTS__MAX_BYTES="2000")
        fe = TelegramFrontend(engine, tg.token)
        await fe.start()
        try:
            tg.document(UID, "NetflixViewingHistory.csv",
                        b'Title,Date\n"Ozark: Season 1: Sugarwood","1/5/22"\n"Ozark: Season 1: Blue Cat","1/6/22"\n')
            await tg.wait_sent(1)
            assert "Imported Netflix viewing activity: 2 new plays" in tg.sent[0]["text"]
            tg.document(UID, "big.json", b"[" + b" " * 3000 + b"]")
            await tg.wait_sent(2)
            assert "limit is 2,000" in tg.sent[1]["text"] and "Nothing was imported" in tg.sent[1]["text"]
            tg.document(UID, "broken.json", b'[{"watched_at": ')
            await tg.wait_sent(3)
            assert "not valid JSON" in tg.sent[2]["text"]
            assert not tg.unhandled
        finally:
            await fe.stop()


async def test_telegram_flood_limits_are_waited_out_and_undelivered_picks_withdrawn(make_engine: Any,
                                                                                    probe: SqliteStore) -> None:
    """A 429 (retry_after) on sendMessage is retried, not dropped; picks the platform never took are recorded as
    never shown (they do not rest for two weeks)."""
    async with FakeTelegram() as tg:
        engine = await make_engine(MULTITUDES_TELEGRAM__BASE_URL=f"{tg.url}/bot",
                                   MULTITUDES_TELEGRAM__BASE_FILE_URL=f"{tg.url}/file/bot")
        fe = TelegramFrontend(engine, tg.token)
        await fe.start()
        try:
            pid = await engine.person("telegram", str(UID), "Alice")
            await engine.load_sample(pid)
            tg.flood["sendMessage"] = 1                           # Telegram says: retry after 1 s
            tg.command(UID, "/recommend k:3")
            await tg.wait_sent(4)
            assert tg.flooded == 1 and all(m.get("reply_markup") for m in tg.sent[1:4])
            assert await count(probe, "rec_events", person_id=pid) == 3
            tg.blocked["sendMessage"] = 2                         # refused: the heading and the error reply
            tg.command(UID, "/recommend k:3")
            await _until(lambda: tg.blocked["sendMessage"] == 0)
            await _until_async(lambda: count(probe, "rec_events", person_id=pid), 3)
            tg.command(UID, "/recommend k:3")
            fresh = (await tg.wait_sent(8))[5:8]
            assert await count(probe, "rec_events", person_id=pid) == 6
            first = {m["text"].split("\n")[0] for m in tg.sent[1:4]}
            assert not first & {m["text"].split("\n")[0] for m in fresh}        # shown picks rest; withdrawn don't
            assert not tg.unhandled
        finally:
            await fe.stop()


async def test_a_poster_telegram_cannot_fetch_falls_back_to_the_card(fake_tmdb: FakeTmdb, make_engine: Any) -> None:
    async with FakeTelegram() as tg:
        engine = await make_engine(tmdb=fake_tmdb, MULTITUDES_TELEGRAM__BASE_URL=f"{tg.url}/bot",
                                   MULTITUDES_TELEGRAM__BASE_FILE_URL=f"{tg.url}/file/bot")
        await engine.load_sample(await engine.person("telegram", str(UID)))
        fe = TelegramFrontend(engine, tg.token)
        await fe.start()
        try:
            tg.refuse_photo_urls = True
            tg.command(UID, "/recommend k:3")
            picks = (await tg.wait_sent(4))[1:4]
            refused = [p for m, p in tg.calls if m == "sendPhoto"]
            assert refused                                           # a poster was tried…
            assert all("text" in m and "photo" not in m for m in picks)       # …and every card still arrived
            assert all(len(m["reply_markup"]["inline_keyboard"][0]) == 3 for m in picks)
        finally:
            await fe.stop()
