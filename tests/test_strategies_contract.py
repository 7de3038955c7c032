"""One contract every recommender strategy passes (the shape of implicit's recommender_base_test)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from engine.evaluation.datasets import Dataset, Interaction
from engine.evaluation.runner import ALL, EXTRA, evaluate, expand, make
from engine.evaluation.strategies import TrainData

GENRES = ["drama", "comedy", "crime", "documentary", "science-fiction", "animation"]


def tiny_world(users: int = 60, items: int = 80, seed: int = 1) -> Dataset:
    rng = random.Random(seed)
    its = {f"i{j}": {"title": f"Show {j}", "genres": [GENRES[j % 6], GENRES[(j * 7) % 6]], "keywords": [],
                     "year": 2000 + j % 20} for j in range(items)}
    inter = []
    for u in range(users):
        taste = {GENRES[u % 6], GENRES[(u + 2) % 6]}
        pool = [k for k, m in its.items() if set(m["genres"]) & taste]
        for t, k in enumerate(rng.sample(pool, min(len(pool), rng.randint(8, 20)))):
            inter.append(Interaction(f"u{u}", k, 1_600_000_000 + u * 1000 + t * 86400, rng.choice([3.0, 4.0, 5.0])))
    return Dataset(inter, its, name="tiny")


@pytest.fixture(scope="module")
def world() -> tuple[Dataset, TrainData]:
    ds = tiny_world()
    return ds, TrainData.build(ds.interactions, ds.items)


@pytest.mark.parametrize("name", [*expand(ALL), *EXTRA])
def test_strategy_contract(name: str, world: tuple[Dataset, TrainData]) -> None:
    _, data = world
    s = s2 = make(name, "last-n", False, 0)
    try:
        check_contract(s, data)
        # same seed, same answers from a fresh fit
        s2 = make(name, "last-n", False, 0)
        s2.fit(data)
        assert s2.recommend("u5", 10, data.seen("u5")) == s.recommend("u5", 10, data.seen("u5"))
    finally:
        for x in {id(s): s, id(s2): s2}.values():     # ``live`` holds a store: closed, never left to the exit
            getattr(x, "close", lambda: None)()


def check_contract(s: Any, data: TrainData) -> None:
    s.fit(data)
    for u in ["u0", "u7", "u33"]:
        seen = data.seen(u)
        dismissed = {"i1", "i2", "i3"}
        recs = s.recommend(u, 10, seen | dismissed)
        assert len(recs) == 10 == len(set(recs))                       # backfilled, no duplicates
        assert not set(recs) & (seen | dismissed)                     # never seen, rated, dropped or dismissed
        assert recs == s.recommend(u, 10, seen | dismissed)           # deterministic
    # unknown people get something sensible, never crash
    unknown = s.recommend("nobody", 5, set())
    assert len(unknown) == 5
    # a tiny catalogue: fewer unseen items than asked for
    everything_but_two = set(data.item_ids[2:])
    assert set(s.recommend("u0", 10, everything_but_two)) == set(data.item_ids[:2])


def test_a_person_alone_reads_the_public_graph_within_budget(world: tuple[Dataset, TrainData]) -> None:
    ds, _ = world
    r = evaluate(ds, strategies=["lone-offline", "lone", "lone-naive"], protocol="last-n", n=3, k=5)
    for name in ("lone", "lone-naive"):
        got = r["strategies"][name]
        assert 0 < got["requests_per_person"] <= got["requests_max"] <= 60
    assert "requests_per_person" not in r["strategies"]["lone-offline"]


def test_eval_reports_every_metric(world: tuple[Dataset, TrainData]) -> None:
    ds, _ = world
    r = evaluate(ds, protocol="last-n", n=3, k=5)
    assert r["k"] == 5 and r["users"] > 0 and set(r["strategies"]) == set(expand(ALL))
    for m in r["strategies"].values():
        assert set(m) == {"recall", "ndcg", "coverage", "ild", "calibration_kl", "persona_coverage",
                          "best_baseline", "ratio_to_best", "ratio_ci95"}
        assert 0 <= m["recall"] <= 1 and 0 <= m["ndcg"] <= 1 and m["ild"] is not None
        lo, hi = m["ratio_ci95"]
        assert lo <= m["ratio_to_best"] <= hi and m["best_baseline"] != "live"
    no_genres = Dataset(ds.interactions, {k: dict(v, genres=[]) for k, v in ds.items.items()})
    r2 = evaluate(no_genres, strategies=["popular"], protocol="time-cut", k=5)
    assert r2["strategies"]["popular"]["calibration_kl"] is None and r2["strategies"]["popular"]["ild"] is None


def test_cli_eval_and_convert(tmp_path: Any) -> None:
    from bot.cli import main
    from engine.evaluation.datasets import write
    write(tiny_world(30, 50), tmp_path / "world")
    out = tmp_path / "r.json"
    assert main(["eval", "--interactions", str(tmp_path / "world/interactions.csv"), "--items",
                 str(tmp_path / "world/items.csv"), "--k", "5", "--n", "2", "--strategies", "popular,ease",
                 "--json", str(out)]) == 0
    import json
    r = json.loads(out.read_text())
    assert set(r["strategies"]) == {"popular", "ease"} and r["k"] == 5
