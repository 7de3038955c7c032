from __future__ import annotations

import pytest

from bot.ratelimit import PersonLimiter, RateLimited


def test_person_limiter_bursts_then_refills() -> None:
    now = [0.0]
    lim = PersonLimiter(burst=2, per=10.0, clock=lambda: now[0])
    lim.check("a", "recommend")
    lim.check("a", "recommend")
    with pytest.raises(RateLimited) as e:
        lim.check("a", "recommend")
    assert "10 s" in e.value.user_message
    lim.check("b", "recommend")                 # per person
    lim.check("a", "sync")                      # per command
    now[0] = 10.0
    lim.check("a", "recommend")                 # refilled
