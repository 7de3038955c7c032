"""The delivery: due alerts claimed in batches, checked again, sent once, where the person wants them."""


from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta

from engine.plumbing.clock import Clock
from engine.plumbing.config import AlertSettings
from engine.store import Store
from engine.store.records import AlertRow
from engine.usecases.alerts.values import (
    CLAIM_BATCH,
    MAX_ATTEMPTS,
    RUN_LIMIT,
    DeliveryReport,
    Notifier,
    allowed_at,
    typed,
    tz_of,
)
from engine.values.i18n import _, speaking
from engine.values.models import AlertKind, Person, PersonSettings

log = logging.getLogger(__name__)


class AlertDelivery:
    """Sending what the scan decided (``AlertService.deliver``); the service provides what these annotations name."""
    store: Store
    clock: Clock
    settings: AlertSettings
    owner: str

    async def deliver(self, notifiers: Mapping[str, Notifier]) -> DeliveryReport:
        now = self.clock.now()
        outcomes: Counter[str] = Counter()
        after: tuple[datetime, int] | None = None
        seen = 0
        abandoned = now - timedelta(minutes=self.settings.claim_minutes)
        while seen < RUN_LIMIT:
            async with self.store.unit() as uow:
                rows = await uow.alerts.claim_due(now, self.owner, CLAIM_BATCH, abandoned_before=abandoned,
                                                  after=after)
            if not rows:
                break
            seen += len(rows)
            after = (rows[-1].due_at, rows[-1].id)
            async with self.store.read() as uow:
                people = {p.id: p for p in await uow.people.many(sorted({r.person_id for r in rows}))}
            for r in rows:
                outcomes[await self._deliver_one(r, people.get(r.person_id), now, notifiers)] += 1
        return DeliveryReport(outcomes["sent"], outcomes["skipped"], outcomes["deferred"], outcomes["failed"])

    async def _deliver_one(self, r: AlertRow, person: Person | None, now: datetime,
                           notifiers: Mapping[str, Notifier]) -> str:
        """One claimed alert: skipped, deferred (back to pending), sent, failed — or "lost" when the claim lapsed
        and another process took the row."""
        if person is None:
            return "lost"                                      # forgotten since: the row went with the person
        prefs = person.settings
        reason = None
        if not prefs.alert_on(AlertKind(r.kind)):
            reason = "opted out"
        elif r.expires_at <= now:
            reason = "stale: the moment passed while nothing could send it"
        if reason:
            async with self.store.unit() as uow:
                await uow.alerts.skip(r.id, reason)
            return "skipped"
        ok_at = allowed_at(now, tz_of(person.timezone), prefs.quiet_hours)
        route = None if ok_at > now else await self.route(r.person_id, prefs, notifiers)
        if route is None:           # quiet hours now (maybe changed since the scan), or no front end reaches them here
            async with self.store.unit() as uow:
                await uow.alerts.release(r.id, self.owner, ok_at if ok_at > now else None)
            return "deferred"
        notifier, target = route
        async with self.store.unit() as uow:
            if not await uow.alerts.begin(r.id, self.owner):
                return "lost"
        try:
            with speaking(prefs.lang):                     # in their language, like everything they read
                ref = await notifier.send_alert(target, typed(r))
        except Exception as e:   # a platform error must not stop the others; retried a few times
            attempts = r.attempts + 1
            async with self.store.unit() as uow:
                await uow.alerts.failed(r.id, attempts, attempts >= MAX_ATTEMPTS, f"send failed: {type(e).__name__}")
            log.warning("alert %s to %s failed (%s), attempt %s", r.id, notifier.platform, type(e).__name__,
                        attempts)
            return "failed"
        async with self.store.unit() as uow:
            await uow.alerts.sent(r.id, self.clock.now(), f"{notifier.platform}:{target}", ref)
        return "sent"

    async def notify(self, person_id: int, text: str, notifiers: Mapping[str, Notifier]) -> bool:
        """Tell a person something where their alerts go (``text``: a catalogue message, read in their language);
        False when no front end reaches them now."""
        async with self.store.read() as uow:
            person = await uow.people.get(person_id)
        if person is None:
            return False
        route = await self.route(person_id, person.settings, notifiers)
        if route is None:
            return False
        notifier, target = route
        with speaking(person.settings.lang):
            await notifier.send_notice(target, _(text))
        return True

    async def route(self, person_id: int, prefs: PersonSettings,
                    notifiers: Mapping[str, Notifier]) -> tuple[Notifier, str] | None:
        """Where a person's alerts go: the chat they chose (``alert_channel`` "platform:chat id"), else a direct
        message on the platform they used most recently."""
        chosen = prefs.alert_channel
        if ":" in chosen:
            platform, target = chosen.split(":", 1)
            if platform in notifiers:
                return notifiers[platform], f"channel:{target}"
        async with self.store.read() as uow:
            identities = await uow.people.identities(person_id)
        for platform, uid in identities:
            if platform in notifiers:
                return notifiers[platform], f"user:{uid}"
        return None
