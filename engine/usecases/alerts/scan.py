"""The scan: who watches what, what is happening to those shows, and what each person should be told when."""


from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Literal

from engine.plumbing.clock import Clock
from engine.plumbing.config import AlertSettings
from engine.ports.trakt import TraktPort
from engine.store import Store
from engine.store.records import NewAlert
from engine.taste.temporal import BINGE, WEEKLY
from engine.usecases.alerts.values import (
    RELATED_PER_MONTH,
    Airing,
    Enrich,
    ScanReport,
    morning,
    overall_styles,
    tz_of,
    watch_style,
)
from engine.usecases.arrivals import FRESH as ARRIVAL_FRESH
from engine.usecases.arrivals import Arrivals
from engine.values.errors import MultitudesError, ServiceUnavailable
from engine.values.meta import ShowMeta
from engine.values.models import AlertKind, Person, ShowRef
from engine.values.times import iso, parse_ts

log = logging.getLogger(__name__)


class AlertScan:
    """Deciding alerts (``AlertService.scan``); the service provides what these annotations name."""
    store: Store
    clock: Clock
    settings: AlertSettings
    trakt: TraktPort | None
    enrich: Enrich | None
    arrivals: Arrivals | None

    async def scan(self, person_ids: Sequence[int] | None = None) -> ScanReport:
        now = self.clock.now()
        async with self.store.read() as uow:
            people = await uow.people.many(person_ids)
        who = {p.id: p for p in people if p.settings.alerts}
        if not who:
            return ScanReport(0, 0, 0, 0, 0)
        ids = list(who)
        # 1. who watches what, as counts per season (not every play: the scan reads O(people x shows x seasons))
        seen: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
        last: dict[tuple[int, int], datetime] = {}
        async with self.store.read() as uow:
            for sp in await uow.history.season_progress(ids):
                key = (sp.person_id, sp.show_id)
                seen[key][sp.season] = sp.episodes
                if sp.last is not None and (key not in last or sp.last > last[key]):
                    last[key] = sp.last
            listed = await uow.history.watchlist_pairs(ids)
            hidden = await uow.history.hidden_pairs(ids) | await uow.feedback.dismissed_pairs(ids)
        pairs = (set(seen) | listed) - hidden
        shows = sorted({sid for _, sid in pairs})
        # 2. shared look-ups: one metadata refresh per stale show, two calendar requests per scan
        fetched = 0
        if self.enrich is not None:
            for i in range(0, len(shows), 500):
                try:
                    fetched += await self.enrich(shows[i:i + 500])
                except ServiceUnavailable as e:
                    log.warning("alert scan: metadata unavailable (%s); using what is cached", e)
                    break
        async with self.store.read() as uow:
            records = await uow.shows.many(shows)
        metas: dict[int, tuple[ShowMeta, int | None]] = {sid: (r.meta, r.trusted_ids.trakt)
                                                         for sid, r in records.items()}
        premieres, finales, premiering = await self._calendars(now)
        # 3. what is happening per show, once, whoever watches it
        events = {sid: ev for sid, (meta, tid) in metas.items()
                  if (ev := self._show_events(now, meta, tid, premieres, finales)) != (None, None)}
        todo = sorted(p for p in pairs if p[1] in events)
        # 4. how each person watched those shows (binge or weekly), from their plays of those shows only
        styles = await self._styles(todo, who)
        async with self.store.read() as uow:
            overall = overall_styles(await uow.personas.reports(ids))
        decided: list[NewAlert] = []
        for pid, sid in todo:
            person = who[pid]
            meta = metas[sid][0]
            style = styles.get((pid, sid)) or overall.get(pid) or WEEKLY
            for kind, season, event_at, due_day, expires, payload in self._decide(
                    now, meta, events[sid], seen.get((pid, sid), {}), last.get((pid, sid)), (pid, sid) in seen,
                    person.timezone, style):
                if not person.settings.alert_on(kind):
                    continue
                due = morning(due_day, tz_of(person.timezone), self.settings.morning_hour,
                              person.settings.quiet_hours, now)
                if due >= expires:
                    continue
                decided.append(NewAlert(pid, sid, season, kind, event_at, due, expires, payload))
        decided += await self._related_catchups(now, who, seen, hidden, metas, premiering)
        decided += await self._arrivals(now, who, set(seen), hidden)
        async with self.store.unit() as uow:
            created, updated = await uow.alerts.save(decided, now)
        return ScanReport(len(who), len(shows), fetched, created, updated)

    async def _arrivals(self, now: datetime, who: Mapping[int, Person], watched: set[tuple[int, int]],
                        hidden: set[tuple[int, int]]) -> list[NewAlert]:
        """One alert per person and provider change (``engine.usecases.arrivals``), in their morning, for a week."""
        out: list[NewAlert] = []
        for a in await self.arrivals.scan(who, watched, hidden) if self.arrivals is not None else []:
            person = who[a.person_id]
            tz = tz_of(person.timezone)
            due = morning(now.astimezone(tz).date(), tz, self.settings.morning_hour, person.settings.quiet_hours, now)
            expires = a.seen_at + ARRIVAL_FRESH
            if due < expires:
                out.append(NewAlert(a.person_id, a.show_id, -a.change_id, AlertKind.ARRIVAL, a.seen_at, due, expires,
                                    {"service": a.service, "arrived": a.arrived}))
        return out

    async def _related_catchups(self, now: datetime, who: Mapping[int, Person],
                                seen: Mapping[tuple[int, int], Mapping[int, int]], hidden: set[tuple[int, int]],
                                metas: Mapping[int, tuple[ShowMeta, int | None]],
                                shows: Mapping[int, tuple[ShowRef, Airing]]) -> list[NewAlert]:
        """"Catch up before the premiere" for a show the person has not started: a new season of it premieres
        soon and Trakt relates it to at least two shows they watched. One related-shows look-up per premiering
        show (cached), shared by everyone; at most ``RELATED_PER_MONTH`` such suggestions per person in 30
        days (the best overlaps first), so it stays a suggestion, not a stream."""
        s = self.settings
        if self.trakt is None or not shows:
            return []
        watched_by: dict[int, dict[int, int]] = defaultdict(dict)      # person -> trakt id -> episodes
        for (pid, sid), per in seen.items():
            tid = metas.get(sid, (None, None))[1]
            if tid:
                watched_by[pid][int(tid)] = sum(per.values())
        related: dict[int, set[int]] = {}
        for tid, (_, airing) in shows.items():
            if airing.season < 2 or not now <= airing.at <= now + timedelta(days=s.catchup_days):
                continue
            try:
                rel = await self.trakt.related(tid, 30)
            except (ServiceUnavailable, MultitudesError) as e:
                log.info("alert scan: related shows of %s unavailable: %s", tid, type(e).__name__)
                continue
            related[tid] = {r.ids.trakt for r in rel if r.ids.trakt}
        if not related:
            return []
        async with self.store.unit() as uow:
            internal = await uow.shows.upsert(show for tid, (show, _) in shows.items() if tid in related)
            titles = {t: r.title for t, r in (await uow.shows.by_trakt_ids(
                t for w in watched_by.values() for t in w)).items()}
            recent = await uow.alerts.related_catchups_since(now - timedelta(days=30))
        out: list[NewAlert] = []
        for pid, watched in watched_by.items():
            person = who[pid]
            room = RELATED_PER_MONTH - recent.get(pid, 0)
            if not person.settings.alert_on(AlertKind.CATCHUP) or room <= 0:
                continue
            liked = {t for t, eps in watched.items() if eps >= 3}
            scored = sorted(((len(related[tid] & liked), tid) for tid in related if tid not in watched), reverse=True)
            for overlap, tid in [x for x in scored if x[0] >= 2][:room]:
                found = internal.get(("trakt", tid))
                if found is None or (pid, found) in hidden:
                    continue
                show, airing = shows[tid]
                episodes = int(show.aired_episodes or 0)
                zone = tz_of(person.timezone)
                prem_day = airing.at.astimezone(zone).date()
                start = max(now.date(), prem_day - timedelta(days=math.ceil(episodes * 45 / 90.0) + 1))
                due = morning(start, zone, s.morning_hour, person.settings.quiet_hours, now)
                if due >= airing.at:
                    continue
                because = [titles.get(t, "?") for t in sorted(related[tid] & liked)][:2]
                payload = {"title": show.title, "year": show.year, "air": iso(airing.at), "exact": True,
                           "season": airing.season, "episodes_left": episodes, "started": False,
                           "related": because, "overlap": overlap}
                out.append(NewAlert(pid, found, airing.season, AlertKind.CATCHUP, airing.at, due, airing.at, payload))
        return out

    async def _styles(self, pairs: list[tuple[int, int]], who: Mapping[int, Person]) -> dict[tuple[int, int], str]:
        wanted = set(pairs)
        plays: dict[tuple[int, int], list[tuple[int, int | None, datetime]]] = defaultdict(list)
        async with self.store.read() as uow:
            rows = await uow.history.plays_of_shows(sorted({s for _, s in pairs}))
        for pid, sid, season, episode, at in rows:
            if (pid, sid) in wanted:
                plays[(pid, sid)].append((season, episode, at))
        out = {}
        for key, ps in plays.items():
            st = watch_style(ps, who[key[0]].timezone)
            if st:
                out[key] = st
        return out

    async def _calendars(self, now: datetime) -> tuple[dict[int, list[Airing]], dict[int, list[Airing]],
                                                       dict[int, tuple[ShowRef, Airing]]]:
        """Trakt's public premieres and finales calendars around now, by Trakt show id (two requests per scan,
        cached for the scan interval; Trakt calendars span at most 33 days), and the premiering shows as Trakt
        described them."""
        out: list[dict[int, list[Airing]]] = []
        premiering: dict[int, tuple[ShowRef, Airing]] = {}
        today = now.date()
        ttl = timedelta(hours=max(1.0, self.settings.scan_every_hours)) - timedelta(minutes=1)
        kinds: tuple[tuple[Literal["premieres", "finales"], date], ...] = (
            ("premieres", today - timedelta(days=1)), ("finales", today - timedelta(days=self.settings.finale_days)))
        for which, start in kinds:
            by_show: dict[int, list[Airing]] = defaultdict(list)
            if self.trakt is not None:
                try:
                    entries = await self.trakt.calendar(which, start, 33, ttl)
                except (ServiceUnavailable, MultitudesError) as err:
                    log.warning("alert scan: Trakt %s calendar unavailable: %s", which, type(err).__name__)
                    entries = []
                for entry in entries:
                    tid = entry.show.ids.trakt
                    assert tid is not None
                    a = Airing(entry.season, entry.episode, entry.first_aired, True)
                    by_show[tid].append(a)
                    if which == "premieres" and a.episode == 1:
                        premiering[tid] = (entry.show, a)
            out.append(by_show)
        return out[0], out[1], premiering

    def _show_events(self, now: datetime, meta: ShowMeta, trakt_id: int | None,
                     premieres: Mapping[int, list[Airing]], finales: Mapping[int, list[Airing]],
                     ) -> tuple[Airing | None, Airing | None]:
        """The show's next season premiere (S >= 2, not long past) and a season finale aired lately: Trakt's
        calendar time when it has one, TMDB's announced date otherwise."""
        if meta.empty:
            return None, None
        s = self.settings
        nxt = next((a for a in premieres.get(trakt_id or -1, []) if a.episode == 1 and a.at >= now - timedelta(
            hours=12)), None)
        tm = meta.next_episode
        if nxt is None and tm is not None and tm.episode == 1 and tm.season:
            day = tm.at
            if day is not None:
                nxt = Airing(tm.season, 1, day, False)
        if nxt is not None and (nxt.season < 2 or nxt.at < now - timedelta(hours=12) or
                                nxt.at > now + timedelta(days=max(s.catchup_days, s.premiere_days))):
            nxt = None
        fin = next((a for a in finales.get(trakt_id or -1, []) if now - timedelta(days=s.finale_days) <= a.at <= now),
                   None)
        le = meta.last_episode
        if fin is None and le is not None and le.is_finale and le.season:
            day = le.at
            if day is not None and now - timedelta(days=s.finale_days) <= day <= now:
                fin = Airing(le.season, le.episode or 0, day, False)
        return nxt, fin

    def _decide(self, now: datetime, meta: ShowMeta, events: tuple[Airing | None, Airing | None],
                seen_eps: Mapping[int, int], last_watched: datetime | None, watched: bool, tz: str | None,
                style: str) -> list[tuple[AlertKind, int, datetime, date, datetime, dict[str, Any]]]:
        s = self.settings
        nxt, fin = events
        out: list[tuple[AlertKind, int, datetime, date, datetime, dict[str, Any]]] = []
        local = tz_of(tz)
        aired = {int(x.season): int(x.episodes or 0) for x in meta.seasons if x.season and int(x.season) > 0}
        base = {"title": meta.display_title, "year": meta.first_year, "style": style,
                "network": meta.networks[0] if meta.networks else None}
        if nxt is not None:
            days_ahead = (nxt.at - now).total_seconds() / 86400
            prem_day = nxt.at.astimezone(local).date() if nxt.exact else nxt.at.date()
            behind = sum(max(0, aired.get(n, 0) - seen_eps.get(n, 0)) for n in range(1, nxt.season)) if aired else 0
            last_air = parse_ts(meta.last_air_date)
            gap = (nxt.at - last_air).days if last_air and last_air < nxt.at else 0
            payload = dict(base, air=iso(nxt.at), exact=nxt.exact, season=nxt.season)
            if behind and days_ahead <= s.catchup_days:
                # stopped midway (and not watching it these last two weeks), or listed and never started
                if not watched or last_watched is None or (now - last_watched).days >= 14:
                    runtime = float(meta.runtime or 45)
                    days_needed = math.ceil(behind * runtime / 90.0)       # about an hour and a half a day
                    start = max(now.date(), prem_day - timedelta(days=days_needed + 1))
                    out.append((AlertKind.CATCHUP, nxt.season, nxt.at, start, nxt.at,
                                dict(payload, episodes_left=behind, started=watched)))
            elif watched and gap >= s.returning_gap_days and days_ahead <= s.catchup_days:
                out.append((AlertKind.RETURNING, nxt.season, nxt.at, max(now.date(), prem_day - timedelta(days=7)),
                            nxt.at + timedelta(days=1), dict(payload, gap_days=gap)))
            elif watched and not behind and style != BINGE and days_ahead <= s.premiere_days:
                out.append((AlertKind.PREMIERE, nxt.season, nxt.at, prem_day, nxt.at + timedelta(days=2), payload))
        # a season that just finished: binge-ready for binge viewers who are caught up and have not started it
        if fin is not None and watched and style == BINGE and not seen_eps.get(fin.season):
            caught_up = all(seen_eps.get(n, 0) >= 0.8 * aired.get(n, 0) for n in range(1, fin.season)
                            if aired.get(n))
            if caught_up:
                after = (fin.at.astimezone(local).date() if fin.exact else fin.at.date()) + timedelta(days=1)
                episodes = aired.get(fin.season) or fin.episode
                out.append((AlertKind.BINGE, fin.season, fin.at, after, fin.at + timedelta(days=s.finale_days + 7),
                            dict(base, air=iso(fin.at), exact=fin.exact, season=fin.season, episodes=episodes)))
        return out
