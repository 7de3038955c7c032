"""Fitting the pipeline's weights on real data (``multitudes tune``), the way the evaluation protocol allows:
on a validation split carved out of the training data only.

Per validation person the candidates and the standardised signals are computed once; then coordinate ascent over
the signal weights (a small grid per signal, two passes), the popularity half-life, and the list-shaping knobs
(persona quotas, diversity). Then genre calibration, when the data has genres: the smallest calibration whose
validation KL (Steck 2018) is at most ``kl_ratio`` of the uncalibrated list's. Every candidate setting is scored by
running the pipeline's own selector.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from ..compute import one_blas_thread
from ..models import Mode
from ..recommend.pipeline import Scored, _z, select, target_for
from ..recommend.population import history_weights
from ..recommend.weights import SIGNALS, Profile, Provenance
from .datasets import Interaction
from .pipeline_strategy import PersonaCache, build_world, scored_for
from .strategies import TrainData, kl

GRID = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)
DECAYS = (2.0, 3.0, 5.0, 10.0, 30.0)
QUOTAS = (0.0, 0.5, 1.0)
HALF_LIVES = (3.0, 7.0, 14.0, 30.0, 60.0, 90.0, 125.0, 180.0, 270.0, 365.0, 730.0, 3650.0)
TUNED = ("persona", "collab", "popular_now", "popular_then", "popular_all", "quality")


@dataclass
class Case:
    scored: Scored
    held: set[int]
    genres: dict[str, float]
    by_half_life: dict[float, tuple[np.ndarray, np.ndarray]]     # half-life -> (popular_now, popular_then) z
    by_decay: dict[float, np.ndarray]                             # history decay -> collab z


def validation_split(data: TrainData, protocol: str, users: int, seed: int, fold: int = 0
                     ) -> tuple[list[Interaction], dict[str, set[str]]]:
    """Hold out part of the training data the way the protocol does: each sampled person's last items
    (``last-n``; each fold samples other people), or what people started after a cut (``time-cut``; fold ``f``
    cuts at 90%, 80%, ... of the training events)."""
    rng = random.Random(seed + fold)
    if protocol == "last-n":
        cand = [u for u, rows in data.by_user.items() if len(rows) >= 8]
        chosen = sorted(rng.sample(cand, min(users, len(cand))))
        hold: dict[str, set[str]] = {}
        for u in chosen:
            rows = data.by_user[u]
            n = max(1, min(5, len(rows) // 10))
            hold[u] = {r.item for r in rows[-n:]}
        held = {(u, i) for u, items in hold.items() for i in items}
        return [it for it in data.interactions if (it.user, it.item) not in held], hold
    rows = sorted(data.interactions, key=lambda it: (it.ts, it.user, it.item))
    cut = int(len(rows) * (0.9 - 0.1 * fold))
    train, late = rows[:cut], rows[cut:cut + int(len(rows) * 0.1)]
    seen = {(it.user, it.item) for it in train}
    items = {it.item for it in train}
    per_user: dict[str, set[str]] = {}
    for it in train:
        per_user.setdefault(it.user, set()).add(it.item)
    hold = {}
    for it in late:
        if (it.user, it.item) not in seen and len(per_user.get(it.user, ())) >= 5 and it.item in items:
            hold.setdefault(it.user, set()).add(it.item)
    keep = sorted(hold)
    if len(keep) > users:
        keep = sorted(rng.sample(keep, users))
    return train, {u: hold[u] for u in keep}


def _cases(data: TrainData, ordinal: bool, protocol: str, start: Profile, users: int, seed: int,
           fold: int) -> list[Case]:
    """Each validation person's pool, scored once (the popularity columns for every half-life)."""
    train, hold = validation_split(data, protocol, users, seed, fold)
    vdata = TrainData.build(train, data.items)
    world = build_world(vdata, ordinal=ordinal, seed=seed)
    cache = PersonaCache(world, seed)
    cases: list[Case] = []
    for u, items in hold.items():
        if u not in vdata.uix:
            continue
        view = cache.view(u)
        sc = scored_for(world, view, start, set())
        held = {vdata.iix[i] for i in items if i in vdata.iix}
        if not held or not len(sc.pool):
            continue
        by_hl = {}
        ids = sc.pool.ids
        trust = world.population.confidence            # as ``pipeline.score`` weighs the population's signals
        for hl in HALF_LIVES:
            now = trust * _z(world.population.popular_at(world.end, hl * 86400, ids))
            then = (trust * _z(world.population.popular_at(view.last_active, hl * 86400, ids))
                    if view.last_active is not None else np.zeros(len(ids)))
            by_hl[hl] = (now, then)
        by_decay = {d: trust * _z(world.population.collab(history_weights(view.watched, decay_items=d), ids))
                    for d in DECAYS}
        cases.append(Case(sc, held, view.genres, by_hl, by_decay))
    return cases


