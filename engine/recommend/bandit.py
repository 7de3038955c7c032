"""The bandit: what the feedback loop adds to a request, drawn reproducibly per person and day."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from engine.plumbing.clock import Clock
from engine.recommend import adapt
from engine.recommend.adapt import ArmStats
from engine.recommend.pipeline import Adaptation
from engine.recommend.readers import FeedbackReader
from engine.values.models import Persona
from engine.values.stats import ArmState

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


EVIDENCE_MIN = 3            # picks an arm needs behind it before the bandit's draws for it count


class Bandit:
    """The feedback loop's say in a request: Thompson sampling over candidate sources, the person's personas and the
    ranking strategy of each list slot, with everyone's rates as the prior (``engine.recommend.adapt``)."""

    def __init__(self, clock: Clock, feedback: FeedbackReader, *, seed: int = 0, recent_days: int = 14) -> None:
        self.clock = clock
        self.feedback = feedback
        self.seed = seed
        self.recent_days = recent_days
        self._global_arms: tuple[datetime, dict[str, dict[str, ArmStats]]] | None = None

    async def arm_states(self, person_id: int, personas: Sequence[Persona] = (), *,
                         fresh: bool = False) -> list[ArmState]:
        """The bandit's posteriors for this person: one per candidate source, persona and ranking strategy. For
        requests, everyone's statistics (the prior) are recounted at most every ten minutes; ``fresh`` recounts."""
        now = self.clock.now()
        if fresh or self._global_arms is None or now - self._global_arms[0] > timedelta(minutes=10):
            self._global_arms = (now, await self.feedback.arm_stats(None))
        everyone = self._global_arms[1]
        overall = everyone["all"].get("all", ArmStats(0, 0))
        mine = await self.feedback.arm_stats(person_id)
        # a persona with no evidence yet starts from everyone's overall rate, worth PRIOR_WEIGHT picks
        priors = {"source": everyone["source"], "persona": {str(p.id): overall for p in personas},
                  "strategy": {k: v for k, v in everyone["strategy"].items() if k in adapt.STRATEGIES}}
        keep = {"source": None, "persona": set(priors["persona"]), "strategy": set(adapt.STRATEGIES)}
        out = []
        for kind, prior in priors.items():
            allowed = keep[kind]
            out += [ArmState(kind, arm, a, b, *_own(mine[kind], arm))
                    for arm, (a, b) in adapt.posteriors(mine[kind], prior).items() if allowed is None or arm in allowed]
        return out

    def rng(self, person_id: int) -> np.random.Generator:
        """The exploration draws of one person's requests today: seeded by the person and the day, so the same
        state gives the same list (a bug report, a test and ``multitudes eval`` can reproduce what a person saw);
        exploration happens across days."""
        return np.random.default_rng([self.seed, person_id, self.clock.now().date().toordinal()])

    async def adaptation(self, person_id: int, personas: Sequence[Persona], k: int) -> Adaptation:
        """The feedback loop's say in this request: Thompson draws (made here, on the loop, so the worker gets
        plain numbers), the strategy for each slot, and how often each show was shown and ignored."""
        rng = self.rng(person_id)
        states = await self.arm_states(person_id, personas)
        # an arm nobody has any evidence on draws nothing: with no data a draw is pure noise, and persona weights
        # jittering at random from one request to the next reads as a broken list
        sources = adapt.draw({s.arm: (s.alpha, s.beta) for s in states if s.kind == "source"
                              and s.alpha + s.beta > 2 + EVIDENCE_MIN}, rng)
        by_persona = adapt.draw({s.arm: (s.alpha, s.beta) for s in states if s.kind == "persona"
                                 and s.shown >= EVIDENCE_MIN}, rng)
        # slot strategies likewise: until some strategy has evidence behind it, every slot is the balanced blend
        post = {s.arm: (s.alpha, s.beta) for s in states if s.kind == "strategy"}
        known = any(s.alpha + s.beta > 2 + EVIDENCE_MIN for s in states if s.kind == "strategy")
        slots = iter([adapt.pick_strategy(post, rng) if known else "blend" for _ in range(k)] + ["blend"] * 40)
        before = self.clock.now() - timedelta(days=self.recent_days)
        # persona draws are keyed by persona id; the pipeline's persona vectors carry the same ids
        return Adaptation(sources, {int(a): v for a, v in by_persona.items()},
                          await self.feedback.ignored(person_id, before), post, lambda: next(slots))


def _own(stats: Mapping[str, ArmStats], arm: str) -> tuple[int, int]:
    st = stats.get(arm)
    return (round(st.shown), round(st.adopted)) if st else (0, 0)
