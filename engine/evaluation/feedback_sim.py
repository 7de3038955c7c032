"""Replay real histories split in time to measure what the feedback loop adds.

The data is cut in time: at one moment for everyone (Annict), or after each person's first 80% of ratings by
time (MovieLens, whose people rate in bursts years apart, so few are active after any single moment). The engine
learns from everything before the cut, except a random tenth of each simulated person's past that they "forgot to
log" (a real Trakt history is rarely complete). Then, round after round
(a round is a week: what was shown rests two rounds, like ``recommend.recent_days``), the engine shows each person
``k`` picks. The simulated person

* **adopts** a pick that is among their real watches after the cut (it then joins their history),
* marks it **👀 already seen** when it is in the part of their past the engine did not know (never shown again),
* **ignores** it otherwise.

Arms compared side by side on the same people, same picks budget and same random seed:

* ``static`` — the engine with adaptation off (what ships with ``recommend.adaptive = false``),
* ``adaptive`` — the engine with the mechanisms of :mod:`engine.adapt`: Thompson sampling over candidate sources,
  personas and ranking strategies (one drawn per list slot) with a global prior (everyone's statistics, refreshed
  once per round), and decay of ignored picks,
* ``decay_only`` and ``bandit_only`` (sources, personas, strategies; no decay) — ablations, to see which part
  earns what.

Scores come from the same fitted blend the offline evaluation uses (:class:`~engine.evaluation.multitudes.
Multitudes`); a candidate's *sources* are the signals (EASE, item-kNN, trending, recent, popular, quality, persona)
that rank it in their own top list, as the live engine's sources are the lists that proposed a show.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import adapt
from ..adapt import ArmStats
from ..recommend.rerank import ensure_coverage
from .datasets import Dataset, Interaction
from .multitudes import SIGNALS, Multitudes
from .strategies import TrainData

ARMS = ("static", "adaptive", "decay_only", "bandit_only")
# the live engine's strategies (engine/adapt.py STRATEGIES) as signal mixes here: the fitted blend, persona taste
# first, or what is airing and well rated first
STRATEGY_SIGNALS = {"taste": ("persona", "ease"), "crowd": ("trend", "recent", "quality")}
SOURCE_TOP = 50          # a signal "proposes" the items in its own top-50
POOL = 200               # candidates considered per person and round


@dataclass
class Person:
    user: str
    items: list[str]                    # candidate pool (item ids)
    rel: np.ndarray                     # static relevance (the fitted blend, unit variance over the pool)
    sources: list[tuple[str, ...]]      # which signals propose each candidate
    assign: np.ndarray                  # persona index per candidate (-1: none)
    weights: np.ndarray                 # persona weights
    future: set[str]
    hidden: set[str]
    alts: dict[str, np.ndarray] = field(default_factory=dict)   # strategy -> relevance over the pool


@dataclass
class ArmRun:
    """One arm's state over the simulation."""
    name: str
    decay: bool
    bandit: bool
    shown: int = 0
    adopted: int = 0
    seen: int = 0
    per_round: list[float] = field(default_factory=list)
    people_adopting: set[str] = field(default_factory=set)
    src: dict[str, dict[str, list[int]]] = field(default_factory=lambda: defaultdict(dict))   # user -> arm -> [n, k]
    per: dict[str, dict[int, list[int]]] = field(default_factory=lambda: defaultdict(dict))
    everyone: dict[str, ArmStats] = field(default_factory=dict)
    overall: ArmStats = field(default_factory=lambda: ArmStats(0, 0))
    ignored: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    last_shown: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    done: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))          # adopted or 👀
    strat: dict[str, dict[str, list[int]]] = field(default_factory=lambda: defaultdict(dict))
    strat_everyone: dict[str, ArmStats] = field(default_factory=dict)


def _split(ds: Dataset, cut: float, how: str) -> tuple[list[Interaction], dict[str, set[str]]]:
    """``global``: one moment for everyone (the share ``cut`` of all rows before it); ``per-person``: each person's
    own first ``cut`` of rows by time (MovieLens people rate in bursts years apart, so few are active after any
    single moment)."""
    rows = sorted(ds.interactions, key=lambda it: (it.ts, it.user, it.item))
    if how == "global":
        t_cut = rows[min(len(rows) - 1, int(len(rows) * cut))].ts
        train = [r for r in rows if r.ts < t_cut]
    elif how == "per-person":
        mine: dict[str, list[Interaction]] = defaultdict(list)
        for r in rows:
            mine[r.user].append(r)
        train = []
        for rs in mine.values():
            train += rs[: max(1, int(len(rs) * cut))]
    else:
        raise ValueError(f"split {how!r}: global or per-person")
    in_train = {(r.user, r.item, r.ts) for r in train}
    known = {r.item for r in train}
    seen: dict[str, set[str]] = defaultdict(set)
    for r in train:
        seen[r.user].add(r.item)
    future: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        if (r.user, r.item, r.ts) not in in_train and r.item in known and r.item not in seen[r.user]:
            future[r.user].add(r.item)
    return train, dict(future)


