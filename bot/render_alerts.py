"""Wording of the release calendar: an alert (in the person's words of how they watch), the weekly digest, and the
alerts still to come, each on the person's own clock."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.values.alerts import Alert, ArrivalAlert, BingeAlert, CatchupAlert, Digest, PremiereAlert, ReturningAlert
from engine.values.models import AlertKind

from .render import plural

ALERT_LEGEND = {AlertKind.PREMIERE: "📅", AlertKind.BINGE: "🍿", AlertKind.RETURNING: "🔁", AlertKind.CATCHUP: "⏩",
                AlertKind.ARRIVAL: "📺"}


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def alert(a: Alert) -> str:
    """One release-calendar alert, in the person's words of how they watch."""
    when = a.event_at
    day = f"{when:%A %b %d}" if a.exact else f"{when:%b %d}"
    icon = ALERT_LEGEND.get(a.kind, "🔔")
    name = f"{a.title} ({a.year})" if a.year else a.title
    match a:
        case PremiereAlert():
            return f"{icon} {name}: season {a.season} premieres {day}" + (f" on {a.network}." if a.network else ".")
        case BingeAlert():
            return (f"{icon} {name}: season {a.season} is complete" + (f" ({a.episodes} episodes)" if a.episodes
                                                                       else "") + " — ready to binge.")
        case ReturningAlert():
            years = round(a.gap_days / 365, 1)
            span = "a year" if years == 1 else f"{years:g} years"
            return (f"{icon} {name} is back after {span}: season {a.season} starts {day}. "
                    "A recap of the last season might help.")
        case ArrivalAlert() if a.arrived:
            return f"{icon} {name} is now on your {a.service}."
        case ArrivalAlert():
            return f"{icon} {name} is no longer on your {a.service}."
        case CatchupAlert() if a.related:
            because = " and ".join(a.related)
            return (f"{icon} Before it returns: {name} season {a.season} starts {day}, and it is close to {because}, "
                    f"which you watched. The earlier seasons are {plural(a.episodes_left, 'episode')} — "
                    "a good time to start.")
        case CatchupAlert():
            verb = "You have" if a.started else "It's on your watchlist:"
            return (f"{icon} Catch up before the premiere: {name} season {a.season} starts {day}. {verb} "
                    f"{plural(a.episodes_left, 'episode')} to go.")
    return f"🔔 {name}: season {a.season}, {day}."


def digest(d: Digest) -> str:
    lines = [f"Your week on Multitudes ({d.week})."]
    if d.shown_last_week:
        lines.append(f"Last week I suggested {plural(d.shown_last_week, 'show')}; you started {d.started_last_week}.")
    if d.upcoming:
        lines.append("Airing this week for your shows:")
        for u in d.upcoming[:8]:
            ep = f"S{u.season:02d}E{u.episode:02d}" if u.season is not None and u.episode is not None else ""
            lines.append(f"  {u.air_date:%a %b %d} — {u.title} {ep}".rstrip())
    if d.picks is not None and d.picks.items:
        lines.append("Three picks for this week (react or use the buttons below each):")
    elif d.picks is not None and d.picks.note:
        lines.append(d.picks.note)
    lines.append("Turn this off with /settings digest:off.")
    return "\n".join(lines)


def pending_alerts(items: list[Alert], tz: str | None = None) -> str:
    """Alerts still to be sent, with the day they will go out on the person's own clock."""
    zone = _zone(tz)
    kinds = {"premiere": "premiere", "binge": "binge-ready", "returning": "returning", "catchup": "catch-up"}
    lines = ["Alerts I will send you (turn a kind off with /settings premiere:off, binge:off, returning:off, "
             "catchup:off):"]
    for a in items[:10]:
        lines.append(f"  {ALERT_LEGEND.get(a.kind, '🔔')} {a.title} S{a.season} — {kinds.get(a.kind, a.kind)}, "
                     f"around {a.due_at.astimezone(zone):%a %b %d}")
    return "\n".join(lines)
