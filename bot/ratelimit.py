"""Per-person rate limits on expensive commands (sync, personas, recommend, group watch), shared by front ends."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

from engine.values.errors import MultitudesError

from .i18n import _


class RateLimited(MultitudesError):
    def __init__(self, wait: float) -> None:
        super().__init__(f"rate limited for {wait:.0f}s",
                         user_message=_("Easy there — try that again in {n} s.").format(n=max(1, round(wait))))


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


class Busy(MultitudesError):
    def __init__(self, wait: float) -> None:
        super().__init__(f"shed: busy for ~{wait:.0f}s",
                         user_message=_("I'm busy right now — try again in {n} s.").format(n=max(1, round(wait))))


class Admission:
    """A global gate for expensive work: at most ``running`` at once and ``waiting`` in line; whoever would wait
    beyond that is told to come back (shed) instead of waiting in an unbounded queue. How long to wait is the
    line's length times the recent mean duration, over the slots.

    ``backlog`` (seconds the front end's outgoing messages already wait to be sent — Telegram lets a bot send about
    30 a second) turns work away too: beyond ``max_backlog`` an answer of several messages would arrive long after it
    was asked for, while "busy" is one short message."""

    def __init__(self, running: int = 8, waiting: int = 32, clock: Callable[[], float] = time.monotonic, *,
                 backlog: Callable[[], float] | None = None, max_backlog: float = 45.0) -> None:
        self.running = running
        self.waiting = waiting
        self.clock = clock
        self.backlog = backlog
        self.max_backlog = max_backlog
        self._slots = asyncio.Semaphore(running)
        self._queued = 0
        self._mean = 1.0                                  # seconds per admitted job (moving average)
        self.shed = 0                                     # jobs refused so far
        self.admitted = 0

    def _estimate(self) -> float:
        return max(1.0, self._mean * (self._queued + 1) / self.running)

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._slots.locked() and self._queued >= self.waiting:
            self.shed += 1
            raise Busy(self._estimate())
        late = self.backlog() if self.backlog is not None else 0.0
        if late > self.max_backlog:
            self.shed += 1
            raise Busy(late)
        self._queued += 1
        try:
            await self._slots.acquire()
        finally:
            self._queued -= 1
        self.admitted += 1
        t0 = self.clock()
        try:
            yield
        finally:
            self._slots.release()
            self._mean = 0.9 * self._mean + 0.1 * (self.clock() - t0)


class NoLimits(PersonLimiter):
    """The console's one local user shares the bot with nobody: no per-person limit."""

    def check(self, person: str, command: str) -> None:
        return None
