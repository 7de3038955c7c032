"""Taste neighbours per persona from public members' ratings (issue 14 groundwork: pure functions, not yet wired
into the pipeline's candidate sources).

A member agrees with a persona when they rate its shows above their own average: similarity = Σ w_s · (r_us − r̄_u)
over shared shows s, normalised by the persona's weight norm and shrunk for small overlaps (n / (n + shrink)), so a
stranger who rated one shared show does not count like one who rated ten. Candidate scores are the neighbours'
centred ratings weighted by similarity (Resnick's formula with shrinkage)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from ..sources.public_graph import Member


def _centred(m: Member) -> dict[int, float]:
    mean = sum(m.ratings.values()) / len(m.ratings) if m.ratings else 0.0
    return {s: r - mean for s, r in m.ratings.items()}


def taste_neighbours(persona: Mapping[int, float], members: Sequence[Member], *, shrink: float = 3.0,
                     top: int = 20) -> list[tuple[Member, float]]:
    """The members most like this persona (``persona``: Trakt show id → engagement weight), best first, with
    their similarity; only positive agreement counts."""
    norm = math.sqrt(sum(w * w for w in persona.values())) or 1.0
    out: list[tuple[Member, float]] = []
    for m in members:
        c = _centred(m)
        shared = [s for s in persona if s in c]
        if not shared:
            continue
        sim = sum(persona[s] * c[s] for s in shared) / (norm * 4.5)       # 4.5: half the rating scale
        sim *= len(shared) / (len(shared) + shrink)
        if sim > 0:
            out.append((m, sim))
    out.sort(key=lambda x: (-x[1], x[0].username))
    return out[:top]


def neighbour_scores(neighbours: Sequence[tuple[Member, float]], exclude: set[int]) -> dict[int, float]:
    """Trakt show id → how much the neighbours like it beyond their habit (their centred ratings weighted by
    similarity, damped by how few rated it)."""
    num: dict[int, float] = {}
    den: dict[int, float] = {}
    for m, sim in neighbours:
        for s, r in _centred(m).items():
            if s in exclude:
                continue
            num[s] = num.get(s, 0.0) + sim * r
            den[s] = den.get(s, 0.0) + sim
    return {s: num[s] / (den[s] + 1.0) for s in num if num[s] > 0}
