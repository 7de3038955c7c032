"""The shape of viewing over time: binge versus weekly per show, taste evolution, viewing context."""

from __future__ import annotations

import itertools
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.taste.history import PersonHistory, ShowHistory, Watch

BINGE, WEEKLY, CASUAL = "binge", "weekly", "casual"


def local(at: datetime, tz: str | None) -> datetime:
    try:
        return at.astimezone(ZoneInfo(tz)) if tz else at
    except (ZoneInfoNotFoundError, ValueError):
        return at


def season_style(watches: list[Watch], tz: str | None = None) -> str:
    """binge: many episodes per viewing day or a season within days; weekly: about one viewing day a week."""
    eps = {(w.season, w.episode) for w in watches}
    if len(eps) < 3:
        return CASUAL
    days = sorted({local(w.at, tz).date() for w in watches})
    per_day = Counter(local(w.at, tz).date() for w in watches)
    span = (days[-1] - days[0]).days + 1
    if statistics.median(per_day.values()) >= 3 or span <= max(2, len(eps) // 3):
        return BINGE
    gaps = [(b - a).days for a, b in itertools.pairwise(days)]
    if gaps and 5 <= statistics.median(gaps) <= 9 and statistics.median(per_day.values()) <= 2:
        return WEEKLY
    return CASUAL


def show_style(s: ShowHistory, tz: str | None = None) -> tuple[str, dict[str, int]]:
    """The dominant style of a show (by episodes), with episodes per style."""
    by_season: dict[int, list[Watch]] = defaultdict(list)
    for w in s.watches:
        by_season[w.season].append(w)
    counts: Counter[str] = Counter()
    for ws in by_season.values():
        counts[season_style(ws, tz)] += len({(w.season, w.episode) for w in ws})
    if not counts:
        return CASUAL, {}
    return counts.most_common(1)[0][0], dict(counts)


def style_summary(counts: Iterable[Mapping[str, int]]) -> tuple[str, float, float]:
    """(style, binge share, weekly share) over many shows' per-style episode counts."""
    total: Counter[str] = Counter()
    for c in counts:
        total.update(c)
    n = sum(total.values()) or 1
    b, w = total[BINGE] / n, total[WEEKLY] / n
    style = BINGE if b >= 0.5 else (WEEKLY if w >= 0.5 else ("mixed" if b + w >= 0.5 else CASUAL))
    return style, b, w


DAYPARTS = (("late night", range(0, 5)), ("morning", range(5, 12)), ("afternoon", range(12, 17)),
            ("evening", range(17, 22)), ("late night", range(22, 24)))


@dataclass(frozen=True)
class Context:
    hours: tuple[float, ...]       # share of plays per local hour (24)
    weekdays: tuple[float, ...]    # share per weekday, Monday first (7)
    label: str                     # "weekday evenings", "weekend afternoons", …


def context(watches: Iterable[Watch], tz: str | None) -> Context:
    """Hours from plays with a time of day only; weekdays also from date-only plays (their date, unshifted)."""
    hours: list[float] = [0.0] * 24
    days: list[float] = [0.0] * 7
    n = timed = 0
    for w in watches:
        if w.timed:
            t = local(w.at, tz)
            hours[t.hour] += 1
            days[t.weekday()] += 1
            timed += 1
        else:
            days[w.at.weekday()] += 1
        n += 1
    if n == 0:
        return Context(tuple(hours), tuple(days), "no pattern yet")
    hours = [h / timed for h in hours] if timed else hours
    days = [d / n for d in days]
    part: dict[str, float] = {}
    for name, rng in DAYPARTS:
        part[name] = part.get(name, 0.0) + sum(hours[h] for h in rng)
    top = max(part, key=lambda k: part[k])
    noun = {"late night": "late nights", "morning": "mornings", "afternoon": "afternoons",
            "evening": "evenings"}[top] if timed and part[top] >= 0.45 else None
    dayname = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    best_day = max(range(7), key=lambda d: days[d])
    weekend = days[5] + days[6]
    if days[best_day] >= 0.45:
        when = dayname[best_day]
    elif weekend >= 0.6:
        when = "weekend"
    elif weekend <= 0.15:
        when = "weekday"
    else:
        when = ""
    if noun:
        label = f"{when} {noun}".strip()
    elif when:
        label = f"{when}s, any time"
    else:
        label = "any time"
    return Context(tuple(hours), tuple(days), label)


def period_key(d: date, unit: str) -> str:
    return str(d.year) if unit == "year" else f"{d.year}-Q{(d.month - 1) // 3 + 1}"


def evolution(plays_by_group: Mapping[int, list[datetime]], now: datetime) -> tuple[list[str],
                                                                                        dict[int, list[float]],
                                                                                        dict[int, str]]:
    """Share of plays per group (persona) per period, and a trend per group.

    Periods are years for histories longer than three years, quarters otherwise. Trend compares the last 12
    months with the 24 before: emerging (share up 1.5x and at least 10%), fading (down to half or less),
    new (nothing before the last 12 months), dormant (nothing in the last 12 months), else steady.
    """
    all_times = [t for ts in plays_by_group.values() for t in ts]
    if not all_times:
        return [], {}, {}
    first = min(all_times)
    unit = "year" if (now - first).days > 3 * 365 else "quarter"
    periods = sorted({period_key(t.date(), unit) for t in all_times})
    totals = Counter(period_key(t.date(), unit) for t in all_times)
    shares = {
        g: [sum(1 for t in ts if period_key(t.date(), unit) == p) / totals[p] for p in periods]
        for g, ts in plays_by_group.items()
    }
    recent_cut, older_cut = now - timedelta(days=365), now - timedelta(days=3 * 365)
    n_recent = sum(1 for t in all_times if t >= recent_cut)
    n_older = sum(1 for t in all_times if older_cut <= t < recent_cut)
    trends: dict[int, str] = {}
    for g, ts in plays_by_group.items():
        r = sum(1 for t in ts if t >= recent_cut)
        o = sum(1 for t in ts if older_cut <= t < recent_cut)
        before = sum(1 for t in ts if t < recent_cut)
        rs = r / n_recent if n_recent else 0.0
        os_ = o / n_older if n_older else 0.0
        if n_recent and r and not before:
            trends[g] = "new"
        elif n_recent and not r and before:
            trends[g] = "dormant"
        elif rs >= 0.1 and rs >= 1.5 * os_:
            trends[g] = "emerging"
        elif os_ > 0 and rs <= 0.5 * os_:
            trends[g] = "fading"
        else:
            trends[g] = "steady"
    return periods, shares, trends


def binge_report(history: PersonHistory) -> dict[int, tuple[str, dict[str, int]]]:
    return {sid: show_style(s, history.timezone) for sid, s in history.shows.items()}
