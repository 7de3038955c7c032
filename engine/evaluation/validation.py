"""Validation folds cut from training — never the test part — and what the baselines reach on the same people:
what ``multitudes tune`` fits against."""

from __future__ import annotations

import random

from engine.evaluation.datasets import Interaction
from engine.evaluation.strategies import Ease, TrainData, Trending, kl

BASELINE_WINDOWS = (0.02, 0.05, 0.10)


def validation_split(data: TrainData, protocol: str, users: int, seed: int, fold: int = 0
                     ) -> tuple[list[Interaction], dict[str, set[str]]]:
    """Hold out part of the training data the way the protocol does: each sampled person's last items
    (``last-n``; each fold samples other people), or what people started after a cut (``time-cut``; fold ``f``
    cuts at 90%, 80%, ... of the training events)."""
    rng = random.Random(seed + fold)
    if protocol == "last-n":
        cand = [u for u, rows in data.by_user.items() if len({r.item for r in rows}) >= 10]
        chosen = sorted(rng.sample(cand, min(users, len(cand))))
        hold: dict[str, set[str]] = {}
        for u in chosen:
            firsts: dict[str, float] = {}
            for r in data.by_user[u]:
                firsts.setdefault(r.item, r.ts)
            order = sorted(firsts, key=lambda i: (firsts[i], i))
            hold[u] = set(order[-5:])
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


def baselines(data: TrainData, hold: dict[str, set[str]], k: int = 10) -> tuple[float, str, float | None]:
    """The best baseline's mean Recall@k on the held-out people (trending windows, EASE), and EASE's genre KL."""
    from engine.evaluation.runner import genre_matrix
    best, best_name = 0.0, ""
    ease_kl: float | None = None
    G = genre_matrix(data)
    people = [u for u in sorted(hold) if u in data.uix]
    for strat in [Trending(window=w) for w in BASELINE_WINDOWS] + [Ease()]:
        strat.fit(data)
        total = klsum = 0.0
        n_kl = 0
        for u in people:
            recs = strat.recommend(u, k, data.seen(u))
            total += len(set(recs) & hold[u]) / len(hold[u])
            if isinstance(strat, Ease) and G is not None and recs:
                p = G[[data.iix[r.item] for r in data.by_user[u]]].sum(axis=0)
                q = G[[data.iix[r] for r in recs]].sum(axis=0)
                if p.sum() > 0 and q.sum() > 0:
                    klsum += kl(p / p.sum(), q / q.sum())
                    n_kl += 1
        r = total / max(1, len(people))
        name = strat.name if not isinstance(strat, Trending) else f"trending-{round(strat.window * 100)}%"
        if r > best:
            best, best_name = r, name
        if isinstance(strat, Ease) and n_kl:
            ease_kl = klsum / n_kl
    return best, best_name, ease_kl
