"""What the recommender reads from the use cases around it, as ports: the feedback loop's evidence (the bandit's
arms, the picks people walked past) and the person's crowd. ``engine.usecases.feedback`` and
``engine.usecases.crowd_refresh`` implement them; the recommender never imports a use case."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from engine.recommend.adapt import ArmStats
from engine.recommend.crowd_model import Crowd
from engine.values.models import PersonaReport


class FeedbackReader(Protocol):
    async def arm_stats(self, person_id: int | None) -> dict[str, dict[str, ArmStats]]:
        """The bandit's evidence per kind and arm, a person's or everyone's (None)."""
        ...

    async def ignored(self, person_id: int, before: datetime) -> dict[int, int]:
        """How often each show was shown to the person before ``before`` and walked past."""
        ...


class CrowdReader(Protocol):
    async def crowd(self, person_id: int, report: PersonaReport) -> Crowd | None: ...

    async def lately(self, person_id: int, report: PersonaReport, excluded: set[int], n: int = 3
                     ) -> dict[int, list[str]]:
        """What the person's crowd started lately, by show, with the personas each suits."""
        ...
