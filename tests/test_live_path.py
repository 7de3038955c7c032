"""The list people get is the list measured: ``multitudes eval --strategies live`` is ``Engine.recommend`` over a
store built from the dataset; lists are reproducible per person and day; a persona the deployment cannot index
never shifts another persona's picks."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine import bootstrap
from engine.evaluation.datasets import Dataset, Interaction
from engine.evaluation.live import Live, LiveWorld
from engine.evaluation.runner import evaluate
from engine.evaluation.strategies import TrainData
from engine.recommend.deployment import Deployment
from engine.recommend.pipeline import CatalogueIndex
from engine.values.errors import MultitudesError
from engine.values.models import Mode, RecommendRequest
from tests.conftest import settings_for
from tests.fakes.clock import FakeClock

GENRES = ("comedy", "crime", "science-fiction", "documentary", "animation")


def tiny(seed: int = 3, people: int = 40, items: int = 120) -> Dataset:
    """People who each favour two genres, watching over a year; items with titles (some sequels), genres, years."""
    rng = random.Random(seed)
    its: dict[str, dict[str, Any]] = {}
    for i in range(items):
        g = GENRES[i % len(GENRES)]
        title = f"Show {i // 2} Season 2" if i % 7 == 1 else f"Show {i}"
        its[str(i)] = {"title": title, "genres": [g, "drama"] if i % 3 else [g], "keywords": [f"k{i % 11}"],
                       "year": 2000 + i % 20, "overview": f"A {g} show."}
    rows = []
    t0 = 1_600_000_000
    for u in range(people):
        liked = rng.sample(GENRES, 2)
        pool = [i for i in range(items) if GENRES[i % len(GENRES)] in liked]
        for n, i in enumerate(sorted(rng.sample(pool, rng.randint(8, 20)))):
            rows.append(Interaction(f"u{u}", str(i), t0 + 86400 * (n * 9 + rng.randint(0, 5)),
                                    float(rng.randint(2, 5))))
    return Dataset(rows, its, name="tiny")


def test_eval_live_is_what_recommend_gives() -> None:
    """Two deployments built from the same data and seed: what ``live`` reports for a person is, show for show,
    what a fresh engine's ``Engine.recommend`` gives that person."""
    ds = tiny()
    data = TrainData.build(ds.interactions, ds.items)
    strat = Live(seed=7)
    strat.fit(data)
    other = LiveWorld(data, ordinal=False, seed=7)
    try:
        b = other.build()
        checked = 0
        for user in sorted(data.uix)[:8]:
            measured = strat.recommend(user, 10, data.seen(user))
            got = other.run(b.engine.recommend(RecommendRequest(person_id=b.people[user], k=10, use_llm=False)))
            given = [b.items[r.show_id] for r in got.items]
            assert measured == given, user
            assert not set(given) & data.seen(user)
            checked += 1
        assert checked == 8
    finally:
        other.close()
        strat.close()


def test_evaluate_reports_live_with_a_ratio_interval() -> None:
    r = evaluate(tiny(), strategies=["live", "popular", "ease"], protocol="last-n", n=3, k=5, seed=1)
    live = r["strategies"]["live"]
    assert {"recall", "ndcg", "calibration_kl", "ratio_to_best", "ratio_ci95", "best_baseline"} <= set(live)
    lo, hi = live["ratio_ci95"]
    assert lo <= live["ratio_to_best"] <= hi
    assert live["best_baseline"] in ("popular", "ease")
    assert r["strategies"][live["best_baseline"]]["ratio_to_best"] == 1.0


def test_tune_folds_come_from_the_training_part_only() -> None:
    from engine.evaluation.runner import split
    from engine.evaluation.validation import validation_split
    ds = tiny()
    train, test = split(ds, "last-n", 3)
    data = TrainData.build(train, ds.items)
    for fold in range(2):
        vtrain, hold = validation_split(data, "last-n", 10, 0, fold)
        held = {(u, i) for u, items in hold.items() for i in items}
        assert held and held <= {(it.user, it.item) for it in train}
        assert not held & {(u, i) for u, items in test.items() for i in items}
        assert not held & {(it.user, it.item) for it in vtrain}


@pytest.fixture
async def sample(make_engine: Any) -> tuple[Any, int]:
    engine = await make_engine(clock=FakeClock())
    pid = await engine.person("console", "s")
    await engine.load_sample(pid)
    return engine, pid


