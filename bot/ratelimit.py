"""Per-person rate limits on expensive commands (sync, personas, recommend, group watch), shared by front ends."""

from __future__ import annotations

import time
from collections.abc import Callable

from engine.errors import MultitudesError


class RateLimited(MultitudesError):
    def __init__(self, wait: float) -> None:
        super().__init__(f"rate limited for {wait:.0f}s",
                         user_message=f"Easy there — try that again in {max(1, round(wait))} s.")


class PersonLimiter:
    """A token bucket per (person, command): ``burst`` at once, then one every ``per`` seconds."""

    def __init__(self, burst: int = 4, per: float = 15.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = burst
        self.per = per
        self.clock = clock
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}

    def check(self, person: str, command: str) -> None:
        now = self.clock()
        level, last = self._buckets.get((person, command), (float(self.burst), now))
        level = min(float(self.burst), level + (now - last) / self.per)
        if level < 1:
            self._buckets[(person, command)] = (level, now)
            raise RateLimited((1 - level) * self.per)
        self._buckets[(person, command)] = (level - 1, now)
