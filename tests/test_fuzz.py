"""Property-based fuzzing of the conversation layer (Hypothesis): whatever a person sends — command arguments,
button data, reactions, uploads of any shape and size — they get a clear reply or a clean refusal, never a
traceback or "something went wrong", within a bounded time, and nobody else's rows change.

One engine (SQLite, the bundled catalogue, no outside service) serves every example: a victim with a history, picks
and feedback, and a stranger who sends the generated input. After each example the victim's rows are compared
with a snapshot taken before.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.commands import COMMANDS
from bot.conversation import Conversation
from bot.memory import MemoryPlatform
from bot.ratelimit import NoLimits
from engine import bootstrap
from engine.store.testing import all_rows
from engine.values.models import FeedbackKind, RecommendRequest
from tests.conftest import settings_for
from tests.fakes.clock import FakeClock

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow], derandomize=True)
SLOW_S = 5.0             # no single input may keep the bot busier than this (a real machine: well under a second)
VICTIM, STRANGER = "111", "222"
TABLES = ("plays", "ratings", "rec_events", "feedback", "dismissed", "personas", "chat_members", "watchlist")


class World:
    def __init__(self, tmp: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.tmp = tmp
        self.engine: Any = None
        self.platform: MemoryPlatform | None = None
        self.victim = 0

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    async def start(self) -> None:
        self.engine = await bootstrap(settings_for(self.tmp), clock=FakeClock(), seed=0)
        self.platform = MemoryPlatform(Conversation(self.engine, limiter=NoLimits()), name="memory")
        self.victim = await self.engine.person("memory", VICTIM, "Victim")
        await self.engine.load_sample(self.victim)
        got = await self.engine.recommend(RecommendRequest(self.victim, k=4))
        await self.engine.record_feedback(self.victim, got.items[0].event_id, FeedbackKind.LIKED)
        stranger = await self.engine.person("memory", STRANGER, "Stranger")
        await self.engine.load_sample(stranger)
        self.events = [r.event_id for r in got.items]

    async def snapshot(self) -> dict[str, list[dict[str, object]]]:
        store = self.engine._s.store
        return {t: [r for r in await all_rows(store, t) if r.get("person_id") == self.victim] for t in TABLES}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("fuzz"))
    w.run(w.start())
    yield w
    w.run(w.engine.close())
    w.loop.close()


def _check(world: World, before: dict[str, Any], sent: list[Any], took: float, caplog: Any) -> None:
    assert sent, "no answer at all"
    for s in sent:
        assert "went wrong" not in s.text and "Traceback" not in s.text, s.text
        assert len(s.text) <= 20_000
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
    assert took < SLOW_S, took
    assert world.run(world.snapshot()) == before


def _send(world: World, caplog: Any, coro_of: Any) -> None:
    before = world.run(world.snapshot())
    caplog.clear()
    t0 = time.perf_counter()
    sent = world.run(coro_of())
    _check(world, before, sent, time.perf_counter() - t0, caplog)


text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
tokens = st.lists(st.sampled_from(["all", "crowd", "bridge", "+", "k:3", "k:0", "k:999", "runtime:<45",
                                   "runtime:<abc", "genre:-horror", "genre:+", "mood:", 'mood:"scary"', "like:",
                                   'like:"Fargo"', "persona", "provider:Netflix", "status:airing", "x:y", '"',
                                   "@everyone", "<@&1>", "tz:Mars/Olympus", "quiet:25-99", "region:XX",
                                   "filters:\"genre:-drama\"", "group:on", "digest:on", "🎲", "\u202e"]),
                  max_size=6).map(" ".join)


@FUZZ
@given(name=st.sampled_from([*sorted(set(COMMANDS) - {"link", "forget", "sync", "unlink"}), "nosuch", "",
                             "RECOMMEND"]),
       args=st.one_of(text, tokens))
def test_any_command_with_any_arguments_gets_an_answer(world: World, caplog: Any, name: str, args: str) -> None:
    assert world.platform is not None
    _send(world, caplog, lambda: world.platform.say(STRANGER, f"/{name} {args}"))      # type: ignore[union-attr]


@FUZZ
@given(data=st.one_of(text, st.builds(lambda k, e, v: f"{k}:{e}:{v}", st.sampled_from(["fb", "gv", "cf", "rr", "zz"]),
                                      st.one_of(st.integers(-5, 10**12).map(str), text),
                                      st.one_of(st.sampled_from([*map(str, FeedbackKind), "up", "down", "yes"]),
                                                text))))
def test_any_button_data_gets_an_answer(world: World, caplog: Any, data: str) -> None:
    assert world.platform is not None
    _send(world, caplog, lambda: world.platform.press(STRANGER, data))               # type: ignore[union-attr]


@FUZZ
@given(ref=st.one_of(text, st.sampled_from(["m1", "m2", "m3", ""])), emoji=st.one_of(
    st.sampled_from(["👍", "👎", "👀", "📌", "🎲"]), text), added=st.booleans())
def test_reactions_on_anything_change_nobody_elses_rows(world: World, caplog: Any, ref: str, emoji: str,
                                                       added: bool) -> None:
    assert world.platform is not None
    before = world.run(world.snapshot())
    caplog.clear()
    world.run(world.platform.react(STRANGER, ref, emoji, added))
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert world.run(world.snapshot()) == before


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


csv_rows = st.lists(st.tuples(text.map(lambda t: t.replace('"', "")), st.sampled_from(
    ["1/2/24", "2024-01-02", "31/02/2024", "13/13/13", "", "yesterday"])), max_size=30)
uploads = st.one_of(
    st.binary(max_size=2000).map(lambda b: ("upload.bin", b)),
    csv_rows.map(lambda rows: ("NetflixViewingHistory.csv",
                               ("Title,Date\n" + "".join(f'"{t}",{d}\n' for t, d in rows)).encode())),
    st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), text),
                 lambda c: st.one_of(st.lists(c, max_size=5), st.dictionaries(text, c, max_size=5)),
                 max_leaves=30).map(lambda doc: ("export.json", json.dumps(doc).encode())),
    st.dictionaries(st.sampled_from(["watched-history.json", "ratings-shows.json", "a/b.json", "x.txt"]),
                    st.binary(max_size=500), max_size=3).map(lambda files: ("trakt.zip", _zip(files))),
    st.just(("deep.json", b"[" * 5000 + b"]" * 5000)),
    st.just(("crafted.csv", ("Title,Date\n" + '"' + "a: " * 4000 + '",1/2/24\n').encode())),
)


@FUZZ
@given(upload=uploads)
def test_any_upload_gets_a_clear_reply(world: World, caplog: Any, upload: tuple[str, bytes]) -> None:
    assert world.platform is not None
    name, data = upload
    _send(world, caplog, lambda: world.platform.upload(STRANGER, name, data))        # type: ignore[union-attr]