async def test_the_same_state_gives_the_same_list_and_asking_again_gives_the_next(tmp_path: Path) -> None:
    lists = []
    engines = []
    try:
        for n in range(2):                          # two fresh databases, the same person, the same day
            (tmp_path / str(n)).mkdir()
            engine = await bootstrap(settings_for(tmp_path / str(n)), clock=FakeClock(), seed=0)
            engines.append(engine)
            pid = await engine.person("console", "s")
            await engine.load_sample(pid)
            lists.append([r.title for r in (await engine.recommend(RecommendRequest(pid, k=8))).items])
        assert lists[0] == lists[1]
        again = [r.title for r in (await engine.recommend(RecommendRequest(pid, k=8))).items]
        assert again and not set(again) & set(lists[1])          # shown picks rest: the next best comes
    finally:
        for e in engines:
            await e.close()


async def test_a_persona_missing_from_the_index_shifts_no_other_personas_picks(sample: tuple[Any, int],
                                                                              monkeypatch: Any) -> None:
    engine, pid = sample
    report = await engine.personas(pid)
    assert len(report.personas) >= 3
    gone = report.personas[0]
    rec = engine._s.recommender                  # the façade's own service: the deployment it reads
    dep: Deployment = await rec.deployments.current()
    cat = dep.catalogue
    keep = np.array([i for i, sid in enumerate(cat.ids) if int(sid) not in set(gone.member_ids)])
    smaller = replace(dep, catalogue=CatalogueIndex(cat.ids[keep], [cat.metas[i] for i in keep], cat.rows[keep],
                                                    cat.prior[keep]), key=("without", gone.id))

    async def current(**_: Any) -> Deployment:
        return smaller
    monkeypatch.setattr(rec.deployments, "current", current)
    names = {p.id: p.name for p in report.personas}
    others = [p for p in report.personas if p.id != gone.id]
    for p in others[:2]:                         # a persona's list is labelled with that persona, and fits it
        got = await engine.recommend(RecommendRequest(pid, mode=Mode.PERSONA, persona=p.name, k=3))
        assert got.items and {i.persona_name for i in got.items} == {p.name}
    every = await engine.recommend(RecommendRequest(pid, mode=Mode.ALL, k=10))
    assert every.items and gone.name not in {i.persona_name for i in every.items}
    assert {i.persona_id for i in every.items} <= set(names) - {gone.id}
    bridge = await engine.recommend(RecommendRequest(pid, mode=Mode.BRIDGE, bridge=(others[0].name, others[1].name),
                                                     k=3))
    assert {i.persona_name for i in bridge.items} <= {others[0].name, others[1].name}
    with pytest.raises(MultitudesError) as e:
        await engine.recommend(RecommendRequest(pid, mode=Mode.PERSONA, persona=gone.name, k=3))
    assert gone.name in e.value.user_message and "catalogue" in e.value.user_message


def test_the_shipped_profile_keeps_its_hand_set_values_and_floors() -> None:
    """Values no dataset carries are the stated shares of the strongest fitted weight; the floors hold; every value
    says where it comes from (a fit with its command and folds, or a hand-set reason)."""
    from engine.evaluation.tune import FLOOR, HAND, TUNED
    from engine.recommend.weights import shipped
    live = shipped().profile("live")
    top = max(live.signals.get(s, 0.0) for s in TUNED)
    assert top > 0
    for s, share in HAND.items():
        assert live.signals[s] == pytest.approx(share * top, rel=1e-3), s
        assert live.provenance[s].source == "hand-set" and str(share) in live.provenance[s].note
    for s, share in FLOOR.items():
        assert live.signals[s] >= share * top - 1e-6, s
    for key in (*live.signals, "half_life_days", "history_decay", "present_days", "calibration",
                "calibration_reach", "quota"):
        prov = live.provenance[key]
        assert prov.note, key
        assert prov.source in ("fitted", "validated", "hand-set"), key
        if prov.source == "fitted":
            assert prov.command and prov.command.startswith("multitudes tune") and prov.validation, key
        if prov.source == "validated":      # a grid run through the live path on a split cut from training
            assert prov.command and prov.command.startswith("multitudes eval --interactions var/") and (
                "_val/" in prov.command) and prov.validation, key
        assert all(v > 0 for v in prov.validation.values()), key
