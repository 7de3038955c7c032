"""Plain, frozen values the engine works with and the façade returns; front ends render them.

One vocabulary: ``Mode``, ``FeedbackKind`` and ``AlertKind`` are string enums whose values are what the store
keeps, so a typo is a type error rather than a silent mismatch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Mode(StrEnum):
    """How a list is made (``/recommend`` modes, plus group watch)."""

    AUTO = "auto"            # across the person's personas
    ALL = "all"              # one pick per persona
    PERSONA = "persona"      # one persona
    BRIDGE = "bridge"        # between two personas
    LIKE = "like"            # like one show
    MOOD = "mood"            # a mood in words
    GROUP = "group"          # several people
    CROWD = "crowd"          # only what the person's crowd (similar Trakt members) rates highly


class FeedbackKind(StrEnum):
    LIKED = "liked"
    NOT_FOR_ME = "not_for_me"
    SEEN = "seen"
    WATCHLIST = "watchlist"
    REQUESTED = "requested"     # 📥: asked the owner's Seerr for it (never a reaction; recorded by the request)

    @property
    def keeps_out(self) -> bool:
        """Feedback that keeps the show out of every future list (until undone)."""
        return self in (FeedbackKind.NOT_FOR_ME, FeedbackKind.SEEN)


# well-formed outside ids: the only ones a link, a watchlist write or a look-up is built from
IMDB_RE = re.compile(r"tt\d{5,10}")
SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

# a reaction that replaces the other on the same pick: 👍 after 👎 (or the reverse) is a change of mind, not both
OPPOSITE = {FeedbackKind.LIKED: FeedbackKind.NOT_FOR_ME, FeedbackKind.NOT_FOR_ME: FeedbackKind.LIKED}


@dataclass(frozen=True, slots=True)
class Noted:
    """What recording one piece of feedback did: whether anything changed (its truth value), the show it was
    about, and the earlier opposite reaction it replaced."""
    changed: bool
    title: str | None = None
    replaced: FeedbackKind | None = None
    offer_watched: bool = False         # 👀 with ``trakt:write``: ask whether to mark the show watched on Trakt

    def __bool__(self) -> bool:
        return self.changed


class AlertKind(StrEnum):
    PREMIERE = "premiere"
    BINGE = "binge"
    RETURNING = "returning"
    CATCHUP = "catchup"
    ARRIVAL = "arrival"         # a show of theirs arrives on (or leaves) one of their streaming services


@dataclass(frozen=True, slots=True)
class ShowIds:
    trakt: int | None = None
    tmdb: int | None = None
    imdb: str | None = None
    tvdb: int | None = None
    slug: str | None = None


@dataclass(frozen=True, slots=True)
class ShowRef:
    """A show as a source names it: ids, title, year and what Trakt says has aired."""

    ids: ShowIds
    title: str
    year: int | None = None
    aired_episodes: int | None = None


@dataclass(frozen=True, slots=True)
class Play:
    show: ShowRef
    season: int
    episode: int | None
    watched_at: datetime
    history_id: int | None = None
    action: str | None = None
    episode_title: str | None = None
    stamp: str | None = None            # ``watched_at`` as ``clock.iso`` writes it, when the source sent that form
    item: str | None = None             # the source's own id of the episode (a media server's item id)


@dataclass(frozen=True, slots=True)
class DeviceLink:
    user_code: str
    verification_url: str
    expires_at: datetime
    interval_s: int

    @property
    def direct_url(self) -> str:
        return f"{self.verification_url.rstrip('/')}/{self.user_code}"


@dataclass(frozen=True, slots=True)
class SyncReport:
    new_plays: int = 0
    removed_plays: int = 0
    shows_touched: int = 0
    ratings: int = 0
    watchlist: int = 0
    hidden: int = 0
    requests: int = 0
    sections: tuple[str, ...] = ()
    enriched: int = 0
    unchanged: bool = False
    source: str = "trakt"


@dataclass(frozen=True, slots=True)
class ImportReport:
    kind: str
    plays_added: int
    plays_seen: int
    shows: int
    ratings: int = 0
    watchlist: int = 0
    unmatched: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    not_looked_up: tuple[str, ...] = ()    # titles past the look-up bound (``imports.max_lookups``)
    rows: int = 0                           # a file of rows (Netflix): rows read, and where each one went —
    bad: tuple[str, ...] = ()               # unreadable rows ("line N: why"), skipped
    rows_unmatched: int = 0                 # plays_seen + len(skipped) + len(bad) + rows_unmatched
    rows_not_looked_up: int = 0             #   + rows_not_looked_up == rows
    extras: int = 0                         # Netflix's full export: trailers, recaps, sessions under two minutes


@dataclass(frozen=True, slots=True)
class HistoryItem:
    title: str
    year: int | None
    season: int
    episode: int | None
    episode_title: str | None
    watched_at: datetime
    timed: bool = True                  # False: the source gave only the date


@dataclass(frozen=True, slots=True)
class PersonaShow:
    show_id: int
    title: str
    year: int | None
    weight: float


@dataclass(frozen=True, slots=True)
class Persona:
    """One taste of a person. ``id`` stays the same across recomputations while the taste persists."""

    id: int
    name: str
    description: str
    weight: float                       # share of the person's positive engagement
    medoid: PersonaShow                 # the most typical show
    shows: tuple[PersonaShow, ...]      # representatives after the medoid
    size: int
    genres: tuple[str, ...]
    style: str                          # binge | weekly | mixed | casual
    binge_share: float
    weekly_share: float
    when: str                           # "weekday evenings", …
    hours: tuple[float, ...]            # share of plays per local hour
    weekdays: tuple[float, ...]         # share per weekday, Monday first
    trend: str                          # emerging | steady | fading | new | dormant
    timeline: tuple[float, ...]         # share of plays per period (PersonaReport.periods)
    cohesion: float
    member_ids: tuple[int, ...]
    member_weights: tuple[float, ...] = ()  # engagement per member, in ``member_ids`` order


@dataclass(frozen=True, slots=True)
class Chart:
    name: str            # taste | when | map
    caption: str
    png: bytes


@dataclass(frozen=True, slots=True)
class PersonaReport:
    person_id: int
    personas: tuple[Persona, ...]
    periods: tuple[str, ...]
    computed_at: datetime


@dataclass(frozen=True, slots=True)
class Filters:
    genres_in: tuple[str, ...] = ()
    genres_out: tuple[str, ...] = ()
    anime: bool | None = None           # True: only anime, False: no anime
    max_runtime: int | None = None
    min_runtime: int | None = None
    language: str | None = None
    provider: str | None = None
    status: str | None = None           # airing | ended
    region: str | None = None           # the person's country: ``provider`` and "where to watch" read its list
    services: tuple[str, ...] = ()      # ``provider:mine``: streaming on one of these (exact names) in ``region``

    def over(self, defaults: Filters) -> Filters:
        """These filters on top of a person's defaults: genres add up, anything set here wins."""
        return Filters(
            tuple(dict.fromkeys((*defaults.genres_in, *self.genres_in))),
            tuple(dict.fromkeys((*defaults.genres_out, *self.genres_out))),
            self.anime if self.anime is not None else defaults.anime,
            self.max_runtime if self.max_runtime is not None else defaults.max_runtime,
            self.min_runtime if self.min_runtime is not None else defaults.min_runtime,
            self.language or defaults.language, self.provider or defaults.provider, self.status or defaults.status,
            self.region or defaults.region, self.services or defaults.services)

    @property
    def empty(self) -> bool:
        return self == Filters()


