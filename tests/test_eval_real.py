"""The offline evaluation on real data (needs ../shared; skips cleanly without it).

MovieLens: each person's last 5 ratings by time held out. Annict 2020: train on the first 90% of rows, test on
pairs first seen in the last 10%, for people with >= 5 training pairs and items present in training.
Floors sit a little under what was measured (issue #4 note has every number); the issue's targets are
multitudes >= 1.10x the best baseline's Recall@10 on both, calibration KL <= 0.5x EASE's on MovieLens (measured
0.62x: not met, asserted as a regression floor only) and persona coverage@10 >= 0.9.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.evaluation.datasets import convert_annict, convert_movielens
from engine.evaluation.runner import evaluate

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
ML = SHARED / "movielens-ml-latest-small"
ANNICT = SHARED / "annict-anime-records"

pytestmark = [pytest.mark.shared, pytest.mark.timeout(600)]


def best_baseline(r: dict) -> float:  # type: ignore[type-arg]
    return max(v["recall"] for k, v in r["strategies"].items() if k != "multitudes")


@pytest.mark.skipif(not ML.exists(), reason="needs ../shared/data/movielens-ml-latest-small")
def test_movielens_last5() -> None:
    r = evaluate(convert_movielens(ML), protocol="last-n", n=5, k=10)
    s = r["strategies"]
    assert r["users"] == 610
    assert s["ease"]["recall"] > s["itemknn"]["recall"] > s["popular"]["recall"]   # the known ordering
    assert s["multitudes"]["recall"] >= 1.15 * best_baseline(r)
    assert s["multitudes"]["calibration_kl"] <= 0.7 * s["ease"]["calibration_kl"]
    assert s["multitudes"]["persona_coverage"] >= 0.95


@pytest.mark.skipif(not ANNICT.exists(), reason="needs ../shared/data/annict-anime-records")
def test_annict_time_cut() -> None:
    r = evaluate(convert_annict(ANNICT), protocol="time-cut", k=10)
    s = r["strategies"]
    assert r["users"] >= 150
    assert s["trending"]["recall"] > s["ease"]["recall"] > s["itemknn"]["recall"]   # TV follows what is airing
    assert s["multitudes"]["recall"] >= 1.2 * best_baseline(r)
    assert s["multitudes"]["persona_coverage"] >= 0.9
    assert s["multitudes"]["calibration_kl"] is None                              # no genres in Annict
