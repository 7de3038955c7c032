"""A person's viewing, as plain data the taste code works on (built from the store or from a dataset)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Watch:
    season: int
    episode: int | str | None
    at: datetime
    timed: bool = True          # False: a date without a time of day (a Netflix import); hour features skip it


@dataclass
class ShowHistory:
    show_id: int
    watches: list[Watch] = field(default_factory=list)
    aired_episodes: int | None = None
    rating: int | None = None          # 1-10
    dropped: bool = False
    runtime: float | None = None

    @property
    def distinct_episodes(self) -> int:
        return len({(w.season, w.episode) for w in self.watches})


@dataclass
class PersonHistory:
    shows: dict[int, ShowHistory]
    timezone: str | None = None

    def all_watches(self) -> list[tuple[int, Watch]]:
        return sorted(((sid, w) for sid, s in self.shows.items() for w in s.watches), key=lambda x: x[1].at)
