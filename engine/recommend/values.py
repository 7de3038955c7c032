"""What one request is about, as the stages pass it along: the person, their personas, the feedback loop's say,
a pick."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from engine.recommend.crowd_model import Crowd
from engine.recommend.population import history_weights

F = NDArray[np.float64]

Ints = NDArray[np.int64]

RowSource = Callable[[Sequence[int]], sparse.csr_matrix]

REPRESENTATIVES = 30               # a persona's most central shows stand for it when a pick is placed



@dataclass
class PersonaVec:
    id: int
    name: str
    weight: float
    centroid: F                          # unit row in the feature layout
    members: list[int]                   # the most central shows first (representatives)
    trend: str = "steady"
    hours: tuple[float, ...] = ()
    weekdays: tuple[float, ...] = ()
    genres: tuple[str, ...] = ()



@dataclass
class PersonView:
    """What the pipeline knows of the person a list is for."""
    personas: list[PersonaVec]
    seen: set[int]                        # never to be proposed (watched, rated, hidden, dismissed, recently shown)
    watched: dict[int, float]             # show -> when they last watched it (seconds): co-watching input
    last_active: float | None = None      # when they last watched (seconds)
    local_time: datetime | None = None    # now, in their time zone (time-of-day context); None: no context
    nope: list[int] = field(default_factory=list)       # shows they said "not for me" to
    genres: dict[str, float] = field(default_factory=dict)   # their genre distribution (calibration target)
    crowd: Crowd | None = None            # Trakt members whose ratings overlap theirs (public graph)
    id: int | None = None                 # the person's id (left out of their own neighbours)
    services: tuple[str, ...] = ()        # the streaming services they have: a show on one ranks higher
    region: str | None = None             # the country those services are for
    lang: str | None = None               # the language their list is for (their setting, else their app's)
    _recency: dict[float, dict[int, float]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def recency(self, decay: float) -> dict[int, float]:
        """``watched`` weighted by how recently each show was watched (``history_weights``), once per decay: the
        sources, the scorers and the continuations of one request share it."""
        got = self._recency.get(decay)
        if got is None:
            got = self._recency[decay] = history_weights(self.watched, decay_items=decay)
        return got



@dataclass
class Adaptation:
    """What the feedback loop adds to one request (``engine.recommend.adapt``)."""
    sources: dict[str, float] = field(default_factory=dict)     # one Thompson draw per candidate source
    personas: dict[int, float] = field(default_factory=dict)    # one per persona id
    ignored: dict[int, int] = field(default_factory=dict)       # show -> times shown and ignored
    strategies: dict[str, tuple[float, float]] = field(default_factory=dict)
    draw_strategy: Callable[[], str] | None = None              # one Thompson draw per list slot



@dataclass(frozen=True, slots=True)
class Pick:
    index: int                 # into the pool
    persona: int               # persona index (-1: none)
    score: float
    strategy: str
