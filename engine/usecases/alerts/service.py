"""The alert service: the scan and the delivery, and what a person's alerts look like from outside."""


from __future__ import annotations

import logging
from datetime import timedelta

from engine.plumbing.clock import Clock
from engine.plumbing.config import AlertSettings
from engine.plumbing.leases import new_owner
from engine.ports.trakt import TraktPort
from engine.store import Store
from engine.usecases.alerts.delivery import AlertDelivery
from engine.usecases.alerts.scan import AlertScan
from engine.usecases.alerts.values import Enrich, typed
from engine.usecases.arrivals import Arrivals
from engine.values.alerts import Alert
from engine.values.models import Upcoming

log = logging.getLogger(__name__)


class AlertService(AlertScan, AlertDelivery):
    def __init__(self, store: Store, clock: Clock, settings: AlertSettings, *, trakt: TraktPort | None = None,
                 enrich: Enrich | None = None, arrivals: Arrivals | None = None) -> None:
        self.store = store
        self.arrivals = arrivals      # shows of theirs arriving on (or leaving) their services
        self.clock = clock
        self.settings = settings
        self.trakt = trakt            # public calendars and related shows (None: TMDB dates only)
        self.enrich = enrich          # (show ids) -> how many got fresh metadata
        self.owner = new_owner()     # whose claims are whose

    async def upcoming(self, person_id: int, days: int = 60) -> list[Upcoming]:
        """Next episodes of shows the person watched or listed, from the cached metadata (soonest first)."""
        async with self.store.read() as uow:
            shows = await uow.shows.many(await uow.history.followed_shows(person_id))
        now = self.clock.now()
        out = []
        for sid, rec in shows.items():
            nxt = rec.meta.next_episode
            when = nxt.at if nxt is not None else None
            if nxt is None or when is None or not now.date() <= when.date() <= (now + timedelta(days=days)).date():
                continue
            kind = "premiere" if nxt.episode == 1 else ("finale" if nxt.is_finale else "episode")
            out.append(Upcoming(sid, rec.title, nxt.season, nxt.episode, when, kind))
        return sorted(out, key=lambda u: (u.air_date, u.title))

    async def counts(self) -> list[tuple[str, str, int]]:
        async with self.store.read() as uow:
            return await uow.alerts.counts()

    async def for_person(self, person_id: int) -> list[Alert]:
        async with self.store.read() as uow:
            return [typed(r) for r in await uow.alerts.of_person(person_id)]
