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
* ``adaptive`` — the engine with the mechanisms of :mod:`engine.recommend.adapt`: Thompson sampling over
  candidate sources, personas and ranking strategies (one drawn per list slot) with a global prior (everyone's
  statistics, refreshed once per round), and decay of ignored picks,
* ``decay_only`` and ``bandit_only`` (sources, personas, strategies; no decay) — ablations, to see which part
  earns what.

Every list comes out of the live pipeline (``engine.recommend.pipeline``): the dataset is the catalogue and the
co-watching population (:mod:`engine.evaluation.pipeline_strategy`), each person's pool is proposed and scored once
(``score``), and every round the feedback loop's state is applied (``adapted``: Thompson draws per candidate
source and persona, the decay of ignored picks) before the mode's selector (``select``, with a strategy drawn
per slot) makes the list — the same functions a ``/recommend`` goes through. Weights: the profile shipped for the
dataset (``weights.json``), else the live one.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.evaluation.datasets import Dataset, Interaction
from engine.evaluation.pipeline_strategy import PersonaCache, build_world, scored_for
from engine.evaluation.strategies import TrainData
from engine.recommend import adapt
from engine.recommend.adapt import ArmStats
from engine.recommend.pipeline import Adaptation, PersonView, Scored, adapted, select
from engine.recommend.weights import Profile, shipped
from engine.values.models import Mode

ARMS = ("static", "adaptive", "decay_only", "bandit_only")


@dataclass
class Person:
    user: str
    view: PersonView
    scored: Scored                      # the pool, scored once; adaptation is applied per round
    future: set[int]                    # item positions watched after the cut
    hidden: set[int]                    # item positions of the past the engine was not told about


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
    ignored: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))
    last_shown: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))
    done: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))          # adopted or 👀
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


def profile_for(ds: Dataset) -> Profile:
    profiles = shipped().profiles
    return profiles.get(ds.name, shipped().profile())


def prepare(ds: Dataset, *, users: int = 300, cut: float = 0.8, split: str = "global", hide_past: float = 0.1,
            min_train: int = 10, seed: int = 0, ordinal: bool | None = None,
            profile: Profile | None = None) -> tuple[list[Person], dict[str, Any]]:
    """Split, hide part of each person's past, build the deployment once, and score each person's pool."""
    if ordinal is None:
        ordinal = max((it.ts for it in ds.interactions), default=0) < 1e7
    profile = profile or profile_for(ds)
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
    t0 = time.perf_counter()
    world = build_world(data, ordinal=ordinal, seed=seed)
    cache = PersonaCache(world, seed)
    fit_s = time.perf_counter() - t0
    people = []
    for u in chosen:
        if u not in data.uix:
            continue
        view = cache.view(u)
        scored = scored_for(world, view, profile, set())
        if not len(scored.pool):
            continue
        people.append(Person(u, view, scored, {data.iix[i] for i in future[u] if i in data.iix},
                             {data.iix[i] for i in hidden[u] if i in data.iix}))
    info = {"fit_s": round(fit_s, 2), "train_rows": len(engine_rows), "eligible_people": len(eligible),
            "ordinal": ordinal, "profile": profile.model_dump(exclude={"provenance"})}
    return people, info


def _adaptation(p: Person, run: ArmRun, rng: np.random.Generator) -> Adaptation | None:
    """The feedback loop's state for this person now, as the live engine builds it from stored events."""
    if not (run.bandit or run.decay):
        return None
    out = Adaptation()
    if run.bandit:
        mine = {a: ArmStats(*v) for a, v in run.src[p.user].items()}
        out.sources = adapt.draw(adapt.posteriors(mine, run.everyone), rng)
        if len(p.view.personas) > 1:
            own = {str(j): ArmStats(*v) for j, v in run.per[p.user].items()}
            prior = {str(q.id): run.overall for q in p.view.personas}
            out.personas = {int(k): v for k, v in adapt.draw(adapt.posteriors(own, prior), rng).items()}
        post = adapt.posteriors({a: ArmStats(*v) for a, v in run.strat[p.user].items()}, run.strat_everyone)
        out.draw_strategy = lambda: adapt.pick_strategy(post, rng)
    if run.decay:
        out.ignored = dict(run.ignored[p.user])
    return out


def _pick(p: Person, run: ArmRun, rnd: int, k: int, rest: int, profile: Profile,
          rng: np.random.Generator) -> list[tuple[int, str, int]]:
    """(pool index, strategy, persona id) of this round's list."""
    shown_at = run.last_shown[p.user]
    done = run.done[p.user]
    ids = p.scored.pool.ids
    ok = np.array([sid not in done and rnd - shown_at.get(sid, -10**6) > rest for sid in ids])
    ad = _adaptation(p, run, rng)
    sc = adapted(p.scored, p.view, ad) if ad is not None else p.scored
    picks = select(sc, Mode.AUTO, k, profile, adaptation=ad, genres=p.view.genres, allowed=ok)
    return [(x.index, x.strategy, p.view.personas[x.persona].id if x.persona >= 0 else -1) for x in picks]


def run_arm(people: list[Person], name: str, *, rounds: int, k: int, rest: int, seed: int,
            profile: Profile) -> ArmRun:
    run = ArmRun(name, decay=name in ("adaptive", "decay_only"), bandit=name in ("adaptive", "bandit_only"))
    glob_strat: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    rng = np.random.default_rng(seed)
    glob_src: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    glob_all = [0, 0]
    for rnd in range(rounds):
        shown = adopted = 0
        for p in people:
            for i, strat, j in _pick(p, run, rnd, k, rest, profile, rng):
                item = p.scored.pool.ids[i]
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
                for s in p.scored.pool.sources[i]:
                    st = run.src[p.user].setdefault(s, [0, 0])
                    st[0] += 1
                    st[1] += int(worked)
                    glob_src[s][0] += 1
                    glob_src[s][1] += int(worked)
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
    profile = profile_for(ds)
    people, info = prepare(ds, users=users, cut=cut, split=split, hide_past=hide_past, seed=seed, profile=profile)
    out: dict[str, Any] = {"dataset": ds.name, "people": len(people), "rounds": rounds, "k": k, "rest_rounds": rest,
                           "cut": cut, "split": split, "hide_past": hide_past, "arms": {}}
    for name in arms:
        r = run_arm(people, name, rounds=rounds, k=k, rest=rest, seed=seed, profile=profile)
        out["arms"][name] = {
            "adoption": round(r.adopted / r.shown, 4) if r.shown else 0.0, "shown": r.shown, "adopted": r.adopted,
            "seen": r.seen, "people_adopting": len(r.people_adopting), "per_round": r.per_round}
    a, s = out["arms"].get("adaptive"), out["arms"].get("static")
    if a and s:
        out["adoption_adaptive"], out["adoption_static"] = a["adoption"], s["adoption"]
        out["ratio"] = round(a["adoption"] / s["adoption"], 3) if s["adoption"] else None
    out["details"] = {**info, "total_s": round(time.perf_counter() - t0, 2)}
    return out
