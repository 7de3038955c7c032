"""Taste personas: minor tastes kept apart, stable identities, binge detection, naming, surfaces."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from engine.store import SqliteStore
from engine.taste.build import build_personas
from engine.taste.history import PersonHistory, ShowHistory, Watch
from engine.taste.temporal import BINGE, CASUAL, WEEKLY, context, evolution, season_style
from engine.values.meta import ShowMeta
from engine.values.models import Play, ShowIds, ShowRef
from tests.fakes.catalogue import catalogue, export_of
from tests.fakes.openai import FakeOpenAI, as_json, is_tagging, names_answer, tags_answer, user_text

pytestmark = pytest.mark.both_stores        # the engine on SQLite and on PostgreSQL

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2024, 1, 6, 20, 0, tzinfo=UTC)   # a Saturday


def pick(want: str, avoid: set[str], n: int, skip: set[int]) -> list[dict[str, Any]]:
    out = [e for e in catalogue() if want in e["genres"] and not (avoid & set(e["genres"])) and e["trakt_id"]
           not in skip]
    return out[:n]


def weekly(e: dict[str, Any], start: datetime, n: int) -> list[Play]:
    ref = ShowRef(ShowIds(trakt=e["trakt_id"], tmdb=e["tmdb_id"]), e["title"], e["year"], n)
    return [Play(ref, 1, k + 1, start + timedelta(days=7 * k)) for k in range(n)]


async def store_history(engine: Any, pid: int, plays: list[Play]) -> None:
    await engine.import_history(pid, "history.json", export_of(plays))


async def test_minor_tastes_get_their_own_personas(make_engine: Any, probe: SqliteStore) -> None:
    """80% crime dramas, 10% comedies, 10% documentaries (real catalogue shows): both minor tastes survive."""
    crime = pick("crime", {"comedy", "documentary", "animation"}, 32, set())
    comedy = pick("comedy", {"crime", "drama", "documentary", "animation"}, 4, set())
    docs = pick("documentary", {"crime", "comedy", "drama"}, 4, set())
    plays: list[Play] = []
    for i, e in enumerate(crime + comedy + docs):
        plays += weekly(e, T0 + timedelta(days=3 * i), 8)
    engine = await make_engine()
    pid = await engine.person("console", "mix")
    await store_history(engine, pid, plays)
    report = await engine.personas(pid)
    titles = {p.name: {s for s in p.member_ids} for p in report.personas}
    ids = {e["trakt_id"]: e for e in crime + comedy + docs}
    async with probe.read() as uow:
        internal = {r.ids.trakt: r.id for r in await uow.shows.all()}

    def home(group: list[dict[str, Any]]) -> tuple[str, float]:
        members = {internal[e["trakt_id"]] for e in group}
        best = max(titles, key=lambda n: len(titles[n] & members))
        purity = len(titles[best] & members) / len(titles[best])
        return best, purity

    c_name, c_purity = home(comedy)
    d_name, d_purity = home(docs)
    assert c_name != d_name and c_purity >= 0.75 and d_purity >= 0.75
    assert "omed" in c_name and "ocumentar" in d_name
    for name, group in ((c_name, comedy), (d_name, docs)):        # each minor taste is (almost) all there
        members = set(next(p for p in report.personas if p.name == name).member_ids)
        assert len(members & {internal[e["trakt_id"]] for e in group}) >= 3
    # the major taste may split into sub-personas of its own; together they carry it
    rest = [p for p in report.personas if p.name not in (c_name, d_name)]
    assert sum(p.weight for p in rest) > 0.7 and len(ids) == 40


async def test_identities_are_stable_and_recompute_only_on_change(make_engine: Any, probe: SqliteStore) -> None:
    engine = await make_engine()
    pid = await engine.person("console", "s")
    await engine.load_sample(pid)
    first = await engine.personas(pid)
    again = await engine.personas(pid)
    assert again == first                                         # cached: same fingerprint
    # five more plays of a comedy already watched: the same personas keep their ids
    comedy = next(p for p in first.personas if "omed" in p.name)
    async with probe.read() as uow:
        row = await uow.shows.get(comedy.medoid.show_id)
    assert row is not None
    ref = ShowRef(ShowIds(trakt=row.ids.trakt, tmdb=row.ids.tmdb), row.title, row.year)
    await store_history(engine, pid, [Play(ref, 3, n, datetime(2026, 8, 1, 22, tzinfo=UTC) + timedelta(minutes=25 * n),
                                           history_id=90_000_000 + n) for n in range(1, 6)])
    second = await engine.personas(pid)
    assert second.computed_at >= first.computed_at
    assert {p.id for p in second.personas} == {p.id for p in first.personas}
    by_id = {p.id: p for p in second.personas}
    assert by_id[comedy.id].weight > comedy.weight


def test_binge_versus_weekly_on_constructed_plays() -> None:
    season_in_two_days = [Watch(1, n, T0 + timedelta(hours=n if n <= 5 else 24 + n)) for n in range(1, 11)]
    assert season_style(season_in_two_days) == BINGE
    weekly_plays = [Watch(1, n, T0 + timedelta(days=7 * n)) for n in range(1, 11)]
    assert season_style(weekly_plays) == WEEKLY
    scattered = [Watch(1, n, T0 + timedelta(days=d)) for n, d in enumerate([0, 1, 30, 31, 90, 200], 1)]
    assert season_style(scattered) == CASUAL
    assert season_style(season_in_two_days[:2]) == CASUAL        # too few to tell


async def test_binge_and_context_on_the_sample(make_engine: Any) -> None:
    """The sample viewer binges sci-fi on weekends and watches crime weekly on Tuesday/Thursday evenings."""
    engine = await make_engine()
    pid = await engine.person("console", "s")
    await engine.load_sample(pid)
    report = await engine.personas(pid)
    crime = next(p for p in report.personas if "crime" in p.name.lower())
    comedy = next(p for p in report.personas if "omed" in p.name)
    assert crime.style == "weekly" and crime.weekly_share > 0.8
    assert "evening" in crime.when and sum(crime.weekdays[i] for i in (1, 3)) > 0.9
    assert comedy.style == "binge" and "late night" in comedy.when
    docs = next(p for p in report.personas if "ocumentar" in p.name)
    assert docs.when == "Sunday mornings"


def test_evolution_trends() -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    old = [now - timedelta(days=900 + d) for d in range(40)]
    recent = [now - timedelta(days=30 + d) for d in range(40)]
    periods, shares, trends = evolution({0: old + recent[:5], 1: recent, 2: old}, now)
    assert trends == {0: "fading", 1: "new", 2: "dormant"}
    assert periods and all(len(v) == len(periods) for v in shares.values())
    ctx = context([Watch(1, 1, datetime(2024, 1, 7, 9, 30, tzinfo=UTC))] * 3, "Europe/London")
    assert ctx.label == "Sunday mornings"


def test_negative_evidence_never_forms_a_persona() -> None:
    shows = {}
    for i, _e in enumerate(catalogue()[:12]):
        shows[i] = ShowHistory(i, [Watch(1, n, T0 + timedelta(days=n)) for n in range(1, 6)], aired_episodes=10,
                               rating=2 if i < 4 else None, dropped=i in (4, 5))
    metas = {i: ShowMeta(genres=tuple(e["genres"]), title=e["title"]) for i, e in enumerate(catalogue()[:12])}
    build = build_personas(PersonHistory(shows, "UTC"), metas, T0 + timedelta(days=30))
    members = {s for p in build.personas for s in p.cluster.members}
    assert members == set(range(6, 12))
    assert all(build.weights[i] < 0 for i in range(6))


async def test_personas_never_block_the_event_loop(make_engine: Any) -> None:
    engine = await make_engine()
    pid = await engine.person("console", "s")
    await engine.load_sample(pid)
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.005)

    t = asyncio.create_task(ticker())
    t0 = asyncio.get_running_loop().time()
    await engine.personas(pid, force=True)
    took = asyncio.get_running_loop().time() - t0
    stop.set()
    await t
    assert ticks >= max(2, int(took / 0.005 * 0.3))             # the loop kept ticking while clustering ran


def test_cli_personas_sample_json(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MULTITUDES_")}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run([sys.executable, "-m", "bot.cli", "personas", "--sample", "--json"], check=False,
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert isinstance(data, list) and len(data) >= 3
    for p in data:
        assert {"name", "weight", "medoid", "shows"} <= set(p)
        assert isinstance(p["shows"], list) and p["medoid"] == p["shows"][0]
    assert abs(sum(p["weight"] for p in data) - 1) < 0.01


async def test_llm_names_validated_logged_to_file_not_console(tmp_path: Path, make_engine: Any, probe: SqliteStore,
                                                             caplog: Any, capsys: Any) -> None:
    def responder(req: dict[str, Any]) -> str:
        return tags_answer(req) if is_tagging(req) else names_answer(req)

    async with FakeOpenAI(responder) as fake:
        engine = await make_engine(llm=fake)
        pid = await engine.person("console", "s")
        await engine.load_sample(pid)
        from bot.logs import setup_logging
        setup_logging(engine.settings)                      # the production logging set-up
        with caplog.at_level(logging.INFO):
            report = await engine.personas(pid)
        assert [p.name for p in report.personas] == [f"Persona number {i}" for i in range(len(report.personas))]
        assert report.personas[0].description == "Desc 0."
        req = fake.requests[-1].body
        assert req["response_format"]["type"] == "json_schema"
        assert "Gotham" in user_text(req)
        # the prompt went to the prompt log, not to any console-bound log record or stdout/stderr
        prompt = "You name the taste personas"
        assert prompt in (tmp_path / "prompts.log").read_text() and "Gotham" in (tmp_path / "prompts.log").read_text()
        assert not any(prompt in r.getMessage() for r in caplog.records)
        assert all(logging.getLogger(n).getEffectiveLevel() >= logging.WARNING for n in ("openai", "httpx2"))
        out = capsys.readouterr()
        assert prompt not in out.out + out.err
        async with probe.read() as uow:
            shows = len(await uow.history.played_shows(pid))
            tones = [r.meta.tone for r in await uow.shows.all() if r.meta.tone is not None]
        assert len(fake.requests) == -(-shows // 20) + 1              # tagging batches of 20, one naming call
        assert tones and all(t == ("dark", "tense") for t in tones)   # vocabulary only


async def test_llm_garbage_retried_once_then_deterministic_names(make_engine: Any) -> None:
    answers = iter(["not json at all", '{"personas": [{"index": 0, "name": "x"}]}'])
    async with FakeOpenAI(lambda req: tags_answer(req) if is_tagging(req) else next(answers)) as fake:
        engine = await make_engine(llm=fake)
        pid = await engine.person("console", "s")
        await engine.load_sample(pid)
        report = await engine.personas(pid)
        naming = [r for r in fake.requests if "name the taste personas" in r.body["messages"][0]["content"]]
        assert len(naming) == 2                                   # one retry, then give up
        assert any("omed" in p.name for p in report.personas)     # deterministic names kept


async def test_llm_down_or_without_json_schema(make_engine: Any) -> None:
    async with FakeOpenAI(lambda req: (500, {"error": {"message": "boom"}})) as fake:
        engine = await make_engine(llm=fake)
        pid = await engine.person("console", "s")
        await engine.load_sample(pid)
        assert (await engine.personas(pid)).personas
    calls: list[str] = []

    def json_object_only(req: dict[str, Any]) -> str:
        if is_tagging(req):
            return tags_answer(req)
        calls.append(req["response_format"]["type"])
        n = sum(1 for line in user_text(req).splitlines() if line[:1].isdigit())
        return as_json({"personas": [{"index": i, "name": f"P{i} name", "description": ""} for i in range(n)]})

    async with FakeOpenAI(json_object_only, accept_json_schema=False) as fake:
        engine = await make_engine(llm=fake)
        pid = await engine.person("console", "t")
        await engine.load_sample(pid)
        report = await engine.personas(pid)
        assert report.personas[0].name == "P0 name" and calls == ["json_object"]


async def test_recommending_does_not_trigger_persona_recomputation(make_engine: Any) -> None:
    engine = await make_engine()
    pid = await engine.person("console", "s")
    await engine.load_sample(pid)
    first = await engine.personas(pid)
    from engine.values.models import RecommendRequest
    await engine.recommend(RecommendRequest(pid, k=5))      # stores metadata of the candidates it saw
    assert (await engine.personas(pid)).computed_at == first.computed_at


async def test_two_processes_computing_one_persons_personas_at_once_keep_one_set(make_engine: Any,
                                                                                probe: SqliteStore) -> None:
    """The person spoke in two servers served by two processes: one set of active personas, the same for both."""
    a = await make_engine()
    b = await make_engine()
    pid = await a.person("discord", "77", "Sam")
    await a.load_sample(pid)
    ra, rb = await asyncio.gather(a.personas(pid), b.personas(pid))
    async with probe.read() as uow:
        active = [p for p, _ in await uow.personas.active(pid)]
        stored = await uow.personas.stored(pid)
    assert stored is not None and sorted(active) == sorted(p.id for p in stored[1].personas)
    assert [p.id for p in ra.personas] == [p.id for p in rb.personas] == [p.id for p in stored[1].personas]
