"""The opt-in weekly digest: a few fresh picks, how last week's picks fared, what airs this week; sent on the
person's own weekday and hour, outside quiet hours, claimed per person and ISO week so it goes out once."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

from engine.plumbing.clock import Clock
from engine.plumbing.config import FeedbackSettings
from engine.plumbing.leases import new_owner
from engine.store import Store
from engine.usecases.alerts import AlertService, Notifier, in_quiet, tz_of
from engine.values.alerts import Digest
from engine.values.errors import MultitudesError
from engine.values.i18n import speaking
from engine.values.models import RecommendationList, RecommendRequest

log = logging.getLogger(__name__)

Recommend = Callable[[RecommendRequest], Awaitable[RecommendationList]]


class DigestService:
    def __init__(self, store: Store, clock: Clock, settings: FeedbackSettings, alerts: AlertService,
                 recommend: Recommend) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.alerts = alerts
        self.recommend = recommend
        self.owner = new_owner()
        self.claim_minutes = alerts.settings.claim_minutes

    async def send(self, notifiers: Mapping[str, Notifier]) -> int:
        """Send the digest to everyone who opted in whose local weekday and hour have come and who has not had
        this week's: claimed per person and ISO week before the picks are computed (a process that dies then
        leaves it to be claimed again after ``alerts.claim_minutes``), marked sending before the platform call (a
        death after that loses it rather than sending it twice)."""
        now = self.clock.now()
        sent = 0
        async with self.store.read() as uow:
            people = [p for p in await uow.people.many() if p.settings.digest]
        for person in people:
            loc = now.astimezone(tz_of(person.timezone))
            if loc.weekday() != self.settings.digest_weekday or loc.hour < self.settings.digest_hour or in_quiet(
                    loc.hour, person.settings.quiet_hours):
                continue
            route = await self.alerts.route(person.id, person.settings, notifiers)
            if route is None:
                continue
            notifier, target = route
            y, w, _day = loc.isocalendar()
            week = f"{y}-W{w:02d}"
            async with self.store.unit() as uow:
                if not await uow.alerts.claim_digest(person.id, week, self.owner, now,
                                                     abandoned_before=now - timedelta(minutes=self.claim_minutes)):
                    continue
                shown, started = await uow.events.shown_and_started(person.id, now - timedelta(days=7))
            with speaking(person.settings.lang):           # the picks' reasons, in their language
                try:
                    picks: RecommendationList | None = await self.recommend(
                        RecommendRequest(person.id, k=3, platform=notifier.platform))
                except MultitudesError as e:
                    log.info("digest for person %s without picks: %s", person.id, e)
                    picks = None
            digest = Digest(person.id, week, picks, tuple(await self.alerts.upcoming(person.id, days=7)), shown,
                            started)
            async with self.store.unit() as uow:
                if not await uow.alerts.begin_digest(person.id, week, self.owner):
                    continue                                # computing took past the claim: another process has it
            try:
                with speaking(person.settings.lang):
                    await notifier.send_digest(target, digest)
            except Exception as e:   # one person's platform error must not stop the others
                log.warning("digest to person %s failed: %s", person.id, type(e).__name__)
                async with self.store.unit() as uow:
                    await uow.alerts.digest_skipped(person.id, week)
                continue
            async with self.store.unit() as uow:
                await uow.alerts.digest_sent(person.id, week, self.clock.now(), f"{notifier.platform}:{target}")
            sent += 1
        return sent
