"""Alerts: a release-calendar alert for one person (one class per kind) and the weekly digest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from engine.values.models import AlertKind, RecommendationList, Upcoming


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertBase:
    """A release-calendar alert for one person; one subclass per kind."""

    id: int
    person_id: int
    show_id: int
    title: str
    year: int | None
    season: int
    event_at: datetime                  # the premiere or finale it is about
    due_at: datetime
    status: str = "pending"             # pending | sending | sent | skipped
    exact: bool = False                 # a Trakt calendar time, not only a TMDB date
    network: str | None = None
    style: str | None = None            # how the person watches this show: binge | weekly


@dataclass(frozen=True, slots=True, kw_only=True)
class PremiereAlert(AlertBase):
    """A new season starts (weekly viewers, the morning of the day)."""

    kind: Literal[AlertKind.PREMIERE] = AlertKind.PREMIERE


@dataclass(frozen=True, slots=True, kw_only=True)
class BingeAlert(AlertBase):
    """A season finished airing: ready to binge (binge viewers, the morning after the finale)."""

    kind: Literal[AlertKind.BINGE] = AlertKind.BINGE
    episodes: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReturningAlert(AlertBase):
    """Back after a long gap (a week ahead)."""

    kind: Literal[AlertKind.RETURNING] = AlertKind.RETURNING
    gap_days: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class CatchupAlert(AlertBase):
    """Catch up before the premiere: episodes left of a show in progress or listed, or a related show."""

    kind: Literal[AlertKind.CATCHUP] = AlertKind.CATCHUP
    episodes_left: int = 0
    started: bool = False
    related: tuple[str, ...] = ()       # shows of theirs it is close to (a suggestion, not a show they follow)
    overlap: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ArrivalAlert(AlertBase):
    """A show on their watchlist, or a pick of theirs, arrives on (or leaves) one of their services (``season`` holds
    the provider change's id, negated: one alert per person and change)."""

    kind: Literal[AlertKind.ARRIVAL] = AlertKind.ARRIVAL
    service: str = ""
    arrived: bool = True


Alert = PremiereAlert | BingeAlert | ReturningAlert | CatchupAlert | ArrivalAlert


@dataclass(frozen=True, slots=True)
class Digest:
    """The opt-in weekly digest: a few fresh picks, how last week's picks fared, what airs this week."""
    person_id: int
    week: str                           # ISO week in the person's time zone, e.g. 2026-W48
    picks: RecommendationList | None
    upcoming: tuple[Upcoming, ...]
    shown_last_week: int
    started_last_week: int
