"""How much a show says about a person's taste.

weight = volume x completion x rating x binge x rewatch x recency, where volume grows with the log of distinct
episodes watched and completion uses Trakt's aired episode count (never announced ones). A rating of 4 or less,
or a show the person dropped or hid, is negative evidence: a negative weight.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime

from engine.taste.history import PersonHistory, ShowHistory

HALF_LIFE_YEARS = 3.0


def show_weight(s: ShowHistory, now: datetime) -> float:
    eps = s.distinct_episodes
    if eps == 0 and s.rating is None:
        return -1.0 if s.dropped else 0.0
    volume = math.log1p(max(eps, 1))
    completion = min(1.0, eps / s.aired_episodes) if s.aired_episodes else min(1.0, eps / 10)
    w = volume * (0.35 + 0.65 * math.sqrt(completion))
    if s.watches:
        per_day = Counter(x.at.date() for x in s.watches)
        best = max(per_day.values())
        w *= 1.0 + 0.08 * min(5, best - 1)                       # binge intensity
        if len(s.watches) > 1.2 * eps:
            w *= 1.2                                             # rewatches
        last = max(x.at for x in s.watches)
        age = max(0.0, (now - last).days / 365.25)
        w *= max(0.25, 0.5 ** (age / HALF_LIFE_YEARS))          # recency decay, old loves still count a little
    if s.rating is not None:
        if s.rating <= 4:
            return -max(w, 0.5) * (5 - s.rating) / 4
        w *= 0.6 + 1.4 * (s.rating / 10) ** 1.5
    if s.dropped:
        finished = s.aired_episodes is not None and eps >= 0.8 * s.aired_episodes
        return w * 0.5 if finished else -max(w, 0.5)
    return w


def engagement(history: PersonHistory, now: datetime) -> dict[int, float]:
    return {sid: show_weight(s, now) for sid, s in history.shows.items()}
