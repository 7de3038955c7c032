"""Wording of the release calendar: an alert (in the person's words of how they watch), the weekly digest, and the
alerts still to come, each on the person's own clock."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.values.alerts import Alert, ArrivalAlert, BingeAlert, CatchupAlert, Digest, PremiereAlert, ReturningAlert
from engine.values.models import AlertKind

from .i18n import N_, _, day, ngettext, words
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
    on = day(when, "EEEE MMM dd") if a.exact else day(when, "MMM dd")
    icon = ALERT_LEGEND.get(a.kind, "🔔")
    name = f"{a.title} ({a.year})" if a.year else a.title
    match a:
        case PremiereAlert():
            return f"{icon} " + (_("{name}: season {season} premieres {day} on {network}.") if a.network else
                                 _("{name}: season {season} premieres {day}.")).format(
                name=name, season=a.season, day=on, network=a.network)
        case BingeAlert():
            return f"{icon} " + (ngettext("{name}: season {season} is complete ({n} episode) — ready to binge.",
                                          "{name}: season {season} is complete ({n} episodes) — ready to binge.",
                                          a.episodes) if a.episodes
                                 else _("{name}: season {season} is complete — ready to binge.")).format(
                name=name, season=a.season, n=a.episodes)
        case ReturningAlert():
            years = round(a.gap_days / 365, 1)
            span = _("a year") if years == 1 else _("{n} years").format(n=f"{years:g}")
            return f"{icon} " + _("{name} is back after {span}: season {season} starts {day}. A recap of the last "
                                  "season might help.").format(name=name, span=span, season=a.season, day=on)
        case ArrivalAlert() if a.arrived:
            return f"{icon} " + _("{name} is now on your {service}.").format(name=name, service=a.service)
        case ArrivalAlert():
            return f"{icon} " + _("{name} is no longer on your {service}.").format(name=name, service=a.service)
        case CatchupAlert() if a.related:
            because = words(list(a.related))
            return f"{icon} " + _("Before it returns: {name} season {season} starts {day}, and it is close to "
                                  "{related}, which you watched. The earlier seasons are {episodes} — a good time "
                                  "to start.").format(name=name, season=a.season, day=on, related=because,
                                                      episodes=plural(a.episodes_left, "{n} episode", "{n} episodes"))
        case CatchupAlert():
            left = plural(a.episodes_left, "{n} episode", "{n} episodes")
            return f"{icon} " + (_("Catch up before the premiere: {name} season {season} starts {day}. You have "
                                   "{episodes} to go.") if a.started else
                                 _("Catch up before the premiere: {name} season {season} starts {day}. It's on your "
                                   "watchlist: {episodes} to go.")).format(name=name, season=a.season, day=on,
                                                                           episodes=left)
    return "🔔 " + _("{name}: season {season}, {day}.").format(name=name, season=a.season, day=on)


def digest(d: Digest) -> str:
    lines = [_("Your week on Multitudes ({week}).").format(week=d.week)]
    if d.shown_last_week:
        lines.append(_("Last week I suggested {shows}; you started {n}.").format(
            shows=plural(d.shown_last_week, "{n} show", "{n} shows"), n=d.started_last_week))
    if d.upcoming:
        lines.append(_("Airing this week for your shows:"))
        for u in d.upcoming[:8]:
            ep = f"S{u.season:02d}E{u.episode:02d}" if u.season is not None and u.episode is not None else ""
            lines.append(f"  {day(u.air_date)} — {u.title} {ep}".rstrip())
    if d.picks is not None and d.picks.items:
        lines.append(_("Three picks for this week (react or use the buttons below each):"))
    elif d.picks is not None and d.picks.note:
        lines.append(d.picks.note)
    lines.append(_("Turn this off with /settings digest:off."))
    return "\n".join(lines)


KINDS = {"premiere": N_("premiere"), "binge": N_("binge-ready"), "returning": N_("returning"),
         "catchup": N_("catch-up"), "arrival": N_("arrival")}


def pending_alerts(items: list[Alert], tz: str | None = None) -> str:
    """Alerts still to be sent, with the day they will go out on the person's own clock."""
    zone = _zone(tz)
    lines = [_("Alerts I will send you (turn a kind off with /settings premiere:off, binge:off, returning:off, "
               "catchup:off):")]
    for a in items[:10]:
        lines.append(f"  {ALERT_LEGEND.get(a.kind, '🔔')} {a.title} S{a.season} — " + _("{kind}, around {day}").format(
            kind=_(KINDS.get(a.kind, a.kind)), day=day(a.due_at.astimezone(zone))))
    return "\n".join(lines)