def prepare(ds: Dataset, *, users: int = 300, cut: float = 0.8, split: str = "global", hide_past: float = 0.1,
            min_train: int = 10, seed: int = 0, ordinal: bool | None = None) -> tuple[list[Person], dict[str, Any]]:
    """Split, hide part of each person's past, fit the engine once, and build each person's candidate pool."""
    if ordinal is None:
        ordinal = max((it.ts for it in ds.interactions), default=0) < 1e7
    rng = random.Random(seed)
    train, future = _split(ds, cut, split)
    by_user: dict[str, list[str]] = defaultdict(list)
    for r in train:
        if r.item not in by_user[r.user]:
            by_user[r.user].append(r.item)
    eligible = sorted(u for u, f in future.items() if f and len(by_user.get(u, [])) >= min_train)
    chosen = sorted(rng.sample(eligible, min(users, len(eligible))))
    hidden: dict[str, set[str]] = {}
    for u in chosen:
        items = sorted(by_user[u])
        hidden[u] = set(rng.sample(items, max(1, round(hide_past * len(items)))))
    engine_rows = [r for r in train if r.item not in hidden.get(r.user, ())]
    data = TrainData.build(engine_rows, ds.items)
    model = Multitudes(protocol="time-cut", ordinal=ordinal, seed=seed)
    t0 = time.perf_counter()
    model.fit(data)
    fit_s = time.perf_counter() - t0
    assert model.oracle is not None
    w = np.array([model.weights.get(s, 0.0) for s in SIGNALS])
    people = []
    for u in chosen:
        sig = model._signals(model.parts, u)
        if sig is None:
            continue
        seen_ix = np.array([data.iix[i] for i in data.seen(u)], dtype=np.int64)
        blend = sig @ w
        masked = blend.copy()
        masked[seen_ix] = -np.inf
        pool = set(np.argsort(-masked, kind="stable")[:POOL].tolist())
        tops = {}
        for j, s in enumerate(SIGNALS):
            col = sig[:, j].copy()
            col[seen_ix] = -np.inf
            top = set(np.argsort(-col, kind="stable")[:SOURCE_TOP].tolist())
            tops[s] = top
        ix = np.array(sorted(pool), dtype=np.int64)
        rel = blend[ix]
        rel = (rel - rel.mean()) / (rel.std() or 1.0)
        pv = model.persona_vectors(data, u)
        zs = {}
        for name, cols in STRATEGY_SIGNALS.items():
            v = sum(sig[ix, SIGNALS.index(c)] for c in cols)
            zs[name] = (v - v.mean()) / (v.std() or 1.0)
        people.append(Person(
            user=u, items=[data.item_ids[i] for i in ix], rel=rel,
            sources=[tuple(s for s in SIGNALS if int(i) in tops[s]) or ("blend",) for i in ix],
            assign=pv.assign(model.oracle.space.matrix[ix]), weights=pv.weights,
            future=future[u], hidden=hidden[u], alts={"blend": rel, **zs}))
    info = {"fit_s": round(fit_s, 2), "weights": model.weights, "train_rows": len(engine_rows),
            "eligible_people": len(eligible), "ordinal": ordinal}
    return people, info


def _pick(p: Person, run: ArmRun, rnd: int, k: int, rest: int, rng: np.random.Generator) -> list[tuple[int, str]]:
    shown_at = run.last_shown[p.user]
    done = run.done[p.user]
    ok = np.array([p.items[i] not in done and rnd - shown_at.get(p.items[i], -10**6) > rest
                   for i in range(len(p.items))])
    rel = p.rel.copy()
    weights = p.weights
    if run.bandit:
        mine = {a: ArmStats(*v) for a, v in run.src[p.user].items()}
        draws = adapt.draw(adapt.posteriors(mine, run.everyone), rng)
        mean = float(np.mean(list(draws.values()))) if draws else 0.0
        rel = rel + np.array([adapt.source_bonus(s, draws, mean) for s in p.sources])
        if len(weights) > 1:
            own = {str(j): ArmStats(*v) for j, v in run.per[p.user].items()}
            prior = {str(j): run.overall for j in range(len(weights))}
            pd = adapt.draw(adapt.posteriors(own, prior), rng)
            tilt = adapt.persona_multipliers([pd[str(j)] for j in range(len(weights))])
            weights = weights * tilt / float((weights * tilt).sum())
            rel = rel + np.where(p.assign >= 0, np.log(tilt[np.maximum(p.assign, 0)]), 0.0)
    if run.decay:
        ign = run.ignored[p.user]
        rel = rel - np.array([adapt.ignored_penalty(ign.get(it, 0)) for it in p.items])
    adj = rel - p.rel                                   # what adaptation adds, whatever the strategy
    rel = np.where(ok, rel, -np.inf)
    if run.bandit and p.alts:
        # every slot ranked by the strategy the bandit draws for this person
        mine = {a: ArmStats(*v) for a, v in run.strat[p.user].items()}
        post = adapt.posteriors(mine, run.strat_everyone)
        picks: list[tuple[int, str]] = []
        used: set[int] = set()
        for _ in range(k):
            strat = adapt.pick_strategy(post, rng)
            score = np.where(ok, p.alts[strat] + adj, -np.inf)
            order = [int(i) for i in np.argsort(-score, kind="stable") if np.isfinite(score[i]) and int(i) not in used]
            if not order:
                break
            used.add(order[0])
            picks.append((order[0], strat))
        return picks
    order = [int(i) for i in np.argsort(-rel, kind="stable") if np.isfinite(rel[i])]
    if not order:
        return []
    chosen = order[:k]
    if len(weights):
        masked_rel = np.where(np.isfinite(rel), rel, -1e9)
        chosen = ensure_coverage(chosen, masked_rel, p.assign, weights, k)
        chosen = [i for i in chosen if np.isfinite(rel[i])]
    return [(i, "blend") for i in chosen]


