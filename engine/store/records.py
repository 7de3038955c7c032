"""What the repositories hand back: typed records, never driver rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.values.meta import EMPTY, ShowMeta
from engine.values.models import FeedbackKind, Mode, ShowIds, ShowRef


@dataclass(frozen=True, slots=True)
class ShowRecord:
    id: int
    ids: ShowIds
    title: str
    year: int | None
    aired_episodes: int | None
    meta: ShowMeta = EMPTY
    has_meta: bool = False               # a metadata row exists (possibly empty: unknown to the source)
    meta_expires_at: datetime | None = None
    verified: bool = True                # named by a trusted source (an upload alone: False)

    @property
    def trusted_ids(self) -> ShowIds:
        """The ids links, watchlist writes and outside look-ups may use: all of them once a trusted source named the
        show; before that none (what a file claims could point anywhere)."""
        return self.ids if self.verified else ShowIds()

    @property
    def ref(self) -> ShowRef:
        return ShowRef(self.ids, self.title, self.year, self.aired_episodes)


@dataclass(frozen=True, slots=True)
class WatchRow:
    show_id: int
    season: int
    episode: int | str | None            # the number, or the title when an import knows only that
    at: datetime
    timed: bool = True                   # False: the source gave a date only (``at`` is a placeholder time)


@dataclass(frozen=True, slots=True)
class PlayRow:
    """A stored play, as it is kept."""
    show_id: int
    season: int
    episode: int | None
    episode_title: str | None
    watched_at: datetime
    history_id: int | None
    source: str


@dataclass(frozen=True, slots=True)
class SyncState:
    activities: dict[str, Any] = field(default_factory=dict)   # section -> timestamp already synced
    history_cursor: str | None = None
    job: dict[str, Any] | None = None                          # an unfinished history job (resume point)
    lease_owner: str | None = None
    lease_until: datetime | None = None
    last_started_at: datetime | None = None
    last_finished_at: datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class NewEvent:
    """A pick about to be shown."""
    person_id: int
    show_id: int
    request_id: str
    strategy: str
    persona_id: int | None
    sources: tuple[str, ...]
    rank: int
    mode: Mode
    score: float | None
    reason: str
    llm: bool
    platform: str | None


@dataclass(frozen=True, slots=True)
class RecEvent:
    id: int
    person_id: int
    show_id: int
    request_id: str
    strategy: str
    persona_id: int | None
    sources: tuple[str, ...]
    rank: int
    mode: str
    shown_at: datetime
    platform: str | None
    message_ref: str | None
    reason: str | None = None
    llm: bool = False


@dataclass(frozen=True, slots=True)
class FeedbackState:
    kind: FeedbackKind
    active: bool
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class EventOutcome:
    """One shown pick and what became of it (for success rates and the bandit)."""
    strategy: str
    mode: str
    persona_id: int | None
    sources: tuple[str, ...]
    adoption: str | None                  # started | finished | None
    liked: bool
    not_for_me: bool
    worked: bool                          # started, liked, seen or listed


@dataclass(frozen=True, slots=True)
class AdoptionCandidate:
    event_id: int
    episodes: int
    aired: int
    state: str | None


@dataclass(frozen=True, slots=True)
class AlertRow:
    """An alert as stored; ``engine.usecases.alerts`` turns it into its typed kind."""
    id: int
    person_id: int
    show_id: int
    title: str
    year: int | None
    season: int
    kind: str
    event_at: datetime
    due_at: datetime
    expires_at: datetime
    payload: dict[str, Any]
    status: str
    attempts: int


@dataclass(frozen=True, slots=True)
class NewAlert:
    person_id: int
    show_id: int
    season: int
    kind: str
    event_at: datetime
    due_at: datetime
    expires_at: datetime
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ShowStatRow:
    show_id: int
    title: str
    year: int | None
    aired_episodes: int | None
    meta: ShowMeta
    plays: int
    episodes: int
    first: datetime | None
    last: datetime | None


@dataclass(frozen=True, slots=True)
class SeasonProgress:
    """Distinct episodes a person watched of one season of one show."""
    person_id: int
    show_id: int
    season: int
    episodes: int
    last: datetime | None


@dataclass(frozen=True, slots=True)
class MediaLink:
    """A person's media-server user and what their last sync saw."""
    person_id: int
    server: str
    server_user: str
    user_name: str | None
    played_total: int | None
    newest: str | None
    synced_at: datetime | None
