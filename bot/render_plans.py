"""Wording for ``/next`` and ``/tonight``, the same on every front end."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.values.plans import CalendarFile, NextUp, Tonight, YearReview

from .render import plural

WAITING_SHOWN = 5


def episode(n: NextUp) -> str:
    """``S02E05 “Title”`` where the episode is known; otherwise the season, said as what it is."""
    if n.episode is None:
        return f"season {n.season} begins" if n.new_season else f"on with season {n.season}"
    code = f"S{n.season:02d}E{n.episode:02d}"
    return f"{code} “{n.episode_title}”" if n.episode_title else code


def _where(n: NextUp) -> str:
    if n.where_unknown:
        return f"where to watch in {n.where_unknown}: not known here"
    return f"on {', '.join(n.where[:2])}" if n.where else ""


def _habit(n: NextUp, now: datetime) -> str:
    if n.style == "binge":
        return f"binge · {plural(n.left, 'aired episode')} left in the season" if n.left else "binge"
    if n.style == "weekly" and n.aired_at is not None and n.last_watched < n.aired_at <= now:
        return f"weekly · out since {n.aired_at:%a %b %d}"
    return f"last watched {n.last_watched:%b %d}"


def up_next(items: list[NextUp], now: datetime) -> str:
    if not items:
        return ("No show in progress: once you have watched part of a show, its next episode shows here. "
                "`recommend` finds a new one.")
    ready = [n for n in items if n.aired_at is None or n.aired_at <= now]
    waiting = [n for n in items if n.aired_at is not None and n.aired_at > now]
    lines = ["Up next:"] if ready else []
    for n in ready:
        bits = [episode(n)]
        if n.runtime:
            bits.append(f"{n.runtime} min")
        bits.append(_habit(n, now))
        if _where(n):
            bits.append(_where(n))
        lines.append(f"• {n.title} — " + " · ".join(bits))
    if waiting:
        lines.append("Caught up — out next:" if ready else "You are caught up. Out next:")
        for n in waiting[:WAITING_SHOWN]:
            when = f"{n.aired_at:%a %b %d}" if n.aired_at is not None else "date not announced"
            lines.append(f"• {n.title} — {episode(n)} · {when}")
        if len(waiting) > WAITING_SHOWN:
            lines.append(f"  …and {plural(len(waiting) - WAITING_SHOWN, 'more show')}.")
    return "\n".join(lines)


def tonight(plan: Tonight) -> str:
    """The plan's text; the new pick (if any) follows as its own card, with its buttons."""
    if plan.note and not plan.items and plan.pick is None:
        return plan.note
    lines = [f"Tonight, {length(plan.minutes)} — {plan.used} min planned:"]
    for i, item in enumerate(plan.items, 1):
        n = item.show
        count = plural(item.episodes, "episode") + " · " if item.episodes > 1 else ""
        lines.append(f"{i}. {n.title} — {episode(n)} · {count}{item.minutes} min — {item.why}")
    if plan.pick is not None and plan.pick.items:
        p = plan.pick.items[0]
        head = "Then something new" if plan.items else "Something new"
        lines.append(f"{len(plan.items) + 1}. {head}: {p.title} · {plan.pick_minutes} min — below")
    elif plan.minutes - plan.used >= 20:
        lines.append(f"{plan.minutes - plan.used} min left: nothing new I would suggest fits in that.")
    return "\n".join(lines)


def length(minutes: int) -> str:
    h, m = divmod(minutes, 60)
    return f"{h} h {m:02d}" if h and m else (f"{h} h" if h else f"{m} min")


def calendar_caption(c: CalendarFile) -> str:
    if not c.episodes:
        head = f"Nothing announced in the next {c.days} days for your shows yet, so no calendar to send."
    else:
        timed = (f"{c.exact} with Trakt's air times, the rest on their dates" if c.exact and c.exact < c.episodes
                 else "with Trakt's air times" if c.exact else "on their air dates (TMDB gives no times)")
        head = (f"Your calendar: {plural(c.episodes, 'episode')} in the next {c.days} days, {timed}. Import it into "
                "your calendar app; importing a newer one updates the same events.")
    return head + (f" {c.note}" if c.note else "")


def year_review(r: YearReview) -> str:
    lines = [f"Your {r.year}" + (" so far" if r.so_far else "") + ":"]
    hours = f"about {r.hours:,.0f} hours" if r.hours_estimated else f"{r.hours:,.0f} hours"
    lines.append(f"• {plural(r.episodes, 'episode')} of {plural(r.shows, 'show')} ({r.new_shows} new to you) — "
                 f"{hours}")
    if r.finished_seasons is not None:
        lines.append(f"• {plural(r.finished_seasons, 'season')} finished")
    lines.append("• Most watched: " + ", ".join(f"{t} ({n})" for t, n in r.top))
    if r.biggest_day is not None:
        day, n, title = r.biggest_day
        lines.append(f"• Biggest day: {day:%a %b %d} — {plural(n, 'episode')}, mostly {title}")
    if r.streak > 1:
        lines.append(f"• Longest streak: {r.streak} days in a row")
    shifts = []
    if r.grew is not None:
        shifts.append(f"grew: {r.grew.name} ({r.grew.before:.0%} → {r.grew.share:.0%})")
    if r.faded is not None:
        shifts.append(f"faded: {r.faded.name} ({r.faded.before:.0%} → {r.faded.share:.0%})")
    if shifts:
        lines.append("• Your tastes — " + " · ".join(shifts))
    if r.new_taste is not None:
        lines.append(f"• New this year: {r.new_taste.name} ({r.new_taste.share:.0%} of the year)")
    return "\n".join(lines)


def next_time(hm: tuple[int, int], tz: str | None, after: datetime) -> datetime:
    """The first ``hh:mm`` in zone ``tz`` strictly after ``after`` (UTC)."""
    try:
        zone = ZoneInfo(tz) if tz else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = after.astimezone(zone)
    at = local.replace(hour=hm[0], minute=hm[1], second=0, microsecond=0)
    if at <= local:
        at += timedelta(days=1)
    return at.astimezone(after.tzinfo)
