"""Wording for ``/next`` and ``/tonight``, the same on every front end."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.values.plans import CalendarFile, NextUp, Tonight, YearReview

from .i18n import _, day
from .render import plural

WAITING_SHOWN = 5


def episode(n: NextUp) -> str:
    """``S02E05 “Title”`` where the episode is known; otherwise the season, said as what it is."""
    if n.episode is None:
        return (_("season {n} begins") if n.new_season else _("on with season {n}")).format(n=n.season)
    code = f"S{n.season:02d}E{n.episode:02d}"
    return f"{code} “{n.episode_title}”" if n.episode_title else code


def _where(n: NextUp) -> str:
    if n.where_unknown:
        return _("where to watch in {region}: not known here").format(region=n.where_unknown)
    return _("on {services}").format(services=", ".join(n.where[:2])) if n.where else ""


def _habit(n: NextUp, now: datetime) -> str:
    if n.style == "binge":
        return (_("binge · {left} left in the season").format(
            left=plural(n.left, "{n} aired episode", "{n} aired episodes")) if n.left else _("binge"))
    if n.style == "weekly" and n.aired_at is not None and n.last_watched < n.aired_at <= now:
        return _("weekly · out since {day}").format(day=day(n.aired_at))
    return _("last watched {day}").format(day=day(n.last_watched, "MMM dd"))


def up_next(items: list[NextUp], now: datetime) -> str:
    if not items:
        return _("No show in progress: once you have watched part of a show, its next episode shows here. "
                 "`recommend` finds a new one.")
    ready = [n for n in items if n.aired_at is None or n.aired_at <= now]
    waiting = [n for n in items if n.aired_at is not None and n.aired_at > now]
    lines = [_("Up next:")] if ready else []
    for n in ready:
        bits = [episode(n)]
        if n.runtime:
            bits.append(_("{n} min").format(n=n.runtime))
        bits.append(_habit(n, now))
        if _where(n):
            bits.append(_where(n))
        lines.append(f"• {n.title} — " + " · ".join(bits))
    if waiting:
        lines.append(_("Caught up — out next:") if ready else _("You are caught up. Out next:"))
        for n in waiting[:WAITING_SHOWN]:
            when = day(n.aired_at) if n.aired_at is not None else _("date not announced")
            lines.append(f"• {n.title} — {episode(n)} · {when}")
        if len(waiting) > WAITING_SHOWN:
            lines.append("  " + plural(len(waiting) - WAITING_SHOWN, "…and {n} more show.", "…and {n} more shows."))
    return "\n".join(lines)


def tonight(plan: Tonight) -> str:
    """The plan's text; the new pick (if any) follows as its own card, with its buttons."""
    if plan.note and not plan.items and plan.pick is None:
        return plan.note
    lines = [_("Tonight, {length} — {used} min planned:").format(length=length(plan.minutes), used=plan.used)]
    for i, item in enumerate(plan.items, 1):
        n = item.show
        count = plural(item.episodes, "{n} episode", "{n} episodes") + " · " if item.episodes > 1 else ""
        lines.append(f"{i}. {n.title} — {episode(n)} · {count}" + _("{n} min").format(n=item.minutes)
                     + f" — {item.why}")
    if plan.pick is not None and plan.pick.items:
        p = plan.pick.items[0]
        head = (_("Then something new: {title} · {n} min — below") if plan.items
                else _("Something new: {title} · {n} min — below"))
        lines.append(f"{len(plan.items) + 1}. " + head.format(title=p.title, n=plan.pick_minutes))
    elif plan.minutes - plan.used >= 20:
        lines.append(_("{n} min left: nothing new I would suggest fits in that.").format(n=plan.minutes - plan.used))
    return "\n".join(lines)


def length(minutes: int) -> str:
    h, m = divmod(minutes, 60)
    return f"{h} h {m:02d}" if h and m else (f"{h} h" if h else _("{n} min").format(n=m))


def calendar_caption(c: CalendarFile) -> str:
    if not c.episodes:
        head = _("Nothing announced in the next {days} days for your shows yet, so no calendar to send.").format(
            days=c.days)
    else:
        timed = (_("{n} with Trakt's air times, the rest on their dates").format(n=c.exact)
                 if c.exact and c.exact < c.episodes
                 else _("with Trakt's air times") if c.exact else _("on their air dates (TMDB gives no times)"))
        head = _("Your calendar: {episodes} in the next {days} days, {timed}. Import it into your calendar app; "
                 "importing a newer one updates the same events.").format(
            episodes=plural(c.episodes, "{n} episode", "{n} episodes"), days=c.days, timed=timed)
    return head + (f" {c.note}" if c.note else "")


def year_review(r: YearReview) -> str:
    lines = [(_("Your {year} so far:") if r.so_far else _("Your {year}:")).format(year=r.year)]
    hours = (plural(round(r.hours), "about {n} hour", "about {n} hours") if r.hours_estimated
             else plural(round(r.hours), "{n} hour", "{n} hours"))
    lines.append("• " + _("{episodes} of {shows} ({new} new to you) — {hours}").format(
        episodes=plural(r.episodes, "{n} episode", "{n} episodes"), shows=plural(r.shows, "{n} show", "{n} shows"),
        new=r.new_shows, hours=hours))
    if r.finished_seasons is not None:
        lines.append("• " + plural(r.finished_seasons, "{n} season finished", "{n} seasons finished"))
    lines.append("• " + _("Most watched: {list}").format(list=", ".join(f"{t} ({n})" for t, n in r.top)))
    if r.biggest_day is not None:
        when, n, title = r.biggest_day
        lines.append("• " + _("Biggest day: {day} — {episodes}, mostly {title}").format(
            day=day(when), episodes=plural(n, "{n} episode", "{n} episodes"), title=title))
    if r.streak > 1:
        lines.append("• " + _("Longest streak: {n} days in a row").format(n=r.streak))
    shifts = []
    if r.grew is not None:
        shifts.append(_("grew: {name} ({before} → {after})").format(
            name=r.grew.name, before=f"{r.grew.before:.0%}", after=f"{r.grew.share:.0%}"))
    if r.faded is not None:
        shifts.append(_("faded: {name} ({before} → {after})").format(
            name=r.faded.name, before=f"{r.faded.before:.0%}", after=f"{r.faded.share:.0%}"))
    if shifts:
        lines.append("• " + _("Your tastes — {shifts}").format(shifts=" · ".join(shifts)))
    if r.new_taste is not None:
        lines.append("• " + _("New this year: {name} ({share} of the year)").format(
            name=r.new_taste.name, share=f"{r.new_taste.share:.0%}"))
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
