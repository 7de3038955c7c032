"""`multitudes eval`: split, fit every strategy on the same training data, measure, report side by side.

Metrics per strategy (means over evaluated people): Recall@k (hits / held-out items), NDCG@k, catalogue
coverage (distinct recommended items / items in training), intra-list diversity (mean pairwise 1 - cosine of
genre vectors), genre calibration KL (Steck 2018, KL(p || q~) with alpha 0.01), persona coverage@k (share of a
person's personas holding >= 10% of their weight that get at least one pick). A metric that does not apply
(no genres in the data) is null.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from engine.evaluation.datasets import Dataset, Interaction
from engine.evaluation.live import Live
from engine.evaluation.lone import Lone, LoneNaive
from engine.evaluation.pipeline_strategy import PersonaCache, World, build_world
from engine.evaluation.strategies import Base, Ease, ItemKNN, Popular, TrainData, Trending, UserKNN, kl
from engine.plumbing.compute import one_blas_thread
from engine.recommend.weights import Profile, shipped
from engine.values.errors import InvalidImport

ALL = ("popular", "trending", "itemknn", "ease", "live")
EXTRA = ("userknn", "lone", "lone-offline", "lone-naive", "multitudes")      # asked for by name (``--strategies``);
# ``multitudes`` is ``live`` under its old name
OURS = ("live", "multitudes", "lone", "lone-offline")     # what the ratio intervals compare with the best baseline
BOOTSTRAP = 2000
WINDOWS = (0.02, 0.05, 0.10)          # "trending": popularity over the last 2%, 5% and 10% of training time


def expand(names: Sequence[str]) -> list[str]:
    """``trending`` stands for one strategy per recency window, so the baseline to beat is the strongest."""
    out: list[str] = []
    for n in names:
        out += [f"trending-{round(w * 100)}%" for w in WINDOWS] if n == "trending" else [n]
    return out


def split(ds: Dataset, protocol: str, n: int) -> tuple[list[Interaction], dict[str, set[str]]]:
    if ds.test is not None:
        test: dict[str, set[str]] = defaultdict(set)
        for t in ds.test:
            test[t.user].add(t.item)
        return list(ds.interactions), dict(test)
    if protocol == "last-n":
        train, test = [], {}
        for u, rows in ds.by_user().items():
            firsts: dict[str, float] = {}
            for r in rows:
                firsts.setdefault(r.item, r.ts)
            order = sorted(firsts, key=lambda i: (firsts[i], i))
            if len(order) < n + 5:
                train.extend(rows)
                continue
            held = set(order[-n:])
            test[u] = held
            train.extend(r for r in rows if r.item not in held)
        return train, test
    if protocol == "time-cut":
        rows = sorted(ds.interactions, key=lambda it: it.ts)
        cut = int(len(rows) * 0.9)
        train, late = rows[:cut], rows[cut:]
        seen = {(it.user, it.item) for it in train}
        items = {it.item for it in train}
        pairs: dict[str, set[str]] = defaultdict(set)
        for it in train:
            pairs[it.user].add(it.item)
        test = defaultdict(set)
        for it in late:
            if (it.user, it.item) not in seen and len(pairs[it.user]) >= 5 and it.item in items:
                test[it.user].add(it.item)
        return train, dict(test)
    raise InvalidImport(f"unknown protocol {protocol!r}; use last-n or time-cut")


def make(name: str, protocol: str, ordinal: bool, seed: int, *, weights: str = "live", cowatch: str = "all") -> Base:
    """A strategy by name. ``live`` (``multitudes``) is ``Engine.recommend`` over the training data with the
    shipped ``live`` profile, or another profile of ``engine/recommend/weights.json`` by name."""
    if name.startswith("trending-") and name.endswith("%"):
        return Trending(window=float(name[len("trending-"):-1]) / 100, seed=seed)
    match name:
        case "popular":
            return Popular(seed=seed)
        case "trending":
            return Trending(seed=seed)
        case "itemknn":
            return ItemKNN(seed=seed)
        case "ease":
            return Ease(seed=seed)
        case "userknn":
            return UserKNN(seed=seed)
        case "lone-naive":
            return LoneNaive(seed=seed)
        case "lone" | "lone-offline":
            return Lone(public=name == "lone", ordinal=ordinal, seed=seed, profile=_profile(weights))
        case "live" | "multitudes":
            return Live(ordinal=ordinal, seed=seed, cowatch=cowatch,
                        profile=None if weights == "live" else _profile(weights))
    raise InvalidImport(f"unknown strategy {name!r}; choose from {', '.join((*ALL, *EXTRA))}")


def persona_coverage(world: World, personas: PersonaCache, user: str, recs: Sequence[str]) -> float | None:
    """Share of the person's personas with >= 10% of their weight that get at least one pick, each pick going to
    the persona whose centroid it is closest to (the pipeline's own assignment)."""
    view = personas.view(user)
    major = [p for p in view.personas if p.weight >= 0.1]
    if not major or not recs:
        return None
    C = np.stack([p.centroid for p in view.personas])
    aff = np.asarray(world.rows([world.data.iix[r] for r in recs]) @ C.T)
    served = {view.personas[int(j)].id for j, row in zip(np.argmax(aff, axis=1), aff, strict=True) if row.max() > 0}
    return sum(1 for p in major if p.id in served) / len(major)


def _ndcg(recs: Sequence[str], test: set[str], k: int) -> float:
    dcg = sum(1.0 / math.log2(i + 2) for i, r in enumerate(recs[:k]) if r in test)
    idcg = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(test))))
    return dcg / idcg if idcg else 0.0


