"""Personas on real datasets: build for many people, and measure stability when 5% of a history changes."""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime

from sklearn.metrics import adjusted_rand_score

from engine.evaluation.datasets import Dataset, Interaction, ts_to_datetime
from engine.evaluation.people import ItemIndex, item_metas, person_history
from engine.taste.build import PersonaBuild, build_personas
from engine.taste.features import FeatureSpace, build_features, cowatch_embeddings
from engine.values.meta import ShowMeta


@dataclass
class Prepared:
    ds: Dataset
    index: ItemIndex
    metas: dict[int, ShowMeta]
    users: dict[str, list[Interaction]]
    space: FeatureSpace
    ordinal: bool
    now: datetime


def prepare(ds: Dataset, *, ordinal: bool, seed: int = 0) -> Prepared:
    index = ItemIndex([])
    metas = item_metas(ds, index)
    users = ds.by_user()
    inter = {u: [index.add(r.item) for r in rs] for u, rs in users.items()}
    cf = cowatch_embeddings(inter, 24, seed)
    space = build_features(metas, cf=cf, seed=seed)
    last = max(it.ts for it in ds.interactions)
    now = ts_to_datetime(last, ordinal) if ds.interactions else datetime.now(UTC)
    return Prepared(ds, index, metas, users, space, ordinal, now)


def build_for(p: Prepared, rows: list[Interaction], previous: list[dict[int, float]] | None = None,
              seed: int = 0) -> PersonaBuild:
    h = person_history(rows, p.index, ordinal=p.ordinal, episodic=p.ordinal)
    return build_personas(h, p.metas, p.now, space=p.space, seed=seed, previous=previous)


def _labels(b: PersonaBuild) -> dict[int, int]:
    return {s: i for i, d in enumerate(b.personas) for s in d.cluster.members}


def _ari(a: PersonaBuild, b: PersonaBuild) -> float:
    la, lb = _labels(a), _labels(b)
    common = sorted(set(la) & set(lb))
    if len(common) < 2:
        return 1.0
    return float(adjusted_rand_score([la[s] for s in common], [lb[s] for s in common]))


def _prev(b: PersonaBuild) -> list[dict[int, float]]:
    return [dict(zip(d.cluster.members, d.cluster.weights, strict=True)) for d in b.personas]


def stability(p: Prepared, users: list[str], frac: float = 0.05, seed: int = 0) -> dict[str, list[float]]:
    """ARI of persona membership (on shows present in both) when ``frac`` of a history is removed at random,
    or the latest ``frac`` is added; warm = recomputed from the previous personas as the engine does,
    cold = recomputed from scratch."""
    rng = random.Random(seed)
    out: dict[str, list[float]] = {"remove_warm": [], "remove_cold": [], "add_warm": [], "add_cold": []}
    for u in users:
        rows = p.users[u]
        items = sorted({r.item for r in rows})
        full = build_for(p, rows, seed=seed)
        drop = set(rng.sample(items, max(1, int(len(items) * frac))))
        kept = [r for r in rows if r.item not in drop]
        out["remove_warm"].append(_ari(full, build_for(p, kept, _prev(full), seed=seed)))
        out["remove_cold"].append(_ari(full, build_for(p, kept, seed=seed)))
        cut = len(rows) - max(1, int(len(rows) * frac))
        base = build_for(p, rows[:cut], seed=seed)
        out["add_warm"].append(_ari(base, build_for(p, rows, _prev(base), seed=seed)))
        out["add_cold"].append(_ari(base, build_for(p, rows, seed=seed)))
    return out


def summary(values: list[float]) -> dict[str, float]:
    v = sorted(values)
    if not v:
        return {}
    return {"n": len(v), "mean": round(statistics.fmean(v), 3), "median": round(statistics.median(v), 3),
            "p10": round(v[max(0, int(0.1 * len(v)) - 1)] if len(v) >= 10 else v[0], 3), "min": round(v[0], 3)}
