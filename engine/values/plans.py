"""Plain values around the watching itself: the next episode of each show in progress, an evening's plan, and the
owner's media server (a link started, a request's outcome)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from engine.values.models import Chart, RecommendationList

MIN_TONIGHT, MAX_TONIGHT = 10, 12 * 60          # minutes a plan may be asked for


@dataclass(frozen=True, slots=True)
class NextUp:
    """The next episode of a show the person is in the middle of."""
    show_id: int
    title: str
    year: int | None
    season: int
    episode: int | None                 # None: the episode is not known (the demo's constructed numbers): resume
    after: tuple[int, int | None]       # the last one they watched (season, episode)
    last_watched: datetime
    style: str                          # how they watch this show: binge | weekly | casual
    episode_title: str | None = None
    runtime: int | None = None          # minutes an episode
    aired_at: datetime | None = None    # when it aired, where the metadata says (weekly shows: "out since Tuesday")
    left: int | None = None             # aired episodes of this season still to watch, this one included
    new_season: bool = False            # it opens a season
    where: tuple[str, ...] = ()         # streaming services in the person's region
    where_unknown: str | None = None    # a region the data knows nothing about


@dataclass(frozen=True, slots=True)
class PlanItem:
    """Episodes of one show in progress that fit the evening."""
    show: NextUp
    episodes: int
    minutes: int
    why: str


@dataclass(frozen=True, slots=True)
class Tonight:
    minutes: int                        # the time asked for
    items: tuple[PlanItem, ...]
    pick: RecommendationList | None     # one new show whose episode fits the time left (with its buttons)
    pick_minutes: int = 0
    note: str | None = None             # what did not fit, and why

    @property
    def used(self) -> int:
        return sum(i.minutes for i in self.items) + self.pick_minutes


@dataclass(frozen=True, slots=True)
class CalendarFile:
    """``/upcoming ics``: an iCalendar file of the episodes coming for a person's shows."""
    name: str
    data: bytes
    episodes: int
    exact: int                          # of which Trakt gave the time of day (the rest: all-day, TMDB's date)
    days: int
    note: str | None = None             # e.g. Trakt did not answer: dates from the cached metadata only


@dataclass(frozen=True, slots=True)
class TasteShift:
    name: str
    share: float                # of this year's plays
    before: float               # of the year before's


@dataclass(frozen=True, slots=True)
class YearReview:
    year: int
    so_far: bool                                # the current year: up to today
    episodes: int
    shows: int
    new_shows: int                              # shows first played this year
    hours: float
    hours_estimated: bool                       # some runtimes were not known: an estimate
    finished_seasons: int | None                # None: the episode counts are not known from a real source
    top: tuple[tuple[str, int], ...]            # (title, episodes), most first
    biggest_day: tuple[date, int, str] | None   # (day, episodes, the show most of them were)
    streak: int                                 # the most days in a row with something watched
    tastes: tuple[TasteShift, ...]              # every persona with plays this year or last, largest first
    grew: TasteShift | None
    faded: TasteShift | None
    new_taste: TasteShift | None                # a persona that barely existed before this year
    chart: Chart | None = None
    years: tuple[int, ...] = ()                 # the years with any plays (for "try /stats year 2024")


# -- the owner's media server and Seerr (``engine.usecases.media``) ----------------------------------------------
class Outcome(StrEnum):
    PENDING = "pending"             # requested, waiting for approval
    APPROVED = "approved"           # requested and approved (auto-approve)
    ALREADY = "already"             # someone (maybe they) asked before
    AVAILABLE = "available"         # nothing left to request: it is all on the server
    QUOTA = "quota"                 # their Seerr quota is used up
    REFUSED = "refused"             # not allowed (permissions, blacklist)
    UNKNOWN_SHOW = "unknown_show"   # Seerr could not find the show
    NO_USER = "no_user"             # no Seerr user for their server user

    @property
    def requested(self) -> bool:
        return self in (Outcome.PENDING, Outcome.APPROVED)


@dataclass(frozen=True, slots=True)
class ServerLinkStart:
    """``/link jellyfin``: linked at once (the owner's mapping), or a code to confirm on the server."""
    server: str                     # "Jellyfin"
    linked_as: str | None = None
    code: str | None = None


@dataclass(frozen=True, slots=True)
class Requested:
    """What 📥 did: the show, and Seerr's answer."""
    title: str
    outcome: Outcome
