"""A person's viewing in numbers and what the feedback loop knows: /stats as values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ShowStat:
    title: str
    year: int | None
    plays: int
    episodes: int
    aired_episodes: int | None
    last_watched_at: datetime

    @property
    def completion(self) -> float | None:
        if not self.aired_episodes:
            return None
        return min(1.0, self.episodes / self.aired_episodes)


@dataclass(frozen=True, slots=True)
class Rate:
    key: str
    shown: int
    started: int
    finished: int
    liked: int
    dismissed: int
    low: float                  # Wilson 95% interval of the started share
    high: float

    @property
    def started_share(self) -> float:
        return self.started / self.shown if self.shown else 0.0


@dataclass(frozen=True, slots=True)
class Learning:
    """What the feedback loop knows (``person_id`` None: everyone's rates, for the bot owner)."""
    person_id: int | None
    rates: dict[str, list[Rate]]          # by strategy | mode | persona | source
    arms: tuple[ArmState, ...]            # the bandit's posteriors for this person


@dataclass(frozen=True, slots=True)
class Stats:
    plays: int
    shows: int
    episodes: int
    first_play: datetime | None
    last_play: datetime | None
    hours_watched: float
    ratings: int
    watchlist: int
    hidden: int
    top_shows: tuple[ShowStat, ...] = ()
    top_genres: tuple[tuple[str, int], ...] = ()
    plays_per_year: tuple[tuple[int, int], ...] = ()
    last_sync: datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ArmState:
    """One arm as shown in /stats: its posterior and the draw behind the latest list."""
    kind: str                 # source | persona | strategy
    arm: str
    alpha: float
    beta: float
    shown: int = 0            # the person's own evidence behind the posterior
    adopted: int = 0

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

