"""Forgetting is total and provable (issue 24): a person touched by every feature — a Trakt link and sync, an
import, personas named by the LLM, an LLM-worded list for a mood they typed, a crowd found on Trakt's public graph,
group watch with votes, alerts, a digest, feedback — is forgotten; then every table, the response cache, the log
file and the prompt log are scanned for their id, their names and their handles."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.conversation import Conversation
from bot.memory import MemoryPlatform
from engine.store.testing import TABLES, all_rows, count
from engine.values.models import FeedbackKind, RecommendRequest
from tests.conftest import link_person
from tests.fakes.catalogue import catalogue, history_rows
from tests.fakes.clock import FakeClock
from tests.fakes.openai import FakeOpenAI, as_json, is_naming, is_tagging, names_answer, shortlist_ids, tags_answer
from tests.fakes.tmdb import FakeTmdb
from tests.fakes.trakt import FakeTrakt

NAME, HANDLE, TRAKT_USER = "Benedikt Quux", "9931777", "benquux"


class _Digests:
    platform = "memory"

    def __init__(self) -> None:
        self.sent: list[Any] = []

    async def send_alert(self, target: str, alert: Any) -> str:
        self.sent.append(alert)
        return "a"

    async def send_notice(self, target: str, text: str) -> str:
        self.sent.append(text)
        return "n"

    async def send_digest(self, target: str, digest: Any) -> str:
        self.sent.append(digest)
        return "d"


async def test_a_person_touched_by_every_feature_leaves_no_trace(tmp_path: Path, fake_trakt: FakeTrakt,
                                                                 fake_tmdb: FakeTmdb, make_engine: Any,
                                                                 probe: Any) -> None:
    cat = catalogue()
    fake_trakt.add_user(TRAKT_USER, history=history_rows(300, 20, years=2, seed=77))
    fake_trakt.add_user("annie", history=history_rows(300, 20, years=2, seed=78))
    for i in range(12):                                   # Trakt members who rated what Ben watched
        fake_trakt.add_public_user(f"stranger{i}", [(e, 8 + (i + n) % 3) for n, e in enumerate(cat[:40:3])])

    def llm(req: dict[str, Any]) -> str:
        if is_tagging(req):
            return tags_answer(req)
        if is_naming(req):
            return names_answer(req, "Side")
        return as_json({"picks": [{"id": i, "persona_id": None, "reason": "Fits."} for i in shortlist_ids(req)[:3]]})

    clock = FakeClock()
    async with FakeOpenAI(llm) as fake_llm:
        engine = await make_engine(trakt=fake_trakt, tmdb=fake_tmdb, llm=fake_llm, clock=clock)
        p = MemoryPlatform(Conversation(engine), name="memory")
        ben = await engine.person("memory", HANDLE, NAME)
        ann = await engine.person("memory", "5550001", "Annie")
        await link_person(engine, fake_trakt, TRAKT_USER, platform="memory", platform_id=HANDLE)
        await link_person(engine, fake_trakt, "annie", platform="memory", platform_id="5550001")
        for pid in (ben, ann):
            await engine.sync(pid)
            await engine.update_settings(pid, share_cowatch=True, timezone="Europe/Paris", digest=True)
        export = {"history": history_rows(30, 5, seed=79)}
        await engine.import_history(ben, "export.json", json.dumps(export).encode())
        await engine.personas(ben, force=True)                                    # named by the LLM
        got = await engine.recommend(RecommendRequest(ben, mode="mood", mood=f"what {NAME} likes, funny", k=3))
        await engine.record_feedback(ben, got.items[0].event_id, FeedbackKind.LIKED)
        await engine.record_feedback(ben, got.items[1].event_id, FeedbackKind.NOT_FOR_ME)
        await engine.refresh_crowd(ben)                                          # Trakt's public graph
        for uid in (HANDLE, "5550001"):
            await p.say(uid, "/settings group:on", group="g1")
        picks = [s for s in await p.say(HANDLE, "/groupwatch", group="g1") if s.kind == "pick"]
        assert picks
        for uid in (HANDLE, "5550001"):
            for s in picks:
                await p.press(uid, f"gv:{s.rec.event_id}:up", group="g1")      # type: ignore[union-attr]
        await engine.scan_alerts()
        while clock.now().astimezone(ZoneInfo("Europe/Paris")).weekday() != 6:
            clock.advance(days=1)
        clock.advance(hours=18 - clock.now().astimezone(ZoneInfo("Europe/Paris")).hour)
        digests = _Digests()
        await engine.send_digests({"memory": digests})
        clock.advance(minutes=1)
        # every feature touched him: the test below is only as good as this
        assert digests.sent
        for table in ("crowd", "plays", "rec_events", "feedback", "group_votes", "chat_members", "trakt_tokens",
                      "personas", "digests"):
            assert await count(probe, table, person_id=ben) > 0, table
        assert f"subject=p{ben} " in (tmp_path / "prompts.log").read_text(encoding="utf-8")

        await engine.forget(ben)

        # every table: no row refers to Ben, and no text holds his name, handle or Trakt username
        words = [NAME, "Benedikt", "Quux", HANDLE, TRAKT_USER]
        person_columns = re.compile(r"^(person_id|voter_id|owner_person_id)$")
        for table in sorted(TABLES):
            for record in await all_rows(probe, table):
                for col, val in record.items():
                    if person_columns.match(col) or (table == "people" and col == "id"):
                        assert val != ben, (table, col, record)
                    if isinstance(val, str):
                        assert not any(w in val for w in words), (table, col, val[:200])
        reasons = [str(r["reason"]) for r in await all_rows(probe, "rec_events")]
        assert reasons and not any("Benedikt" in r for r in reasons)             # Annie's group rows too
        for log in (tmp_path / "multitudes.log", tmp_path / "prompts.log"):
            text = log.read_text(encoding="utf-8") if log.exists() else ""
            assert not any(w in text for w in words), (log.name, [w for w in words if w in text])
        prompts = (tmp_path / "prompts.log").read_text(encoding="utf-8")
        assert f"subject=p{ben} " not in prompts                                 # his prompts went ...
        assert f"subject=p{ann} " in prompts                                     # ... and only his
        assert ben not in engine._s.recommender._people                          # nothing of him in memory