def fit_profile(data: TrainData, *, ordinal: bool, protocol: str, start: Profile, users: int = 200, k: int = 10,
                seed: int = 0, kl_ratio: float = 0.5, dataset: str = "", folds: int = 2,
                min_gain: float = 0.005,
                log: Callable[[str], None] | None = None) -> tuple[Profile, dict[str, Any]]:
    """Coordinate ascent on ``folds`` validation splits of ``data`` (the people of every fold pooled)."""
    one_blas_thread()
    t0 = time.perf_counter()
    cases: list[Case] = []
    for fold in range(folds):
        cases += _cases(data, ordinal, protocol, start, users, seed, fold)
    if not cases:
        return start, {"validation_users": 0}

    def measure(p: Profile) -> tuple[float, float | None]:
        """Mean validation recall and genre calibration KL of the lists ``p`` makes."""
        total = klsum = 0.0
        n_kl = 0
        i_now, i_then, i_co = (SIGNALS.index(s) for s in ("popular_now", "popular_then", "collab"))
        for c in cases:
            now, then = c.by_half_life[p.half_life_days]
            c.scored.Z[:, i_now] = now
            c.scored.Z[:, i_then] = then
            c.scored.Z[:, i_co] = c.by_decay[p.history_decay]
            picks = select(c.scored, Mode.AUTO, k, p, genres=c.genres)
            got = {c.scored.pool.ids[x.index] for x in picks}
            total += len(got & c.held) / len(c.held)
            target = target_for(c.scored, c.genres)
            G = c.scored.genres
            if target is not None and G is not None and picks:
                q = G[[x.index for x in picks]].sum(axis=0)
                klsum += kl(target, q / q.sum())
                n_kl += 1
        return total / len(cases), (klsum / n_kl if n_kl else None)

    def recall(p: Profile) -> float:
        return measure(p)[0]

    # start simple (persona, co-watching and popularity now at 1, the rest at 0) and move a value only for a
    # validation gain of at least ``min_gain``: the validation recall is noisy, and a weight that buys nothing
    # there is more likely to cost on new data than to help
    hl0 = min(HALF_LIVES, key=lambda h: abs(h - start.half_life_days))
    d0 = min(DECAYS, key=lambda d: abs(d - start.history_decay))
    simple = {s: (1.0 if s in ("persona", "collab", "popular_now") else 0.0) for s in TUNED}
    best = start.model_copy(update={"signals": {**{s: 0.0 for s in SIGNALS}, **simple}, "calibration": 0.0,
                                    "half_life_days": hl0, "history_decay": d0, "quota": 0.0,
                                    "diversity": 0.0})
    best_r = recall(best)

    def smoothest(p: Profile, key: str, grid: tuple[float, ...]) -> tuple[Profile, float]:
        """The value of an ordered knob whose neighbourhood does best (the mean recall of it and the values
        either side): a lone spike on a noisy validation curve is not a setting to ship."""
        rs = [recall(p.model_copy(update={key: v})) for v in grid]
        smooth = [float(np.mean(rs[max(0, i - 1):i + 2])) for i in range(len(rs))]
        i = int(np.argmax(smooth))
        return p.model_copy(update={key: grid[i]}), smooth[i]

    def better(r: float) -> bool:
        return r > best_r * (1 + min_gain) + 1e-9

    for _ in range(2):                                      # coordinate ascent
        for key, grid in (("half_life_days", HALF_LIVES), ("history_decay", DECAYS)):
            cand, r = smoothest(best, key, grid)
            if better(r):
                best, best_r = cand, recall(cand)
        for s in TUNED:
            for v in GRID:
                cand = best.model_copy(update={"signals": {**best.signals, s: v}})
                if not any(cand.signals.get(x, 0.0) for x in TUNED):
                    continue
                r = recall(cand)
                if better(r):
                    best, best_r = cand, r
        for div in (0.0, 0.1, 0.3):             # quota is an ordered knob too: chosen by its neighbourhood
            cand, r = smoothest(best.model_copy(update={"diversity": div}), "quota", QUOTAS)
            if better(r):
                best, best_r = cand, recall(cand)
        if log:
            log(f"recall {best_r:.4f} with {best.signals}, half-life {best.half_life_days} d, "
                f"history decay {best.history_decay}")
    accurate, kl0 = measure(best)
    calibrated: tuple[float, float | None] = (accurate, kl0)
    if kl0 is not None:                      # the smallest calibration that halves the lists' genre KL
        for lam in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
            cand = best.model_copy(update={"calibration": lam})
            r, d = measure(cand)
            if log:
                log(f"calibration {lam}: recall {r:.4f}, KL {d:.4f} (uncalibrated {kl0:.4f})")
            if d is not None and d <= kl_ratio * kl0:
                best, calibrated = cand, (r, d)
                break
    info: dict[str, Any] = {"validation_users": len(cases), "validation_recall": round(accurate, 4),
                            "validation_recall_calibrated": round(calibrated[0], 4),
                            "fit_s": round(time.perf_counter() - t0, 1)}
    if kl0 is not None and calibrated[1] is not None:
        info |= {"validation_kl": round(kl0, 4), "validation_kl_calibrated": round(calibrated[1], 4)}
    prov = Provenance(source="fitted", dataset=dataset or None, protocol=protocol,
                      note=f"{', '.join(s for s in SIGNALS if s not in TUNED)}: 0, no dataset carries them",
                      date=date.today().isoformat(), validation={k_: float(v) for k_, v in info.items()
                                                                 if isinstance(v, int | float)})
    best = best.model_copy(update={"provenance": {"all": prov}})
    return best, info



