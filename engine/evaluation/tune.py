"""Fitting the weights the bot runs (``multitudes tune``), on validation folds cut from training data only.

Each dataset's training part is cut again into validation folds (``validation_split``: what people started after
a cut for ``time-cut``, each person's last items for ``last-n``). A fold's training part becomes a deployment
(``LiveWorld``: the store, the live lists, ``Recommender.prepare`` and ``scored_job`` — the path a person's
``/recommend`` takes) and each held-out person's request is scored once (``Case``), with the columns a profile's
time constants change computed for every value on their grids, as ``score`` computes them.

The objective is the list's Recall@k as a ratio to the best baseline of the same fold (the best trending window, or
EASE — what ``multitudes eval`` compares with), so datasets of different difficulty weigh alike: the worst fold's
ratio, plus a tenth of the geometric mean of all (one profile must serve every kind of deployment; a gain on one
dataset never buys a loss below the others). Coordinate ascent over the signal weights and the knobs, each ordered
knob chosen by its neighbourhood on the validation curve; a value moves only for a gain of ``min_gain``. Then genre
calibration where the data has genres: for each reach (how far down the ranking it may look), the smallest that
brings the lists' genre KL (Steck 2018) to at most ``kl_ratio`` of EASE's on every such fold; then the reach whose
lists do best.

Signals no dataset carries (lifecycle, the outside lists' evidence, tone) keep the values of the starting profile.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from engine.evaluation.live import LiveWorld
from engine.evaluation.strategies import TrainData, kl
from engine.evaluation.validation import baselines, validation_split
from engine.plumbing.compute import one_blas_thread
from engine.recommend.pipeline import (
    Scored,
    collab_column,
    neighbours_column,
    pool_signals,
    popularity_columns,
    select,
    target_for,
    zscore,
)
from engine.recommend.ranking import scored_job
from engine.recommend.weights import SIGNALS, Profile, Provenance
from engine.values.models import Mode

GRID = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
DECAYS = (2.0, 3.0, 5.0, 10.0, 30.0)
QUOTAS = (0.0, 0.5, 1.0)
HALF_LIVES = (3.0, 7.0, 14.0, 30.0, 60.0, 90.0, 180.0, 365.0, 730.0)
NEIGHBOUR_DAYS = (3.0, 7.0, 14.0, 30.0, 60.0, 180.0)
PRESENT = (30.0, 90.0, 180.0, 365.0, 730.0, 1e6)
SHIFTS = (0.0, 0.5, 0.8, 1.0)
CALIBRATIONS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)
REACHES = (0.0, 2.0, 3.0, 4.0, 10.0)        # calibration re-orders the best this x k candidates (0: all of them)
TUNED = ("persona", "collab", "neighbours", "continuation", "popular_now", "popular_then", "popular_all", "quality",
         "evidence")
# signals no dataset carries, as shares of the strongest tuned weight (set by eye with the taste panel, see the
# live profile's provenance): what is airing or returning soon, LLM tone tags
HAND = {"lifecycle": 0.4, "tone": 0.3}
# floors, as shares of the strongest tuned weight, for signals a dataset carries only in part: Recall does not
# reward a well-rated show over a mediocre one people also watch, but people do (tests/test_taste_panel.py: without
# it a sci-fi fan's ten picks rate below the genre's median on IMDb); the outside lists are answered in the
# evaluation from the training data's own co-watching (``DatasetLists``), which says less than Trakt's and TMDB's
FLOOR = {"quality": 0.15, "evidence": 0.1}
FLOOR_REASON = {
    "quality": "Recall does not reward a well-rated show over a mediocre one people also watch, people do (without it "
               "a sci-fi fan's ten picks rate below the genre's median on IMDb, tests/test_taste_panel.py)",
    "evidence": "in the evaluation Trakt's and TMDB's lists are answered from the training data's own co-watching, "
                "which repeats what co-watching says; live they carry what a deployment cannot see"}
KNOBS: tuple[tuple[str, tuple[float, ...]], ...] = (
    ("half_life_days", HALF_LIVES), ("neighbours_days", NEIGHBOUR_DAYS), ("history_decay", DECAYS),
    ("present_days", PRESENT), ("present_shift", SHIFTS))


@dataclass
class Case:
    """One validation person's request, scored once, with the columns a profile's time constants change."""
    scored: Scored
    held: set[int]
    genres: dict[str, float]
    by_half_life: dict[float, tuple[np.ndarray, np.ndarray]]               # half-life -> (now ungated, then)
    by_decay: dict[float, tuple[np.ndarray, np.ndarray]]                   # history decay -> (collab, continuation)
    neighbours: dict[float, np.ndarray]                                    # half-life -> neighbours
    idle_days: float = 0.0                                                 # since the person's last watch

    def apply(self, p: Profile) -> Scored:
        """The scored candidates as profile ``p`` would have scored them (``pipeline.score``'s gating)."""
        now, then = self.by_half_life[p.half_life_days]
        near = self.neighbours[p.neighbours_days]
        collab, cont = self.by_decay[p.history_decay]
        gate = float(np.exp2(-self.idle_days / p.present_days))
        Z = self.scored.Z
        Z[:, _I["popular_now"]] = now * gate
        Z[:, _I["popular_then"]] = then
        Z[:, _I["neighbours"]] = near * gate
        Z[:, _I["collab"]] = collab * (1.0 - p.present_shift * gate)
        Z[:, _I["continuation"]] = cont
        return self.scored


_I = {s: i for i, s in enumerate(SIGNALS)}


@dataclass
class Fold:
    """A validation fold: its people's cases, and what the baselines reach on the same people."""
    name: str
    cases: list[Case]
    baseline: float                              # the best baseline's mean Recall@k
    baseline_name: str
    ease_kl: float | None = None                 # EASE's mean genre KL (None: no genres)
    notes: dict[str, float] = field(default_factory=dict)


def live_cases(world: LiveWorld, hold: dict[str, set[str]], start: Profile) -> list[Case]:
    """Each held-out person's request through the live path, scored once with ``start``; the popularity,
    neighbour, co-watching and continuation columns for every value of their time constants."""
    cases: list[Case] = []
    for u, items in sorted(hold.items()):
        job = world.request(u)
        if job is None:
            continue
        scored, person, _ = scored_job(job, start, genre_columns=True)
        held = world.show_ids(items)
        if not held or not len(scored.pool):
            continue
        ids = scored.pool.ids
        population, cat = job.dep.population, job.dep.catalogue
        ms = pool_signals(scored.pool, cat)
        now_ts = (job.now or world.cut).timestamp()
        by_hl = {hl: popularity_columns(ids, person, population, hl, now_ts, ms, math.inf) for hl in HALF_LIVES}
        near = {hl: neighbours_column(ids, person, population, hl, now_ts) for hl in NEIGHBOUR_DAYS}
        by_decay = {}
        for d in DECAYS:
            cont = cat.continuations(person.recency(d))
            by_decay[d] = (collab_column(ids, person, population, d),
                           zscore(np.array([cont.get(i, 0.0) for i in ids])))
        idle = (now_ts - person.last_active) / 86400 if person.last_active is not None else 0.0
        cases.append(Case(scored, held, person.genres, by_hl, by_decay, near, max(0.0, idle)))
    return cases


def folds_of(data: TrainData, *, name: str, ordinal: bool, protocol: str, start: Profile, users: int, seed: int,
             folds: int, log: Callable[[str], None] | None = None) -> list[Fold]:
    out = []
    for f in range(folds):
        t0 = time.perf_counter()
        train, hold = validation_split(data, protocol, users, seed, f)
        vdata = TrainData.build(train, data.items)
        world = LiveWorld(vdata, ordinal=ordinal, seed=seed, profile=start)
        try:
            cases = live_cases(world, hold, start)
        finally:
            world.close()
        best, best_name, ease_kl = baselines(vdata, {u: hold[u] for u in hold if u in vdata.uix})
        out.append(Fold(f"{name}#{f}", cases, best, best_name, ease_kl))
        if log:
            log(f"fold {name}#{f}: {len(cases)} people, best baseline {best_name} {best:.4f} "
                f"({time.perf_counter() - t0:.0f} s)")
    return out


def measure(fold: Fold, p: Profile, k: int = 10) -> tuple[float, float | None]:
    """Mean Recall@k and genre KL of the lists ``p`` makes for the fold's people."""
    total = klsum = 0.0
    n_kl = 0
    for c in fold.cases:
        picks = select(c.apply(p), Mode.AUTO, k, p, genres=c.genres)
        got = {c.scored.pool.ids[x.index] for x in picks}
        total += len(got & c.held) / len(c.held)
        target = target_for(c.scored, c.genres)
        G = c.scored.genres
        if target is not None and G is not None and picks:
            q = G[[x.index for x in picks]].sum(axis=0)
            klsum += kl(target, q / q.sum())
            n_kl += 1
    return total / max(1, len(fold.cases)), (klsum / n_kl if n_kl else None)


def objective(ratios: Sequence[float]) -> float:
    """The worst fold's ratio to its best baseline, plus a tenth of the geometric mean of all."""
    r = np.maximum(np.asarray(ratios, dtype=float), 1e-6)
    return float(r.min() + 0.1 * np.exp(np.log(r).mean()))


def fit_profile(folds: Sequence[Fold], start: Profile, *, k: int = 10, kl_ratio: float = 0.45,
                min_gain: float = 0.002, passes: int = 3, search: int = 80, seed: int = 0,
                log: Callable[[str], None] | None = None) -> tuple[Profile, dict[str, Any]]:
    """Coordinate ascent from ``start`` on the folds' joint objective, then ``search`` random local steps."""
    one_blas_thread()
    t0 = time.perf_counter()
    folds = [f for f in folds if f.cases and f.baseline > 0]
    if not folds:
        return start, {"validation_users": 0}

    def ratios(p: Profile) -> list[float]:
        return [measure(f, p, k)[0] / f.baseline for f in folds]

    def hand(p: Profile) -> Profile:
        top = max((p.signals.get(s, 0.0) for s in TUNED), default=0.0) or 1.0
        floors = {s: max(p.signals.get(s, 0.0), round(r * top, 4)) for s, r in FLOOR.items()}
        return p.model_copy(update={"signals": {**p.signals, **floors,
                                                **{s: round(r * top, 4) for s, r in HAND.items()}}})

    best = hand(start.model_copy(update={"calibration": 0.0}))
    best_r = ratios(best)

    def better(r: list[float]) -> bool:
        return objective(r) > objective(best_r) * (1 + min_gain) + 1e-9

    def smoothest(p: Profile, key: str, grid: tuple[float, ...]) -> tuple[Profile, list[float]]:
        """The value of an ordered knob whose neighbourhood does best (the mean objective of it and the values
        either side): a lone spike on a noisy validation curve is not a setting to ship."""
        rs = [ratios(p.model_copy(update={key: v})) for v in grid]
        obj = [objective(r) for r in rs]
        smooth = [float(np.mean(obj[max(0, i - 1):i + 2])) for i in range(len(obj))]
        i = int(np.argmax(smooth))
        return p.model_copy(update={key: grid[i]}), rs[i]

    for n in range(passes):
        before = objective(best_r)
        for key, grid in KNOBS:
            cand, r = smoothest(best, key, grid)
            if better(r):
                best, best_r = cand, r
        for s in TUNED:
            for v in GRID:
                cand = hand(best.model_copy(update={"signals": {**best.signals, s: v}}))
                if not any(cand.signals.get(x, 0.0) for x in TUNED):
                    continue
                r = ratios(cand)
                if better(r):
                    best, best_r = cand, r
        for div in (0.0, 0.1, 0.3):
            cand, r = smoothest(best.model_copy(update={"diversity": div}), "quota", QUOTAS)
            if better(r):
                best, best_r = cand, r
        if log:
            log(f"pass {n + 1}: ratios {[round(x, 3) for x in best_r]} with {best.signals}, "
                f"half-life {best.half_life_days} d, neighbours {best.neighbours_days} d, history decay "
                f"{best.history_decay}, present {best.present_days} d / shift {best.present_shift}, quota "
                f"{best.quota}, diversity {best.diversity}")
        if objective(best_r) <= before * (1 + min_gain):
            break
    rng = random.Random(seed)
    for n in range(search):          # then a local random search: a few weights at a time, scaled
        update: dict[str, Any] = {}
        signals = dict(best.signals)
        for sig in rng.sample(TUNED, rng.choice((1, 2, 3))):
            v = signals.get(sig, 0.0)
            signals[sig] = round(v * rng.choice((0.5, 0.7, 1.4, 2.0)) if v else rng.choice((0.25, 0.5, 1.0)), 4)
        update["signals"] = signals
        if rng.random() < 0.3:
            key, grid = rng.choice(KNOBS)
            i = grid.index(getattr(best, key)) if getattr(best, key) in grid else 0
            update[key] = grid[min(len(grid) - 1, max(0, i + rng.choice((-1, 1))))]
        cand = hand(best.model_copy(update=update))
        r = ratios(cand)
        if better(r):
            best, best_r = cand, r
            if log:
                log(f"search {n}: ratios {[round(x, 3) for x in best_r]} with {best.signals}")
    kl_folds = [f for f in folds if f.ease_kl is not None]
    if kl_folds:                       # for each reach, the smallest calibration bringing every genre fold to
        base = best                    # kl_ratio of EASE's; then the reach whose lists do best
        found: list[tuple[Profile, list[float]]] = []
        for reach in REACHES:
            for lam in CALIBRATIONS:
                cand = base.model_copy(update={"calibration": lam, "calibration_reach": reach})
                got = [measure(f, cand, k)[1] for f in kl_folds]
                if log:
                    shares = [round((g or 0) / (f.ease_kl or 1), 3) for g, f in zip(got, kl_folds, strict=True)]
                    log(f"calibration {lam} over {reach or 'all'} x k: KL / EASE's {shares}")
                if all(g is not None and f.ease_kl is not None and g <= kl_ratio * f.ease_kl
                       for g, f in zip(got, kl_folds, strict=True)):
                    found.append((cand, ratios(cand)))
                    break
        if found:
            best, best_r = max(found, key=lambda pr: objective(pr[1]))
    info: dict[str, Any] = {
        "validation_users": sum(len(f.cases) for f in folds),
        "folds": {f.name: {"people": len(f.cases), "baseline": f.baseline_name, "baseline_recall":
                           round(f.baseline, 4), "recall": round(measure(f, best, k)[0], 4), "ratio": round(r, 4)}
                  for f, r in zip(folds, best_r, strict=True)},
        "fit_s": round(time.perf_counter() - t0, 1)}
    return best, info


def tune(specs: Sequence[tuple[str, str, str | None, str, int]], *, users: int = 200, seed: int = 0,
         folds: int = 2, start: Profile | None = None, log: Callable[[str], None] | None = None
         ) -> tuple[Profile, dict[str, Any]]:
    """Fit one profile on every dataset in ``specs`` ((interactions, items, test or None, protocol, n) each):
    each split exactly as ``multitudes eval`` splits it, folds cut from its training part only."""
    from engine.evaluation.datasets import load
    from engine.evaluation.runner import split
    from engine.recommend.weights import shipped
    start = start or shipped().profile("live")
    all_folds: list[Fold] = []
    names = []
    for interactions, items, test, protocol, n in specs:
        ds = load(interactions, items, test)
        train, _ = split(ds, protocol, n)
        ordinal = max((it.ts for it in ds.interactions), default=0) < 1e7
        data = TrainData.build(train, ds.items)
        proto = protocol if ds.test is None else "time-cut"
        all_folds += folds_of(data, name=ds.name, ordinal=ordinal, protocol=proto, start=start, users=users,
                              seed=seed, folds=folds, log=log)
        names.append(f"{ds.name} ({protocol if ds.test is None else 'test-file'})")
    profile, info = fit_profile(all_folds, start, seed=seed, log=log)
    return profile, {"datasets": names, **info}


def provenance_of(fitted: Provenance) -> dict[str, Provenance]:
    """Where each value of a fitted profile comes from: the fit, or a hand-set share with its reason."""
    out = {key: fitted for key in (*TUNED, *(k for k, _ in KNOBS), "quota", "diversity", "calibration",
                                                                   "calibration_reach")}
    out["lifecycle"] = Provenance(source="hand-set", note=(
        f"{HAND['lifecycle']} of the strongest weight: no dataset carries air dates or new seasons; set by eye with "
        "the taste panel (a season starting soon or just finished lifts a show, never above the person's taste)"))
    out["tone"] = Provenance(source="hand-set", note=(
        f"{HAND['tone']} of the strongest weight: LLM tone tags exist only with an LLM configured; set by eye"))
    for key, share in FLOOR.items():
        out[key] = fitted.model_copy(update={"note": f"fitted, with a floor of {share} of the strongest weight: "
                                                     + FLOOR_REASON[key]})
    return out


def tune_datasets(specs: Sequence[tuple[str, str, str | None, str, int]], *, users: int = 200, seed: int = 0,
                  folds: int = 2, name: str = "live", command: str = "", out: str | None = None,
                  log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """``multitudes tune``: fit, then write the profile as ``name`` into the weights file ``out`` (default: the
    shipped ``weights.json``), each tuned value with its provenance and every other value's kept."""
    from engine.recommend.weights import save_profile, shipped, shipped_path
    base = shipped().profiles.get(name) or shipped().profile("live")
    profile, info = tune(specs, users=users, seed=seed, folds=folds, start=base, log=log)
    validation = {f"{k}.ratio": float(v["ratio"]) for k, v in info["folds"].items()}
    fitted = Provenance(source="fitted", dataset="; ".join(info["datasets"]), protocol="validation folds cut from "
                        "training (time-cut: 90%/80%; last-n: other people each fold)", command=command or None,
                        date=date.today().isoformat(), validation=validation,
                        note="objective: the worst fold's Recall@10 ratio to its best baseline + 0.1 x the geometric "
                             "mean of all")
    provenance = provenance_of(fitted)
    path = out or shipped_path()
    save_profile(path, name, profile.model_copy(update={"provenance": provenance}))
    return {"profile": name, "file": str(path), **info}
