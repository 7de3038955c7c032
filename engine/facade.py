"""The Engine façade: the one object every front end talks to. It only delegates to the use-case services that
``bootstrap()`` builds; plain values in, plain values out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from engine.plumbing.clock import Clock
from engine.plumbing.config import Settings
from engine.services import Services
from engine.usecases.alerts import DeliveryReport, Notifier, ScanReport
from engine.usecases.crowd_refresh import CrowdWave, RefreshReport
from engine.usecases.publish import PublishReport
from engine.usecases.refresh import WaveReport
from engine.usecases.sync import Progress
from engine.usecases.trakt_writes import Rated
from engine.values.alerts import Alert
from engine.values.models import (
    Chart,
    DeviceLink,
    FeedbackKind,
    Filters,
    GroupTally,
    HistoryItem,
    ImportReport,
    Noted,
    PersonaReport,
    PersonSettings,
    RecommendationList,
    RecommendRequest,
    SyncReport,
    Upcoming,
)
from engine.values.plans import CalendarFile, NextUp, Requested, ServerLinkStart, Tonight, YearReview
from engine.values.stats import Learning, Rate, Stats


class Engine:
    def __init__(self, settings: Settings, clock: Clock, services: Services, *, demo: bool,
                 closers: Sequence[Callable[[], Awaitable[Any]]] = ()) -> None:
        self.settings = settings
        self.clock = clock
        self._s = services
        self.demo = demo                # no Trakt credentials: the bundled sample history, offline
        self._closers = list(closers)

    async def __aenter__(self) -> Engine:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        for c in self._closers:
            await c()
        await self._s.store.close()

    # -- people and settings ---------------------------------------------------------------------------------
    async def person(self, platform: str, platform_user_id: str, display_name: str | None = None) -> int:
        return await self._s.people.person(platform, platform_user_id, display_name)

    async def find_person(self, platform: str, platform_user_id: str) -> int:
        return await self._s.people.find(platform, platform_user_id)

    async def forget(self, person_id: int) -> None:  # everything: tokens revoked at Trakt, a link in progress dies
        self._s.linking.cancel(person_id)
        await self._s.people.forget(person_id)

    async def person_settings(self, person_id: int) -> PersonSettings:
        return await self._s.people.settings_of(person_id)

    async def update_settings(self, person_id: int, **changes: Any) -> PersonSettings:
        return await self._s.people.update_settings(person_id, **changes)   # bad values change nothing

    async def note_chat_member(self, platform: str, chat_id: str, person_id: int) -> None:
        await self._s.people.note_chat_member(platform, chat_id, person_id)

    async def set_group_opt_in(self, platform: str, chat_id: str, person_id: int, on: bool) -> None:
        await self._s.people.set_group_opt_in(platform, chat_id, person_id, on)

    async def group_members(self, platform: str, chat_id: str) -> list[tuple[int, str]]:  # opted in, in this chat
        return await self._s.people.group_members(platform, chat_id)

    def is_owner(self, platform: str, platform_user_id: str) -> bool:
        return self._s.people.is_owner(platform, platform_user_id)

    # -- Trakt linking -------------------------------------------------------------------------------------------
    async def start_link(self, person_id: int) -> DeviceLink:
        return await self._s.linking.start(person_id)

    async def poll_link(self, person_id: int, server: bool = False) -> str | None:  # the name once approved, or None
        return await (self._s.media.poll_link(person_id) if server else self._s.linking.poll(person_id))

    def link_poll_interval(self, person_id: int, default: float) -> float:
        return self._s.linking.poll_interval(person_id, default)

    async def link(self, person_id: int, on_code: Callable[[DeviceLink], Awaitable[None]]) -> str:
        return await self._s.linking.link(person_id, on_code)

    async def unlink(self, person_id: int, server: bool = False) -> bool:  # Trakt, or the media server
        return await (self._s.media.unlink(person_id) if server else self._s.linking.unlink(person_id))

    # -- sync, imports, reading back -------------------------------------------------------------------------
    async def sync(self, person_id: int, progress: Progress | None = None) -> SyncReport:
        return await self._s.library.sync(person_id, progress)

    async def sync_wave(self, notifiers: Mapping[str, Notifier]) -> WaveReport:  # revoked links are told, once
        bg = self._s.background
        return await bg.wave(partial(self._s.alerts.notify, notifiers=notifiers)) if bg else WaveReport()

    async def lead(self, name: str, owner: str, ttl: timedelta) -> bool:  # the scheduler's leadership lease
        return await self._s.leases.hold(name, owner, ttl)

    async def crowd_wave(self) -> CrowdWave:  # the scheduler's crowd refresh, within a budget
        return await self._s.crowd.wave()

    async def refresh_crowd(self, person_id: int, budget: int | None = None) -> RefreshReport:  # operators, tests
        return await self._s.crowd.refresh(person_id, budget=budget)

    async def crowd_lately(self, person_id: int) -> dict[int, list[str]]:
        return await self._s.recommender.crowd_lately(person_id)

    async def import_history(self, person_id: int, name: str, data: bytes, profile: str | None = None
                             ) -> ImportReport:  # profile: which one of a Netflix export's profiles
        return await self._s.library.import_history(person_id, name, data, profile)

    async def load_sample(self, person_id: int) -> ImportReport:
        return await self._s.library.load_sample(person_id)

    async def history(self, person_id: int, limit: int = 20, offset: int = 0) -> list[HistoryItem]:
        return await self._s.library.history(person_id, limit, offset)

    async def stats(self, person_id: int) -> Stats:
        return await self._s.stats.stats(person_id)

    async def year_review(self, person_id: int, year: int | None = None) -> YearReview:  # /stats year [2025]
        return await self._s.review.year(person_id, year)

    async def export(self, person_id: int) -> bytes:  # everything stored about them, JSON; sent back, it restores
        return await self._s.personal.export(person_id)

    async def search_titles(self, text: str, limit: int = 25, what: str = "shows") -> list[str]:  # autocomplete
        return await self._s.titles(text, limit, what)   # shows (``like:``) or services (``services:a,b``)

    # -- personas ------------------------------------------------------------------------------------------------
    async def personas(self, person_id: int, *, force: bool = False, stored: bool = False) -> PersonaReport:
        return await self._s.personas.report(person_id, force=force, stored=stored)  # stored: never computing

    async def persona_charts(self, person_id: int) -> list[Chart]:   # tastes over time, when they watch, the map
        return await self._s.personas.charts(person_id)

    # -- recommendations -----------------------------------------------------------------------------------------
    async def warm(self) -> None:  # build what every request shares now
        await self._s.recommender.deployments.current(fresh=True)

    async def recommend(self, req: RecommendRequest) -> RecommendationList:  # any mode, never a show seen
        return await self._s.recommender.recommend(req)

    async def group_recommend(self, person_ids: Sequence[int], chat: tuple[str, str], k: int = 3,
                              **when: Any) -> RecommendationList:  # filters=, closes_at=, event_at=
        return await self._s.group.group_for(person_ids, chat, k, **when)

    async def reroll_group(self, request_id: str, person_id: int, chat: tuple[str, str], k: int = 3
                           ) -> RecommendationList:
        return await self._s.group.reroll_group(request_id, person_id, chat, k)

    # -- feedback ------------------------------------------------------------------------------------------------
    async def group_vote(self, event_id: int, person_id: int, up: bool) -> GroupTally:  # the tally after one vote
        return await self._s.group.group_vote(event_id, person_id, up)

    async def attach_message(self, event_ids: Sequence[int], platform: str, message_ref: str) -> None:  # once sent
        await self._s.feedback.attach_message(event_ids, platform, message_ref)

    async def withdraw_picks(self, event_ids: Sequence[int]) -> int:  # undeliverable: recorded as never shown
        return await self._s.feedback.withdraw(event_ids)

    async def events_for_message(self, platform: str, message_ref: str) -> list[int]:  # a reaction's picks
        return await self._s.feedback.events_for_message(platform, message_ref)

    async def record_feedback(self, person_id: int, event_id: int, kind: FeedbackKind | str, active: bool = True,
                              at: datetime | None = None) -> Noted:
        """Set (or undo) feedback on a shown pick; idempotent, and a reordered older event changes nothing."""
        return await self._s.feedback.record(person_id, event_id, kind, active, at)

    async def dismiss(self, person_id: int, show_id: int) -> None:  # never recommend this show to them again
        await self._s.feedback.dismiss(person_id, show_id)

    async def success_rates(self, person_id: int | None = None, by: str = "strategy") -> list[Rate]:
        return (await self._s.feedback.rates_by(person_id, (by,)))[by]

    async def learning(self, person_id: int | None) -> Learning:  # what the feedback loop learned
        return await self._s.stats.learning(person_id)

    # -- the watching: next episodes, tonight, the release calendar ---------------------------------------------
    async def up_next(self, person_id: int) -> list[NextUp]:  # the next episode of each show in progress
        return await self._s.watching.up_next(person_id)

    async def tonight(self, person_id: int, minutes: int, filters: Filters | None = None, mood: str | None = None,
                      platform: str | None = None) -> Tonight:
        return await self._s.watching.tonight(person_id, minutes, filters=filters, mood=mood, platform=platform)

    # -- Trakt both ways (/settings trakt:write) ------------------------------------------------------------------
    async def rate(self, person_id: int, title: str, rating: int | None, event_id: int | None = None) -> Rated:
        return await self._s.trakt_writes.rate(person_id, title, rating, event_id)  # None: removed; event: a button

    async def mark_watched(self, person_id: int, event_id: int, upto: tuple[int, int] | None = None) -> tuple[str, int]:
        return await self._s.trakt_writes.mark_watched(person_id, event_id, upto)

    async def upcoming(self, person_id: int, days: int = 60) -> list[Upcoming]:
        return await self._s.alerts.upcoming(person_id, days)

    async def calendar(self, person_id: int, days: int = 60) -> CalendarFile:  # /upcoming ics
        return await self._s.watching.calendar(person_id, days)

    async def scan_alerts(self, person_ids: Sequence[int] | None = None) -> ScanReport:
        return await self._s.alerts.scan(person_ids)

    async def deliver_alerts(self, notifiers: Mapping[str, Notifier]) -> DeliveryReport:  # each exactly once
        return await self._s.alerts.deliver(notifiers)

    async def person_alerts(self, person_id: int) -> list[Alert]:
        return await self._s.alerts.for_person(person_id)

    async def alert_counts(self) -> list[tuple[str, str, int]]:  # (kind, status, how many), for operators
        return await self._s.alerts.counts()

    async def send_digests(self, notifiers: Mapping[str, Notifier]) -> int:  # once per person and week
        return await self._s.digests.send(notifiers)

    async def close_group_votes(self, notifiers: Mapping[str, Notifier]) -> int:  # deadlines passed: announced once
        return await self._s.group.announce_due(notifiers)

    # -- the owner's media server (Jellyfin, Emby) and Seerr ------------------------------------------------------
    async def link_server(self, person_id: int, kind: str) -> ServerLinkStart:  # the owner's mapping, or a code
        return await self._s.media.start_link(person_id, kind)

    async def request_pick(self, person_id: int, event_id: int) -> Requested:  # 📥: a Seerr request as them
        return await self._s.media.request(person_id, event_id)

    async def media_wave(self) -> tuple[int, int]:  # the scheduler's media.sync: (synced, failed)
        return await self._s.media.wave()

    async def publish(self, person_ids: list[int] | None = None) -> PublishReport:  # opted-in picks, out of the bot
        return await self._s.publisher.publish(person_ids)