def tune_dataset(interactions: str, items: str, test: str | None = None, *, protocol: str = "last-n", n: int = 5,
                 users: int = 200, seed: int = 0, dataset: str = "", command: str = "", name: str = "fitted",
                 out: str | None = None, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """``multitudes tune``: split the dataset exactly as ``multitudes eval`` does, fit on the training part only
    (so the profile can be evaluated on the held-out part without having seen it), and write the profile as
    ``name`` into the weights file ``out`` (default: the shipped ``weights.json``)."""
    from ..recommend.weights import save_profile, shipped, shipped_path
    from .datasets import load
    from .runner import split
    ds = load(interactions, items, test)
    train, _ = split(ds, protocol, n)
    ordinal = max((it.ts for it in ds.interactions), default=0) < 1e7
    data = TrainData.build(train, ds.items)
    proto = protocol if ds.test is None else "time-cut"
    profile, info = fit_profile(data, ordinal=ordinal, protocol=proto, start=shipped().profile("live"),
                                users=users, seed=seed, dataset=dataset, log=log)
    prov = profile.provenance["all"].model_copy(update={"command": command or None,
                                                        "protocol": protocol if ds.test is None else "test-file"})
    path = out or shipped_path()
    save_profile(path, name, profile.model_copy(update={"provenance": {"all": prov}}))
    return {"profile": name, "file": str(path), **info}
