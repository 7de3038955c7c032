"""The episodes coming for a person's shows as an iCalendar file (RFC 5545), built with ``icalendar``.

One VEVENT per episode. Its UID is made of the show's outside ids and the episode number, never of anything this
database assigns, so importing a newer file into a calendar app updates the events instead of adding copies (also
after a reinstall). Times Trakt gives exactly are written in the person's time zone with its VTIMEZONE block; a
date only TMDB gives is an all-day event, never a made-up time of day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar

from engine.values.i18n import _
from engine.values.models import ShowIds

PRODID = "-//Multitudes//upcoming episodes//EN"
UID_DOMAIN = "multitudes.episodes"


@dataclass(frozen=True, slots=True)
class Airing:
    ids: ShowIds
    show_id: int
    title: str
    season: int
    episode: int | None
    at: datetime
    exact: bool                         # a time of day Trakt gave; False: TMDB's date only
    episode_title: str | None = None
    runtime: int | None = None
    where: tuple[str, ...] = ()


def uid(a: Airing) -> str:
    """Stable across exports: the show's Trakt, TMDB or IMDb id (the first known), season and episode."""
    i = a.ids
    show = (f"trakt-{i.trakt}" if i.trakt else f"tmdb-{i.tmdb}" if i.tmdb else f"imdb-{i.imdb}" if i.imdb
            else f"show-{a.show_id}")
    ep = f"s{a.season}e{a.episode}" if a.episode is not None else f"s{a.season}"
    return f"{show}-{ep}@{UID_DOMAIN}"


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def calendar(items: Sequence[Airing], tz: str | None, now: datetime, name: str | None = None) -> bytes:
    zone = _zone(tz)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name or _("Multitudes: your shows"))
    cal.add("x-wr-timezone", zone.key)
    seen: set[str] = set()
    for a in sorted(items, key=lambda x: (x.at, x.title, x.season, x.episode or 0)):
        key = uid(a)
        if key in seen:
            continue
        seen.add(key)
        ev = icalendar.Event()
        ev.add("uid", key)
        ev.add("dtstamp", now)
        code = f"S{a.season:02d}E{a.episode:02d}" if a.episode is not None else _("season {n}").format(n=a.season)
        ev.add("summary", f"{a.title} {code}" + (f" “{a.episode_title}”" if a.episode_title else ""))
        if a.exact:
            ev.add("dtstart", a.at.astimezone(zone))
            if a.runtime:
                ev.add("duration", timedelta(minutes=a.runtime))
        else:
            day = a.at.date() if isinstance(a.at, datetime) else a.at
            ev.add("dtstart", day)
            ev.add("dtend", day + timedelta(days=1))
            ev.add("transp", "TRANSPARENT")            # a date, not a slot: free/busy is not blocked
        lines = []
        if a.episode == 1:
            lines.append(_("Season premiere") if a.season > 1 else _("Series premiere"))
        if not a.exact:
            lines.append(_("The air date TMDB lists; the time of day is not known."))
        if a.where:
            lines.append(_("Streams on {services}").format(services=", ".join(a.where)))
        if lines:
            ev.add("description", "\n".join(lines))
        cal.add_component(ev)
    cal.add_missing_timezones()
    data: bytes = cal.to_ical()
    return data