@dataclass(frozen=True, slots=True)
class RecommendRequest:
    person_id: int
    mode: Mode = Mode.AUTO
    persona: str | None = None          # persona name (or id as text) for mode persona / one side of a bridge
    bridge: tuple[str, str] | None = None
    like: str | None = None             # a show title for like:<show>
    mood: str | None = None
    filters: Filters = field(default_factory=Filters)
    k: int = 5
    use_context: bool = True            # time of day and weekday favour the personas usually watched then
    use_llm: bool = True
    platform: str | None = None
    apply_defaults: bool = True         # the person's default filters (settings) under ``filters``
    library: bool = False               # only shows the person's media server has (``recommend library``)
    lang: str | None = None             # their app's language (BCP 47); ``settings.lang`` comes first


@dataclass(frozen=True, slots=True)
class Recommendation:
    show_id: int
    title: str
    year: int | None
    persona_id: int | None
    persona_name: str | None
    reason: str
    score: float
    sources: tuple[str, ...]
    rank: int
    event_id: int = 0
    overview: str = ""
    genres: tuple[str, ...] = ()
    network: str | None = None
    providers: tuple[str, ...] = ()
    poster_url: str | None = None
    trakt_url: str | None = None
    tmdb_url: str | None = None
    status: str | None = None
    lifecycle: str | None = None        # "new season airing", "binge-ready", …
    strategy: str = "blend"             # which ranking chose it: blend | taste | crowd | llm | group
    trakt_id: int | None = None
    tmdb_id: int | None = None
    imdb_id: str | None = None
    scores: tuple[tuple[str, str], ...] = ()    # critic reception: ("IMDb", "8.7"), ("Rotten Tomatoes", "94%"), …
    imdb_url: str | None = None
    runtime: int | None = None          # minutes an episode
    where_unknown: str | None = None    # a region the data knows nothing about ("GB"): the card says so
    yours: tuple[str, ...] = ()         # the person's own services it streams on (``/settings services:``)
    region: str | None = None           # the country "where to watch" is about
    rent_buy: tuple[str, ...] = ()      # not streaming there, but rented or sold by these
    in_library: bool | None = None      # on the person's media server (None: they linked none)
    requestable: bool = False           # not there, and the owner's Seerr takes requests: a 📥 button


