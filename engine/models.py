"""Plain, frozen results the façade returns; front ends render them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .adapt import ArmState


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


@dataclass(frozen=True, slots=True)
class HistoryItem:
    title: str
    year: int | None
    season: int
    episode: int | None
    episode_title: str | None
    watched_at: datetime


@dataclass(frozen=True, slots=True)
class ShowStat:
    title: str
    year: int | None
    plays: int
    episodes: int
    aired_episodes: int | None
    last_watched_at: datetime

    @property
    def completion(self) -> float | None:
        if not self.aired_episodes:
            return None
        return min(1.0, self.episodes / self.aired_episodes)


@dataclass(frozen=True, slots=True)
class Rate:
    key: str
    shown: int
    started: int
    finished: int
    liked: int
    dismissed: int
    low: float                  # Wilson 95% interval of the started share
    high: float

    @property
    def started_share(self) -> float:
        return self.started / self.shown if self.shown else 0.0


@dataclass(frozen=True, slots=True)
class Alert:
    """A release-calendar alert for one person (kinds: premiere, binge, returning, catchup)."""
    id: int
    person_id: int
    show_id: int
    title: str
    year: int | None
    season: int
    kind: str
    event_at: datetime                  # the premiere or finale it is about
    due_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)   # episodes_left, gap_days, episodes, exact, network
    status: str = "pending"


@dataclass(frozen=True, slots=True)
class Digest:
    """The opt-in weekly digest: a few fresh picks, how last week's picks fared, what airs this week."""
    person_id: int
    week: str                           # ISO week in the person's time zone, e.g. 2026-W48
    picks: RecommendationList | None
    upcoming: tuple[Upcoming, ...]
    shown_last_week: int
    started_last_week: int


@dataclass(frozen=True, slots=True)
class Learning:
    """What the feedback loop knows (``person_id`` None: everyone's rates, for the bot owner)."""
    person_id: int | None
    rates: dict[str, list[Rate]]          # by strategy | mode | persona | source
    arms: tuple[ArmState, ...]            # the bandit's posteriors for this person


@dataclass(frozen=True, slots=True)
class Stats:
    plays: int
    shows: int
    episodes: int
    first_play: datetime | None
    last_play: datetime | None
    hours_watched: float
    ratings: int
    watchlist: int
    hidden: int
    top_shows: tuple[ShowStat, ...] = ()
    top_genres: tuple[tuple[str, int], ...] = ()
    plays_per_year: tuple[tuple[int, int], ...] = ()
    last_sync: datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)


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


@dataclass(frozen=True, slots=True)
class RecommendRequest:
    person_id: int
    mode: str = "auto"                  # auto | persona | all | bridge | like | mood
    persona: str | None = None          # persona name (or id as text) for mode persona / one side of a bridge
    bridge: tuple[str, str] | None = None
    like: str | None = None             # a show title for like:<show>
    mood: str | None = None
    filters: Filters = field(default_factory=Filters)
    k: int = 5
    use_context: bool = True            # time of day and weekday favour the personas usually watched then
    use_llm: bool = True
    platform: str | None = None


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


@dataclass(frozen=True, slots=True)
class RecommendationList:
    request_id: str
    mode: str
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
