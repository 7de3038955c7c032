"""Stage 4, one selector per mode: across the personas (quotas, coverage, genre calibration), one persona, a
bridge, like:, one per persona."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from engine.recommend.franchise import keys as franchise_keys
from engine.recommend.scoring import Scored, zscore
from engine.recommend.values import Adaptation, F, Ints, Pick
from engine.recommend.weights import Profile
from engine.taste.features import genres_of
from engine.values.meta import ShowMeta
from engine.values.models import Mode

FRANCHISE_SHARE = 0.3             # hand-set, by eye: a sci-fi fan's top ten was six Star Treks; three in ten of one
                                  # franchise (by title, engine.recommend.franchise) is the most a mixed list shows,
                                  # two in a list of five (the demo's first five were three Star Treks and two
                                  # Marvel shows for a viewer with five sides)
MAJOR = 0.1                       # a persona with this share of the weight is served in every mixed list ...

COVER_DEPTH = 2                   # ... by one of its candidates among the list's best COVER_DEPTH x k: a persona
                                  # with nothing that good is not forced into the list


def franchise_cap(k: int) -> int:
    """How many shows of one franchise a mixed list of ``k`` shows at most."""
    return max(2, round(FRANCHISE_SHARE * k))



def quotas(weights: F, k: int, min_share: float = 0.1) -> Ints:
    """Slots per persona, in proportion to their weights (largest remainder); every persona with at least
    ``min_share`` of the weight gets one when there is room."""
    P = len(weights)
    if P == 0:
        return np.zeros(0, dtype=np.int64)
    raw = weights * k
    q = np.floor(raw).astype(np.int64)
    for j in np.argsort(-(raw - q), kind="stable")[: k - int(q.sum())]:
        q[j] += 1
    need = [j for j in np.argsort(-weights, kind="stable") if weights[j] >= min_share and q[j] == 0]
    for j in need:
        donors = [d for d in np.argsort(weights, kind="stable") if q[d] > 1]
        if not donors:
            break
        q[donors[0]] -= 1
        q[j] += 1
    return q



def select(scored: Scored, mode: Mode, k: int, profile: Profile, *, persona: int | None = None,
           bridge: tuple[int, int] | None = None, adaptation: Adaptation | None = None,
           genres: Mapping[str, float] | None = None, allowed: NDArray[np.bool_] | None = None) -> list[Pick]:
    """The list for a mode: indexes into the pool, the persona each serves, its score, the strategy that chose
    it. ``allowed`` (per candidate) leaves some out without scoring the pool again."""
    n = len(scored.pool)
    if n == 0:
        return []
    if allowed is not None:
        scored = replace(scored, penalty=np.where(allowed, scored.penalty, np.inf))
    rel = scored.relevance(profile)
    P = scored.affinity.shape[1]
    if mode == Mode.ALL and P:
        return _one_per_persona(scored, rel, profile, per=per_persona(k, P))
    if mode == Mode.PERSONA and persona is not None:
        aff = zscore(scored.affinity[:, persona])
        r = rel + profile.weight("persona") * (2.0 * aff - scored.Z[:, 0])
        mine = scored.assign == persona
        order = [int(i) for i in np.argsort(-(r + 10.0 * mine), kind="stable") if np.isfinite(r[i])][:k]
        return [Pick(i, persona, float(r[i]), "blend") for i in order]
    if mode == Mode.BRIDGE and bridge is not None:
        a, b = bridge
        # cosine to the nearer of the two personas: a show both sides would watch beats a great show of one
        both = np.minimum(scored.affinity[:, a], scored.affinity[:, b])
        r = 5.0 * both + 0.3 * zscore(rel, clip=np.inf) - np.where(np.isfinite(rel), 0.0, np.inf)
        order = [int(i) for i in np.argsort(-r, kind="stable") if np.isfinite(r[i])][:k]
        return [Pick(i, a if scored.affinity[i, a] >= scored.affinity[i, b] else b, float(r[i]), "blend")
                for i in order]
    if mode == Mode.LIKE:
        order = [int(i) for i in np.argsort(-rel, kind="stable") if np.isfinite(rel[i])][:k]
        return [Pick(i, int(scored.assign[i]), float(rel[i]), "blend") for i in order]
    return _across(scored, rel, k, profile, mode, adaptation, target_for(scored, genres or {}))



def per_persona(k: int, personas: int) -> int:
    """Mode ``all``: one pick per persona, or ``k // personas`` each when more are asked (``all k:20``)."""
    return max(1, k // max(1, personas))



def _one_per_persona(scored: Scored, rel: F, profile: Profile, per: int = 1) -> list[Pick]:
    """``per`` picks for each persona, in rounds (every persona's best first, then every persona's second…)."""
    used: set[int] = set()
    ranked: list[list[Pick]] = []
    for j in range(scored.affinity.shape[1]):
        r = rel + profile.weight("persona") * zscore(scored.affinity[:, j])
        mine: list[Pick] = []
        for i in np.argsort(-r, kind="stable"):
            if int(i) not in used and scored.assign[i] == j and np.isfinite(r[i]):
                used.add(int(i))
                mine.append(Pick(int(i), j, float(r[i]), "blend"))
                if len(mine) >= per:
                    break
        ranked.append(mine)
    return [picks[n] for n in range(per) for picks in ranked if n < len(picks)]



def _across(scored: Scored, rel: F, k: int, profile: Profile, mode: Mode, adaptation: Adaptation | None,
            genre_target: F | None) -> list[Pick]:
    """Greedy: each slot takes the best candidate of the strategy drawn for it, minus a quota penalty (persona
    slots follow the persona weights) and, with ``profile.calibration``, the genre calibration term (Steck)."""
    n = len(scored.pool)
    P = scored.affinity.shape[1]
    mixing = adaptation is not None and adaptation.draw_strategy is not None and mode in (Mode.AUTO, Mode.MOOD)
    ranks = {name: scored.relevance(profile, name) for name in ("blend", "taste", "crowd")} if mixing else {
        "blend": rel}
    q = quotas(scored.weights, k) if P else np.zeros(0, dtype=np.int64)
    count = np.zeros(max(P, 1), dtype=np.int64)
    assign = scored.assign
    chosen: list[Pick] = []
    taken = np.zeros(n, dtype=bool)
    G = scored.genres
    target = genre_target
    lam = profile.calibration if (G is not None and target is not None) else 0.0
    acc = np.zeros(G.shape[1]) if G is not None else None
    pool_n = min(n, max(300, 20 * k))
    # calibration re-orders the best ``calibration_reach`` x k open candidates, never reaches further down: over
    # the whole pool it filled the first slot with whichever show has the most genres (Gargoyles, eleven of them,
    # led the sample's list) — the one closest to a broad genre mix by itself
    reach = max(1, round(profile.calibration_reach * k)) if profile.calibration_reach else 0
    # every persona holding at least MAJOR of the weight gets a slot: once the open slots only just cover the
    # personas still without a pick, each slot goes to one of them
    major = [j for j in np.argsort(-scored.shares, kind="stable") if scored.shares[j] >= MAJOR
             and (assign == j).any()] if P and mode == Mode.AUTO else []
    # ... when it has a candidate good enough for the list's top 2k — as far as the population can say what "good
    # enough" is (the bar sinks as its confidence does): with nobody else's history (a fresh deployment, the demo)
    # the person's own sides are all the evidence there is, and each major side is served
    depth = int(COVER_DEPTH * k / scored.trust) if scored.trust > COVER_DEPTH * k / max(n, 1) else n
    if major and n > depth:
        fin = np.where(np.isfinite(rel), rel, -np.inf)
        bar = -np.partition(-fin, depth)[depth]
        major = [j for j in major if (fin[assign == j] >= bar).any()]
    # what a side's own slot adds: closeness to that side (as ``_one_per_persona`` ranks a side's picks)
    own = (scored.persona_weight(profile) * zscore(scored.affinity[np.arange(n), np.maximum(assign, 0)])
           * (assign >= 0)) if major else np.zeros(n)
    franchise: dict[str, int] = {}
    capped: set[str] = set()                   # franchises the list already shows ``franchise_cap`` of
    cap = franchise_cap(k)
    for slot in range(min(k, n)):
        name = adaptation.draw_strategy() if mixing and adaptation is not None and adaptation.draw_strategy else "blend"
        r = ranks.get(name, rel)
        missing = [j for j in major if count[j] == 0]
        forced = bool(missing) and len(missing) >= min(k, n) - slot
        if forced:                                   # a side's own slot: its best, closeness to it counting too
            r = r + own
        open_r = np.where(taken, -np.inf, r)
        if forced:
            open_r = np.where(np.isin(assign, missing), open_r, -np.inf)
        cand = np.argpartition(-open_r, min(pool_n, n - 1))[:pool_n]
        cand = cand[np.isfinite(open_r[cand])]
        if capped:
            cand = cand[[not capped.intersection(franchise_keys(scored.pool.metas[c].display_title))
                         for c in cand]] if len(cand) else cand
        if not len(cand):
            break
        if reach and lam and len(cand) > reach:
            cand = cand[np.argpartition(-open_r[cand], reach)[:reach]]
        val = r[cand].copy()
        if P and mode == Mode.AUTO:          # a mood or a filter narrows the list: no persona owns slots there
            a = assign[cand]
            over = (a >= 0) & (count[np.maximum(a, 0)] >= q[np.maximum(a, 0)])
            val -= profile.quota * 3.0 * over + profile.diversity * count[np.maximum(a, 0)] * (a >= 0)
        if lam and target is not None and G is not None and acc is not None:
            rn = (val - val.min()) / (np.ptp(val) or 1.0)
            qd = (acc[None, :] + G[cand]) / (slot + 1)
            qt = 0.99 * qd + 0.01 * target[None, :]
            m = target > 0
            kl = (target[m][None, :] * np.log(target[m][None, :] / np.maximum(qt[:, m], 1e-12))).sum(axis=1)
            val = (1 - lam) * rn - lam * kl
        best = int(cand[int(np.argmax(val))])
        taken[best] = True
        for key in franchise_keys(scored.pool.metas[best].display_title):
            franchise[key] = franchise.get(key, 0) + 1
            if franchise[key] >= cap:
                capped.add(key)
        if P and assign[best] >= 0:
            count[assign[best]] += 1
        if acc is not None and G is not None:
            acc += G[best]
        chosen.append(Pick(best, int(assign[best]), float(r[best]), name))
    return chosen



def genre_distribution(metas: Sequence[ShowMeta], weights: Sequence[float] | None = None) -> dict[str, float]:
    """The share of each genre in a set of shows (a show's weight split over its genres)."""
    ws = list(weights) if weights is not None else [1.0] * len(metas)
    out: dict[str, float] = {}
    for m, w in zip(metas, ws, strict=True):
        gs = genres_of(m)
        for g in gs:
            out[g] = out.get(g, 0.0) + w / len(gs)
    total = sum(out.values())
    return {g: v / total for g, v in out.items()} if total > 0 else {}



def target_for(scored: Scored, person_genres: Mapping[str, float]) -> F | None:
    """The person's genre distribution over the candidates' genre columns."""
    if scored.genres is None or not person_genres:
        return None
    v = np.array([person_genres.get(g, 0.0) for g in scored.genre_names])
    return v / v.sum() if v.sum() > 0 else None