@dataclass(frozen=True, slots=True)
class GroupTally:
    """Where a group watch's vote stands after one vote: this pick's count, and the result once every member
    voted on every pick."""
    request_id: str
    rank: int
    title: str
    up: int
    down: int
    members: int
    voted: int                          # members who voted on this pick
    done: bool = False                  # everyone voted on every pick
    winner: str | None = None           # the pick with the most 👍 minus 👎 (ties: the higher-ranked)
    winner_up: int = 0
    winner_down: int = 0
    announce: bool = False              # this vote completed the tally: say the result (exactly once)
    event_at: datetime | None = None    # when they watch the winner (``/groupwatch at:21:00``)


@dataclass(frozen=True, slots=True)
class RecommendationList:
    request_id: str
    mode: Mode
    items: tuple[Recommendation, ...]
    note: str = ""                      # e.g. why fewer picks than asked, or how a mood was read
    llm_used: bool = False
    llm_calls: int = 0
    prompt_tokens: int = 0


@dataclass(frozen=True, slots=True)
class Upcoming:
    show_id: int
    title: str
    season: int | None
    episode: int | None
    air_date: datetime
    kind: str                           # premiere | episode | finale


class PersonSettings(BaseModel):
    """A person's choices, typed. Stored as JSON on the person; the time zone lives beside it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    group_opt_in: bool = False
    share_cowatch: bool = False         # their history may shape co-watching picks for others (never shown)
    timezone: str | None = None
    quiet_hours: tuple[int, int] | None = None
    alerts: bool = True
    alert_premiere: bool = True
    alert_binge: bool = True
    alert_returning: bool = True
    alert_catchup: bool = True
    alert_arrival: bool = True          # ``arrivals:off``
    trakt_watchlist: bool = False
    trakt_write: bool = False           # 👀 may mark watched, /rate and 👎 reach their Trakt account too
    publish: bool = False               # their current picks as a Trakt list and a collection on the media server
    digest: bool = False
    alert_channel: str = ""             # "platform:chat id" where alerts go; empty: privately
    region: str | None = Field(None, pattern=r"^[A-Z]{2}$")   # ISO 3166-1 country for "where to watch"
    default_filters: Filters = Filters()
    services: tuple[str, ...] = Field((), max_length=30)     # streaming services they have, as TMDB names them
    lang: str | None = Field(None, max_length=20)   # BCP 47 (``fr``, ``pt-BR``): titles and overviews in it; None:
                                                    # their app's language (Telegram's, Discord's), else English

    @field_validator("default_filters", mode="before")
    @classmethod
    def _legacy_filters(cls, v: Any) -> Any:
        if v is None:                         # (tokens stored by older versions are parsed by the store)
            return Filters()
        return v

    @field_validator("quiet_hours", mode="before")
    @classmethod
    def _quiet(cls, v: Any) -> Any:
        if v is None or v in ([], ()):
            return None
        a, b = (int(x) for x in v)
        if not (0 <= a < 24 and 0 <= b < 24):
            raise ValueError("quiet hours are two hours from 0 to 23")
        return (a, b)

    def alert_on(self, kind: AlertKind) -> bool:
        return self.alerts and bool(getattr(self, f"alert_{kind.value}"))

    def stored(self) -> dict[str, Any]:
        """The JSON kept on the person (the time zone has its own column)."""
        d = self.model_dump(mode="json", exclude={"timezone"})
        return d


SETTING_NAMES = tuple(n for n in PersonSettings.model_fields)


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    display_name: str | None
    timezone: str | None
    trakt_user: str | None
    trakt_vip: bool
    watchlist_limit: int | None
    settings: PersonSettings
    created_at: datetime | None = None