def genre_matrix(data: TrainData) -> np.ndarray | None:
    vocab = sorted({g for m in data.items.values() for g in (m.get("genres") or [])})
    if not vocab:
        return None
    G = np.zeros((len(data.item_ids), len(vocab)))
    gi = {g: j for j, g in enumerate(vocab)}
    for i, it in enumerate(data.item_ids):
        gs = (data.items.get(it) or {}).get("genres") or []
        for g in gs:
            G[i, gi[g]] = 1.0 / len(gs)
    return G


def evaluate(ds: Dataset, *, strategies: Sequence[str] = ALL, protocol: str = "last-n", n: int = 5, k: int = 10,
             seed: int = 0, ordinal: bool | None = None, max_users: int | None = None,
             weights: str = "live", cowatch: str = "all") -> dict[str, Any]:
    one_blas_thread()
    if ordinal is None:   # row ordinals (Annict) versus seconds
        ordinal = max((it.ts for it in ds.interactions), default=0) < 1e7
    train, test = split(ds, protocol, n)
    data = TrainData.build(train, ds.items)
    users = sorted(u for u in test if u in data.uix)
    if max_users is not None and len(users) > max_users:
        import random
        users = sorted(random.Random(seed).sample(users, max_users))
    strategies = expand(strategies)
    world = build_world(data, ordinal=ordinal, seed=seed)
    cache = PersonaCache(world, seed)
    genres = genre_matrix(data)
    gnorm = None
    if genres is not None:
        gn = np.linalg.norm(genres, axis=1, keepdims=True)
        gnorm = genres / np.where(gn > 0, gn, 1)
    out: dict[str, Any] = {"k": k, "users": len(users), "protocol": protocol if ds.test is None else "test-file",
                           "dataset": ds.name, "weights": weights, "cowatch": cowatch, "strategies": {},
                           "details": {}}
    per_person: dict[str, list[float]] = {}
    for name in strategies:
        t0 = time.perf_counter()
        strat = make(name, protocol if ds.test is None else "time-cut", ordinal, seed, weights=weights,
                     cowatch=cowatch)
        strat.fit(data)
        fit_s = time.perf_counter() - t0
        rec_items: set[str] = set()
        recall = ndcg = ild = klsum = pcov = 0.0
        n_ild = n_kl = n_pc = 0
        mine = per_person[name] = []
        for u in users:
            recs = strat.recommend(u, k, data.seen(u))
            hits = len(set(recs) & test[u])
            recall += hits / len(test[u])
            mine.append(hits / len(test[u]))
            ndcg += _ndcg(recs, test[u], k)
            rec_items.update(recs)
            ix = [data.iix[r] for r in recs]
            if gnorm is not None and genres is not None and len(ix) > 1:
                sims = gnorm[ix] @ gnorm[ix].T
                m = len(ix)
                ild += float((m * m - sims.sum()) / (m * (m - 1))) if m > 1 else 0.0
                n_ild += 1
                seen = [data.iix[r.item] for r in data.by_user[u]]
                p = genres[seen].sum(axis=0)
                q = genres[ix].sum(axis=0)
                if p.sum() > 0 and q.sum() > 0:
                    klsum += kl(p / p.sum(), q / q.sum())
                    n_kl += 1
            cov = persona_coverage(world, cache, u, recs)
            if cov is not None:
                pcov += cov
                n_pc += 1
        nu = max(1, len(users))
        out["strategies"][name] = {
            "recall": round(recall / nu, 4), "ndcg": round(ndcg / nu, 4),
            "coverage": round(len(rec_items) / max(1, len(data.item_ids)), 4),
            "ild": round(ild / n_ild, 4) if n_ild else None,
            "calibration_kl": round(klsum / n_kl, 4) if n_kl else None,
            "persona_coverage": round(pcov / n_pc, 4) if n_pc else None,
        }
        if (isinstance(strat, Lone) and strat.public) or isinstance(strat, LoneNaive):
            out["strategies"][name]["requests_per_person"] = round(
                sum(strat.requests) / max(1, len(strat.requests)), 1)
            out["strategies"][name]["requests_max"] = max(strat.requests, default=0)
        out["details"][name] = {"fit_s": round(fit_s, 2), "total_s": round(time.perf_counter() - t0, 2)}
        if isinstance(strat, Live):
            strat.close()
    for name, iv in intervals(per_person, OURS, seed).items():
        out["strategies"][name] |= iv
    return out


def _profile(name: str) -> Profile:
    profiles = shipped().profiles
    if name not in profiles:
        raise InvalidImport(f"no weights profile {name!r}; choose one of {', '.join(profiles)}")
    return profiles[name]


def intervals(per_person: dict[str, list[float]], ours: Sequence[str], seed: int, rounds: int = BOOTSTRAP
              ) -> dict[str, dict[str, Any]]:
    """Each strategy's mean Recall as a ratio to the best baseline's (the best strategy that is not ours), with a
    paired bootstrap 95% interval: people are resampled with replacement, the same people for both strategies in
    every round."""
    base = {n: v for n, v in per_person.items() if n not in ours}
    if not base:
        return {}
    best = max(base, key=lambda n: (float(np.mean(base[n])) if base[n] else 0.0, n))
    b = np.asarray(base[best], dtype=float)
    if not len(b) or b.mean() <= 0:
        return {}
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(b), size=(rounds, len(b)))
    bb = b[idx].mean(axis=1)
    out: dict[str, dict[str, Any]] = {}
    for n, v in per_person.items():
        a = np.asarray(v, dtype=float)
        ratio = a[idx].mean(axis=1) / np.where(bb > 0, bb, np.nan)
        lo, hi = np.nanpercentile(ratio, [2.5, 97.5])
        out[n] = {"best_baseline": best, "ratio_to_best": round(float(a.mean() / b.mean()), 4),
                  "ratio_ci95": [round(float(lo), 4), round(float(hi), 4)]}
    return out