def run_arm(people: list[Person], name: str, *, rounds: int, k: int, rest: int, seed: int) -> ArmRun:
    run = ArmRun(name, decay=name in ("adaptive", "decay_only"), bandit=name in ("adaptive", "bandit_only"))
    glob_strat: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    rng = np.random.default_rng(seed)
    glob_src: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    glob_all = [0, 0]
    for rnd in range(rounds):
        shown = adopted = 0
        for p in people:
            for i, strat in _pick(p, run, rnd, k, rest, rng):
                item = p.items[i]
                worked = item in p.future or item in p.hidden
                if item in p.future:
                    adopted += 1
                    run.people_adopting.add(p.user)
                    run.done[p.user].add(item)
                elif item in p.hidden:
                    run.seen += 1
                    run.done[p.user].add(item)
                else:
                    run.ignored[p.user][item] = run.ignored[p.user].get(item, 0) + 1
                run.last_shown[p.user][item] = rnd
                shown += 1
                for s in p.sources[i]:
                    st = run.src[p.user].setdefault(s, [0, 0])
                    st[0] += 1
                    st[1] += int(worked)
                    glob_src[s][0] += 1
                    glob_src[s][1] += int(worked)
                j = int(p.assign[i])
                if j >= 0:
                    st = run.per[p.user].setdefault(j, [0, 0])
                    st[0] += 1
                    st[1] += int(worked)
                glob_all[0] += 1
                glob_all[1] += int(worked)
                st = run.strat[p.user].setdefault(strat, [0, 0])
                st[0] += 1
                st[1] += int(worked)
                glob_strat[strat][0] += 1
                glob_strat[strat][1] += int(worked)
        # everyone's statistics, the prior, refresh once per round (the live engine: every ten minutes)
        run.everyone = {s: ArmStats(*v) for s, v in glob_src.items()}
        run.overall = ArmStats(*glob_all)
        run.strat_everyone = {s_: ArmStats(*v) for s_, v in glob_strat.items()}
        run.shown += shown
        run.adopted += adopted
        run.per_round.append(round(adopted / shown, 4) if shown else 0.0)
    return run


def simulate(ds: Dataset, *, rounds: int = 12, k: int = 5, users: int = 300, cut: float = 0.8, split: str = "global",
             rest: int = 2, hide_past: float = 0.1, seed: int = 0, arms: tuple[str, ...] = ARMS) -> dict[str, Any]:
    if rounds < 1 or k < 1:
        raise ValueError("rounds and k must be positive")
    t0 = time.perf_counter()
    people, info = prepare(ds, users=users, cut=cut, split=split, hide_past=hide_past, seed=seed)
    out: dict[str, Any] = {"dataset": ds.name, "people": len(people), "rounds": rounds, "k": k, "rest_rounds": rest,
                           "cut": cut, "split": split, "hide_past": hide_past, "arms": {}}
    for name in arms:
        r = run_arm(people, name, rounds=rounds, k=k, rest=rest, seed=seed)
        out["arms"][name] = {
            "adoption": round(r.adopted / r.shown, 4) if r.shown else 0.0, "shown": r.shown, "adopted": r.adopted,
            "seen": r.seen, "people_adopting": len(r.people_adopting), "per_round": r.per_round}
    a, s = out["arms"].get("adaptive"), out["arms"].get("static")
    if a and s:
        out["adoption_adaptive"], out["adoption_static"] = a["adoption"], s["adoption"]
        out["ratio"] = round(a["adoption"] / s["adoption"], 3) if s["adoption"] else None
    out["details"] = {**info, "total_s": round(time.perf_counter() - t0, 2)}
    return out
