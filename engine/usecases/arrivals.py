"""Arrivals: a show on the person's watchlist, one of their recent picks, or one of the shows closest to one of their
personas arrives on one of their streaming services — or leaves it ("Severance is now on your Apple TV+").

Each alert scan compares where those shows stream in each person's country (TMDB's watch providers, refreshed with
the show's metadata) with what the previous scan saw (``provider_snapshots``). A difference is recorded once as a
change (``provider_changes``: show, country, service, direction, and the snapshot it differs from). Every person
whose services include that service, who has the show listed, was shown it lately or has a persona it is among the
ten closest unseen shows to, who has not watched, hidden or dismissed it, and did not turn arrivals off
(``/settings arrivals:off``), gets one alert per change — in their morning, like every alert. Changes stay eligible
for a week, so a scan that stopped half-way, or a show listed a day later, is still told once. A country the data
knows nothing about is never read as "left every service".
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from engine.plumbing.clock import Clock
from engine.store import Store
from engine.values.errors import ServiceUnavailable
from engine.values.models import AlertKind, Person

log = logging.getLogger(__name__)

Enrich = Callable[[Sequence[int]], Awaitable[int]]
FRESH = timedelta(days=7)          # how long a change may still be told


@dataclass(frozen=True, slots=True)
class Arrival:
    person_id: int
    show_id: int
    change_id: int
    service: str
    arrived: bool
    seen_at: datetime


class Arrivals:
    def __init__(self, store: Store, clock: Clock, *, region: str, enrich: Enrich | None = None,
                 rest_days: int = 60, matches: Callable[[int], Awaitable[set[int]]] | None = None) -> None:
        self.store = store
        self.matches = matches          # a person's personas' closest unseen shows (the recommender's)
        self.clock = clock
        self.region = region            # the deployment's default country (``tmdb.region``)
        self.enrich = enrich
        self.rest_days = rest_days      # a pick shown this recently is still "resting"

    async def scan(self, who: Mapping[int, Person], watched: set[tuple[int, int]],
                   hidden: set[tuple[int, int]]) -> list[Arrival]:
        people = {pid: p for pid, p in who.items() if p.settings.services and p.settings.alert_on(AlertKind.ARRIVAL)}
        if not people:
            return []
        now = self.clock.now()
        ids = list(people)
        async with self.store.read() as uow:
            listed = await uow.history.watchlist_pairs(ids)
            resting = await uow.providers.resting_picks(ids, now - timedelta(days=self.rest_days))
        close: set[tuple[int, int]] = set()
        for pid in ids if self.matches is not None else []:
            assert self.matches is not None
            close |= {(pid, sid) for sid in await self.matches(pid)}
        pairs = sorted((listed | resting | close) - watched - hidden)
        if not pairs:
            return []
        region = {pid: p.settings.region or self.region for pid, p in people.items()}
        shows = sorted({sid for _, sid in pairs})
        if self.enrich is not None:
            try:
                for i in range(0, len(shows), 500):
                    await self.enrich(shows[i:i + 500])
            except ServiceUnavailable as e:
                log.warning("arrivals: metadata unavailable (%s); using what is cached", e)
        async with self.store.read() as uow:
            records = await uow.shows.many(shows)
        current: dict[tuple[int, str], list[str]] = {}
        for pid, sid in pairs:
            r, key = records.get(sid), (sid, region[pid])
            if r is None or not r.has_meta or r.meta.empty or r.meta.region_unknown(key[1]) or key in current:
                continue
            current[key] = sorted(set(r.meta.providers_in(key[1])))
        await self._record(current, now)
        async with self.store.read() as uow:
            changes = await uow.providers.recent(list(current), now - FRESH)
        by_key: dict[tuple[int, str], list[tuple[int, str, bool, datetime]]] = {}
        for cid, sid, reg, service, arrived, seen in changes:
            by_key.setdefault((sid, reg), []).append((cid, service, arrived, seen))
        out = []
        for pid, sid in pairs:
            mine = {s.casefold() for s in people[pid].settings.services}
            for cid, service, arrived, seen in by_key.get((sid, region[pid]), []):
                if service.casefold() in mine:
                    out.append(Arrival(pid, sid, cid, service, arrived, seen))
        return out

    async def _record(self, current: Mapping[tuple[int, str], list[str]], now: datetime) -> None:
        """Compare with the last snapshots: record each difference once, then keep what was seen."""
        async with self.store.unit() as uow:
            before = await uow.providers.snapshots(list(current))
            changed = []
            for key, names in current.items():
                prev = before.get(key)
                if prev is not None and prev[0] == names:
                    continue
                changed.append((key[0], key[1], names))
                if prev is None:
                    continue                      # first sight: nothing to compare with
                old, since = prev
                for service in sorted(set(names) ^ set(old)):
                    await uow.providers.change(key[0], key[1], service, service in names, since, now)
            await uow.providers.put_snapshots(changed, now)
