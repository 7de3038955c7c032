"""Persona benchmark: build times and stability on real people.

    python bench/personas.py --json

- build_s_5000: personas for one 5,000-show history (items and features from MovieLens when ../shared is there,
  otherwise synthetic shows cloned from the bundled catalogue), features given.
- build_s_1000_users: 1,000 people of typical size (histories drawn from MovieLens users, median ~70 items),
  including the one shared feature/co-watching build, run the way the engine runs them (off the event loop,
  ``--workers`` processes).
- features_s: the shared feature space (genres, tags, era, co-watching SVD) for the whole catalogue.
- Stability (``--users`` people with >= 40 ratings): adjusted Rand index of persona membership after removing a
  random 5% or adding the latest 5%, recomputed warm (the engine's way, from the previous personas) and cold.
- Growth (``--growth`` people sampled with the seed): does the number of personas grow with the length of a history
  of the same tastes? ``k_log_n_corr`` (correlation of the count with log history length), ``k_at_cap`` (people
  at the cap of 8), ``small_persona_share`` (personas under 10% of a history), ``k_half_vs_full`` (the mean
  count on a random half of each history against the whole).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.evaluation.datasets import Dataset, Interaction, convert_movielens  # noqa: E402
from engine.evaluation.persona_eval import Prepared, build_for, prepare, stability, summary  # noqa: E402

ML = ROOT.parent / "shared" / "data" / "movielens-ml-latest-small"
_P: Prepared | None = None


def synthetic() -> Dataset:
    from engine.values.catalogue import load_catalogue
    rng = random.Random(3)
    cat = load_catalogue()
    items = {}
    for i in range(6000):
        e = cat[i % len(cat)]
        items[str(i)] = {"title": f"{e['title']} #{i}", "genres": list(e["genres"]),
                         "keywords": rng.sample(e["keywords"], min(3, len(e["keywords"]))), "year": e["year"]}
    inter = []
    for u in range(600):
        taste = rng.sample(sorted({g for e in cat for g in e["genres"]}), 3)
        pool = [k for k, m in items.items() if set(m["genres"]) & set(taste)]
        for k in rng.sample(pool, min(len(pool), rng.randint(20, 200))):
            inter.append(Interaction(str(u), k, rng.uniform(1e9, 1.6e9), rng.choice([3.0, 4.0, 5.0])))
    return Dataset(inter, items, name="synthetic")


def _init(ordinal: bool) -> None:
    global _P
    from threadpoolctl import threadpool_limits
    threadpool_limits(1)   # one BLAS thread per worker process: no oversubscription of the cores
    ds = convert_movielens(ML) if ML.exists() else synthetic()
    _P = prepare(ds, ordinal=ordinal)


def _build(rows: list[Interaction]) -> int:
    assert _P is not None
    return len(build_for(_P, rows).personas)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--people", type=int, default=1000)
    ap.add_argument("--users", type=int, default=100, help="people for the stability measurement")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--growth", type=int, default=60, help="people for the growth measurement")
    a = ap.parse_args()
    real = ML.exists()
    t0 = time.perf_counter()
    ds = convert_movielens(ML) if real else synthetic()
    p = prepare(ds, ordinal=False)
    features_s = time.perf_counter() - t0

    rng = random.Random(0)
    items = sorted(ds.items)
    big = [Interaction("big", it, 1.2e9 + rng.uniform(0, 3e8), rng.choice([2.0, 3.0, 3.5, 4.0, 4.5, 5.0]))
           for it in rng.sample(items, 5000)]
    big.sort(key=lambda r: r.ts)
    t0 = time.perf_counter()
    b = build_for(p, big)
    build_s_5000 = time.perf_counter() - t0

    users = sorted(p.users)
    people = [p.users[rng.choice(users)] for _ in range(a.people)]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(a.workers, initializer=_init, initargs=(False,)) as pool:
        ks = list(pool.map(_build, people, chunksize=25))
    build_s_1000 = time.perf_counter() - t0

    stab_users = [u for u in sorted(p.users, key=lambda x: int(x) if x.isdigit() else 0)
                  if len({r.item for r in p.users[u]}) >= 40][: a.users]
    st = stability(p, stab_users)
    grow_rng = random.Random(0)
    sample = grow_rng.sample(sorted(p.users), min(a.growth, len(p.users)))
    kfull, khalf, lens, small = [], [], [], []
    for u in sample:
        rows = p.users[u]
        full = build_for(p, rows)
        kfull.append(len(full.personas))
        small += [d.cluster.share < 0.1 for d in full.personas]
        lens.append(math.log(len({r.item for r in rows})))
        khalf.append(len(build_for(p, grow_rng.sample(rows, len(rows) // 2)).personas))
    out = {
        "data": "movielens" if real else "synthetic", "features_s": round(features_s, 2),
        "build_s_5000": round(build_s_5000, 2), "personas_5000": len(b.personas),
        "build_s_1000_users": round(build_s_1000, 2), "people": a.people, "workers": a.workers,
        "median_items_per_person": statistics.median(len(x) for x in people),
        "personas_per_person_mean": round(statistics.fmean(ks), 2),
        "ms_per_person": round(1000 * build_s_1000 / a.people, 1),
        **{f"ari_{k}": summary(v) for k, v in st.items()},
        "growth_people": len(sample), "k_mean": round(statistics.fmean(kfull), 2),
        "k_log_n_corr": round(statistics.correlation(kfull, lens), 3) if len(set(kfull)) > 1 else 0.0,
        "k_at_cap": sum(k >= 8 for k in kfull), "small_persona_share": round(statistics.fmean(small), 3),
        "k_half_vs_full": [round(statistics.fmean(khalf), 2), round(statistics.fmean(kfull), 2)],
    }
    if a.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:28} {v}")


if __name__ == "__main__":
    main()
