"""Continuations (sequels, new seasons filed as shows, spin-offs sharing a name) are computed with an early stop
for a long history; the answer must be exactly what the plain definition gives (a brute-force reference here)."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.recommend.franchise import Franchises
from engine.recommend.population import history_weights
from engine.values.catalogue import load_catalogue

TITLES = [e["title"] for e in load_catalogue()] + [f"{e['title']}: Part {n}" for n in (2, 3)
                                                   for e in load_catalogue()[:200]]
YEARS: list[int | None] = [e["year"] for e in load_catalogue()] + [2000 + n for n in range(400)]
FR = Franchises(TITLES)


def reference(fr: Franchises, weights: Mapping[int, float], years: Sequence[int | None], limit: int
              ) -> dict[int, float]:
    out: dict[int, float] = {}
    for i, w in weights.items():
        if w <= 0 or i >= len(fr.of):
            continue
        for k in fr.of[i]:
            group = fr.members.get(k, ())
            if len(group) < 2:
                continue
            share = 1.0 / max(1.0, (len(group) / 4.0) ** 0.5)
            for j in group:
                if j == i or j in weights:
                    continue
                yi, yj = years[i], years[j]
                v = w * share * (0.5 if yi is not None and yj is not None and yj < yi else 1.0)
                if v > out.get(j, 0.0):
                    out[j] = v
    keep = sorted(out, key=lambda j: (-out[j], j))[:limit]
    return {j: out[j] for j in keep}


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.sampled_from([1, 5, 40, 300, 1500]),
       decay=st.sampled_from([1.0, 5.0, 10.0, 80.0]), limit=st.sampled_from([1, 10, 60]))
def test_continuations_are_exactly_the_plain_definition(seed: int, n: int, decay: float, limit: int) -> None:
    rng = random.Random(seed)
    watched = rng.sample(range(len(TITLES)), n)
    weights = history_weights({i: float(k) + rng.random() for k, i in enumerate(watched)}, decay_items=decay)
    assert FR.continuations(weights, YEARS, limit) == reference(FR, weights, YEARS, limit)
