"""The use-case services ``bootstrap()`` builds and the façade delegates to, in one typed bundle."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from engine.plumbing.leases import Leases
from engine.recommend.group import GroupWatch
from engine.recommend.service import Recommender
from engine.store import Store
from engine.taste.service import PersonaService
from engine.usecases.alerts import AlertService
from engine.usecases.crowd_refresh import CrowdService
from engine.usecases.digests import DigestService
from engine.usecases.feedback import FeedbackService
from engine.usecases.library import LibraryService
from engine.usecases.linking import LinkingService
from engine.usecases.media import MediaServers
from engine.usecases.people import PeopleService
from engine.usecases.personal_data import PersonalData
from engine.usecases.publish import Publisher
from engine.usecases.refresh import BackgroundSync
from engine.usecases.review import ReviewService
from engine.usecases.stats import StatsService
from engine.usecases.trakt_writes import TraktWriter
from engine.usecases.watching import Watching


@dataclass
class Services:
    store: Store
    people: PeopleService
    linking: LinkingService
    library: LibraryService
    background: BackgroundSync | None
    crowd: CrowdService
    leases: Leases
    personas: PersonaService
    recommender: Recommender
    group: GroupWatch
    feedback: FeedbackService
    alerts: AlertService
    digests: DigestService
    stats: StatsService
    watching: Watching
    personal: PersonalData
    review: ReviewService
    trakt_writes: TraktWriter
    media: MediaServers
    publisher: Publisher
    titles: Callable[[str, int, str], Awaitable[list[str]]]
