"""One retry / rate-limit policy for every outbound HTTP call.

- 429: wait ``Retry-After`` (seconds or an HTTP date; with or without Trakt's ``X-Ratelimit``), never longer than
  ``retry_after_max_s``; without the header, back off exponentially.
- 5xx, Cloudflare 520–522, timeouts and connection errors: exponential backoff with full jitter.
- After ``max_attempts`` the call raises ``ServiceUnavailable`` (resumable), never a raw httpx error.
Concurrency per host is bounded by a semaphore. URLs are logged by path only (query strings can hold API keys).
``counting()`` tallies the requests one piece of work makes (its tasks included), apart from everything else the
process sends at the same time — what a budget (the sync wave's) must count.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from engine.plumbing.clock import Clock
from engine.plumbing.config import HttpPolicy
from engine.values.errors import OutcomeUnknown, ServiceUnavailable

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({500, 502, 503, 504, 520, 521, 522, 524})


def retry_after_seconds(resp: httpx.Response, now_ts: float) -> float | None:
    raw = resp.headers.get("Retry-After")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(raw).timestamp() - now_ts)
    except (TypeError, ValueError):
        return None


_TALLY: ContextVar[Counter[str] | None] = ContextVar("http_tally", default=None)


@contextmanager
def counting() -> Iterator[Counter[str]]:
    """Requests per service name made inside the block and by the tasks it starts (they inherit the context)."""
    tally: Counter[str] = Counter()
    token = _TALLY.set(tally)
    try:
        yield tally
    finally:
        _TALLY.reset(token)


class HttpService:
    """An httpx client bound to one service, with the shared retry policy and a request counter."""

    def __init__(self, name: str, client: httpx.AsyncClient, policy: HttpPolicy, clock: Clock,
                 *, concurrency: int = 8, rng: random.Random | None = None) -> None:
        self.name = name
        self.client = client
        self.policy = policy
        self.clock = clock
        self._sem = asyncio.Semaphore(concurrency)
        self._rng = rng or random.Random()
        self.requests = 0          # every request put on the wire, retries included
        self.rate_limited = 0
        self.retried = 0

    def _backoff(self, attempt: int) -> float:
        cap = min(self.policy.backoff_max_s, self.policy.backoff_base_s * (2 ** attempt))
        return self._rng.uniform(0, cap) if cap > 0 else 0.0

    async def request(self, method: str, url: str, *, params: Mapping[str, Any] | None = None,
                      json: Any = None, headers: Mapping[str, str] | None = None,
                      retry_on: frozenset[int] = RETRY_STATUSES, retry_429: bool = True,
                      once: bool = False) -> httpx.Response:
        """``once``: the request spends something single-use (a refresh token): after it may have reached the
        server — a timeout, a broken connection, a 5xx — it is never sent again (``OutcomeUnknown``); only a refused
        connection or a 429 (nothing was done) is retried."""
        last = ""
        for attempt in range(self.policy.max_attempts):
            try:
                async with self._sem:
                    self.requests += 1
                    if (tally := _TALLY.get()) is not None:
                        tally[self.name] += 1
                    resp = await self.client.request(
                        method, url, params=params, json=json, headers=headers, timeout=self.policy.timeout_s
                    )
            except (httpx.TimeoutException, httpx.TransportError) as e:
                last = f"{type(e).__name__} on {method} {httpx.URL(url).path}"
                if once and not isinstance(e, httpx.ConnectError | httpx.ConnectTimeout):
                    raise OutcomeUnknown(self.name, f"{self.name}: {last}; not repeated") from e
                delay = self._backoff(attempt)
            else:
                if resp.status_code == 429 and retry_429:
                    self.rate_limited += 1
                    wait = retry_after_seconds(resp, self.clock.now().timestamp())
                    if wait is not None and wait > self.policy.retry_after_max_s:
                        raise ServiceUnavailable(
                            self.name, f"{self.name} asks us to wait {wait:.0f}s, more than we will", resumable=True
                        )
                    delay = wait if wait is not None else self._backoff(attempt)
                    last = f"429 on {method} {resp.url.path}"
                elif resp.status_code in retry_on:
                    if once:
                        raise OutcomeUnknown(self.name, f"{self.name}: {resp.status_code} on {method}; not repeated")
                    delay = self._backoff(attempt)
                    last = f"{resp.status_code} on {method} {resp.url.path}"
                else:
                    return resp
            if attempt + 1 >= self.policy.max_attempts:
                break
            self.retried += 1
            log.info("%s: %s; retrying in %.2fs (attempt %d)", self.name, last, delay, attempt + 1)
            await self.clock.sleep(delay)
        raise ServiceUnavailable(self.name, f"{self.name}: giving up after {self.policy.max_attempts} attempts: {last}")
