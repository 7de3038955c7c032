"""What the alert scan and the delivery share: the notifier port, the reports, quiet hours and mornings, and a
stored alert read back as its own kind."""


from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.store.records import AlertRow
from engine.taste.history import Watch
from engine.taste.temporal import BINGE, WEEKLY, season_style
from engine.values.alerts import Alert, ArrivalAlert, BingeAlert, CatchupAlert, Digest, PremiereAlert, ReturningAlert
from engine.values.models import AlertKind

log = logging.getLogger(__name__)

KINDS = tuple(AlertKind)
CLAIM_BATCH = 50            # alerts one process claims at a time
RUN_LIMIT = 2000            # alerts one delivery run looks at (the next run goes on)
MAX_ATTEMPTS = 3
RELATED_PER_MONTH = 2


class Notifier(Protocol):
    """What a front end provides so scheduled messages reach people (the engine never imports a platform)."""
    platform: str

    async def send_alert(self, target: str, alert: Alert) -> str:
        """Send to ``target`` ("user:<id>" for a direct message, "channel:<id>"); return a message reference."""
        ...

    async def send_digest(self, target: str, digest: Digest) -> str:
        """The weekly digest, same targets. Picks are sent like /recommend's, each attached to its message
        (``Engine.attach_message``) so buttons and reactions on them count as feedback."""
        ...

    async def send_notice(self, target: str, text: str) -> str:
        """A short plain-text message about the person's account (e.g. their Trakt link ended), same targets."""
        ...


@dataclass(frozen=True, slots=True)
class ScanReport:
    people: int
    shows: int
    metadata_fetched: int
    created: int
    updated: int


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int
    skipped: int
    deferred: int
    failed: int


@dataclass(frozen=True, slots=True)
class Airing:
    season: int
    episode: int
    at: datetime
    exact: bool            # a Trakt calendar time, not a TMDB date


def tz_of(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def in_quiet(hour: int, quiet: Sequence[int] | None) -> bool:
    if not quiet or len(quiet) != 2:
        return False
    a, b = int(quiet[0]), int(quiet[1])
    if a == b:
        return False
    return a <= hour < b if a < b else (hour >= a or hour < b)


def allowed_at(t: datetime, tz: ZoneInfo, quiet: Sequence[int] | None) -> datetime:
    """``t``, or the end of the quiet hours it falls in (the person's own clock)."""
    loc = t.astimezone(tz)
    if not in_quiet(loc.hour, quiet):
        return t
    assert quiet is not None
    end = loc.replace(hour=int(quiet[1]), minute=0, second=0, microsecond=0)
    if end <= loc:
        end += timedelta(days=1)
    return end.astimezone(t.tzinfo)


def morning(day: date, tz: ZoneInfo, hour: int, quiet: Sequence[int] | None, now: datetime) -> datetime:
    """``hour`` o'clock on ``day`` in the person's zone (not before now), moved out of their quiet hours."""
    t = datetime.combine(day, time(hour), tz).astimezone(now.tzinfo)
    return allowed_at(max(t, now), tz, quiet)


def typed(r: AlertRow) -> Alert:
    """A stored alert as its own kind."""
    p = r.payload
    base: dict[str, Any] = {"id": r.id, "person_id": r.person_id, "show_id": r.show_id, "title": r.title,
                            "year": r.year, "season": r.season, "event_at": r.event_at, "due_at": r.due_at,
                            "status": r.status, "exact": bool(p.get("exact")), "network": p.get("network"),
                            "style": p.get("style")}
    match r.kind:
        case AlertKind.BINGE:
            return BingeAlert(**base, episodes=p.get("episodes"))
        case AlertKind.RETURNING:
            return ReturningAlert(**base, gap_days=int(p.get("gap_days") or 0))
        case AlertKind.ARRIVAL:
            return ArrivalAlert(**base, service=str(p.get("service") or ""), arrived=bool(p.get("arrived", True)))
        case AlertKind.CATCHUP:
            return CatchupAlert(**base, episodes_left=int(p.get("episodes_left") or 0), started=bool(p.get("started")),
                                related=tuple(p.get("related") or ()), overlap=int(p.get("overlap") or 0))
    return PremiereAlert(**base)


def watch_style(plays: list[tuple[int, int | None, datetime]], tz: str | None) -> str | None:
    by_season: dict[int, list[Watch]] = defaultdict(list)
    for season, ep, at in plays:
        by_season[season].append(Watch(season=season, episode=ep, at=at))
    counts: dict[str, int] = defaultdict(int)
    for ws in by_season.values():
        counts[season_style(ws, tz)] += len(ws)
    best = max(((n, s) for s, n in counts.items() if s in (BINGE, WEEKLY)), default=None)
    return best[1] if best else None


Enrich = Callable[[Sequence[int]], Awaitable[int]]


def overall_styles(reports: Mapping[int, Any]) -> dict[int, str]:
    """A person's usual way of watching, from their personas (share of episodes binged)."""
    out = {}
    for pid, report in reports.items():
        total = sum(p.weight for p in report.personas) or 1.0
        binge = sum(p.weight * p.binge_share for p in report.personas) / total
        out[pid] = BINGE if binge >= 0.5 else WEEKLY
    return out
