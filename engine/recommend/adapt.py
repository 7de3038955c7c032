"""Adaptation from feedback, shared by the live recommender and the offline feedback simulation.

Three mechanisms, each small and each measured in ``bench/feedback_sim.py``:

* **Arms** (candidate sources, and the person's personas): Beta posteriors of "a pick from this arm is adopted",
  started from everyone's rate as a prior worth at most ``PRIOR_WEIGHT`` picks and updated with the person's own
  picks. One Thompson draw per arm per request turns the posteriors into score bonuses, so a person whose comedy
  picks get watched sees more of them, while arms with little evidence keep being explored.
* **Persona weights**: the same draws, per persona, scale the persona weights a list is built from.
* **Strategies**: each slot of an "across your personas" list is filled by one of ``STRATEGIES`` (the balanced
  blend, persona taste first, or what the crowd is watching first), drawn per slot by Thompson sampling on how each
  strategy's picks fared for this person (everyone's as the prior).
* **Decay of ignored picks**: a show shown and ignored (no start, no feedback) loses score with every showing, so a
  list does not keep offering what the person walked past.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

PRIOR_WEIGHT = 20.0       # everyone's rate is worth at most this many of the person's own picks
SOURCE_BONUS = 0.4        # score per unit of log(best source's draw / mean draw), the log clipped to [-1, 1]
PERSONA_TILT = 0.7        # persona weight multiplier (draw / mean draw) ** tilt, the ratio clipped to [1/2, 2]
# How a list slot ranks candidates (the live engine's weights of persona affinity and everything else; the
# simulation's signal mixes); the bandit picks one per slot.
STRATEGIES = ("blend", "taste", "crowd")
IGNORED_DECAY = 0.35      # score lost per ignored showing (saturating)
IGNORED_CAP = 3           # showings after which the decay stops growing


@dataclass(frozen=True, slots=True)
class ArmStats:
    shown: float
    adopted: float


def posteriors(person: Mapping[str, ArmStats], everyone: Mapping[str, ArmStats],
               prior_weight: float = PRIOR_WEIGHT) -> dict[str, tuple[float, float]]:
    """Beta(alpha, beta) per arm: Beta(1, 1) plus everyone's record scaled to at most ``prior_weight`` picks,
    plus the person's own record."""
    out = {}
    for arm in sorted(set(person) | set(everyone)):
        g = everyone.get(arm, ArmStats(0, 0))
        scale = min(1.0, prior_weight / g.shown) if g.shown else 0.0
        p = person.get(arm, ArmStats(0, 0))
        out[arm] = (1.0 + g.adopted * scale + p.adopted,
                    1.0 + (g.shown - g.adopted) * scale + max(0.0, p.shown - p.adopted))
    return out


def draw(post: Mapping[str, tuple[float, float]], rng: np.random.Generator) -> dict[str, float]:
    """One Thompson sample per arm (sorted, so a seeded generator gives the same draws every run)."""
    return {arm: float(rng.beta(a, b)) for arm, (a, b) in sorted(post.items())}


def pick_strategy(post: Mapping[str, tuple[float, float]], rng: np.random.Generator) -> str:
    """Thompson sampling over strategies: the one with the highest draw fills the next slot."""
    draws = draw({s: post.get(s, (1.0, 1.0)) for s in STRATEGIES}, rng)
    return max(STRATEGIES, key=lambda s: draws[s])


def source_bonus(sources: Iterable[str], draws: Mapping[str, float], mean: float) -> float:
    """A candidate is as promising as its most promising source, relative to the average source: adoption rates
    are a few percent, so differences only mean something as ratios (a linear bonus on 0.02 vs 0.06 moved nothing
    in the simulation; the ratio does, see bench/feedback_sim.py)."""
    best = max((draws.get(s, mean) for s in sources), default=mean)
    return SOURCE_BONUS * max(-1.0, min(1.0, math.log(max(best, 1e-9) / max(mean, 1e-9))))


def persona_multipliers(draws: list[float]) -> np.ndarray:
    """Multipliers for persona weights from one draw per persona: relative to the mean draw, bounded, so a
    persona can at most double or halve its say in one list."""
    if not draws:
        return np.ones(0)
    d = np.asarray(draws, dtype=float)
    out: np.ndarray = np.clip(d / max(float(d.mean()), 1e-9), 0.5, 2.0) ** PERSONA_TILT
    return out


def ignored_penalty(times_ignored: int) -> float:
    """Score lost by a show shown ``times_ignored`` times and ignored each time."""
    return IGNORED_DECAY * min(max(times_ignored, 0), IGNORED_CAP)
