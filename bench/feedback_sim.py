"""Feedback-loop simulation on real histories split in time (MovieLens ml-latest-small and the Annict 2020
snapshot): does learning from what people do with the picks get more of them watched?

    python bench/feedback_sim.py --json

Each round (a week) the engine shows every simulated person ``--k`` picks; a pick among their real watches after
the cut is adopted, one in the part of their past the engine never saw is marked 👀, anything else is ignored.
``adoption_adaptive`` and ``adoption_static`` are cumulative adoption rates (adopted / shown, pooled over both
datasets) of the same engine with adaptation on and off, run side by side on the same people; ``ratio`` is their
quotient. Per-dataset results, the two ablations (decay only, bandit only) and per-round curves are under
``datasets``. Method: ``engine/evaluation/feedback_sim.py``. Needs ../shared/data (or ``--movielens``/``--annict``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.evaluation.datasets import convert_annict, convert_movielens  # noqa: E402
from engine.evaluation.feedback_sim import simulate  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print one JSON document")
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--users", type=int, default=300, help="simulated people per dataset")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--movielens", type=Path, default=SHARED / "movielens-ml-latest-small")
    ap.add_argument("--annict", type=Path, default=SHARED / "annict-anime-records")
    a = ap.parse_args()
    t0 = time.perf_counter()
    sets = []
    if a.movielens.exists():
        sets.append(convert_movielens(a.movielens))
    if a.annict.exists():
        sets.append(convert_annict(a.annict))
    if not sets:
        print("no dataset found: put ../shared/data beside the repository or pass --movielens/--annict",
              file=sys.stderr)
        return 2
    results = {ds.name: simulate(ds, rounds=a.rounds, k=a.k, users=a.users, seed=a.seed,
                                 split="per-person" if ds.name == "movielens" else "global") for ds in sets}
    pooled = {}
    for arm in ("adaptive", "static", "decay_only", "bandit_only"):
        shown = sum(r["arms"][arm]["shown"] for r in results.values())
        adopted = sum(r["arms"][arm]["adopted"] for r in results.values())
        pooled[arm] = round(adopted / shown, 4) if shown else 0.0
    out = {
        "adoption_adaptive": pooled["adaptive"], "adoption_static": pooled["static"],
        "ratio": round(pooled["adaptive"] / pooled["static"], 3) if pooled["static"] else None,
        "adoption_decay_only": pooled["decay_only"], "adoption_bandit_only": pooled["bandit_only"],
        "rounds": a.rounds, "k": a.k, "people": sum(r["people"] for r in results.values()),
        "datasets": results, "wall_s": round(time.perf_counter() - t0, 1),
    }
    if a.json:
        print(json.dumps(out, indent=2))
    else:
        for name, r in results.items():
            arms = r["arms"]
            print(f"{name}: {r['people']} people, {r['rounds']} rounds x {r['k']} picks — adoption adaptive "
                  f"{arms['adaptive']['adoption']:.2%} vs static {arms['static']['adoption']:.2%} "
                  f"(decay only {arms['decay_only']['adoption']:.2%}, bandit only "
                  f"{arms['bandit_only']['adoption']:.2%})")
        print(f"pooled: adaptive {out['adoption_adaptive']:.2%} vs static {out['adoption_static']:.2%} "
              f"(ratio {out['ratio']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
