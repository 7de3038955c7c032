"""Release-calendar alerts: a scan that decides, a delivery that sends exactly once.

**Scan** (every ``alerts.scan_every_hours``, for everyone with alerts on). The cost grows with shows, not with
people × shows: one query finds every person's shows (watched or listed, not hidden), show metadata is refreshed
only where its cache ran out (``next_episode``, ``last_episode``, ``status``, seasons; 24 h for airing shows, 30 days
for ended ones) and shared by everyone who watches the show, and Trakt's public calendars (premieres, finales) are
two requests per scan, cached. Then, per person and show:

* **catchup** — a season premieres within ``catchup_days`` and the person is behind (stopped midway, or the show is
  on their watchlist and not started): "N episodes to go before S3 starts on …", due early enough to catch up;
* **returning** — a premiere after ``returning_gap_days`` or more without new episodes, a week ahead;
* **premiere** — weekly viewers (how they watched this show; else their overall style), the morning of the day;
* **binge** — binge viewers, the morning after a season's finale, when the whole season is out.

Each becomes at most one row per person, show, season and kind (``alerts``), due at the person's
``morning_hour`` in their time zone and outside their quiet hours.

**Delivery** (every ``alerts.deliver_every_minutes``): due rows are re-checked (opted out since? stale? quiet hours
now?), *claimed* (pending -> sending in one statement), sent through the front end's notifier, then marked sent. A
restart between scan and send sends once; a crash between claim and send leaves the row claimed and unsent rather
than risk a duplicate.
"""

from __future__ import annotations

import json
import logging
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .clock import Clock, iso, parse_ts
from .config import AlertSettings
from .errors import MultitudesError, ServiceUnavailable
from .models import Alert, Digest, ShowIds, ShowRef
from .store import Store
from .taste.history import Watch
from .taste.temporal import BINGE, WEEKLY, season_style

log = logging.getLogger(__name__)

KINDS = ("premiere", "binge", "returning", "catchup")
MAX_ATTEMPTS = 3
RELATED_PER_MONTH = 2


class Notifier(Protocol):
    """What a front end provides so scheduled messages reach people (the engine never imports a platform)."""
    platform: str

    async def send_alert(self, target: str, alert: Alert) -> str:
        """Send to ``target`` ("user:<id>" for a direct message, "channel:<id>"); return a message reference."""
        ...

    async def send_digest(self, target: str, digest: Digest) -> str:
        """The weekly digest, same targets. Picks are sent like /recommend's, each attached to its message
        (``Engine.attach_message``) so buttons and reactions on them count as feedback."""
        ...


@dataclass(frozen=True, slots=True)
class ScanReport:
    people: int
    shows: int
    metadata_fetched: int
    created: int
    updated: int


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int
    skipped: int
    deferred: int
    failed: int


@dataclass(frozen=True, slots=True)
class Airing:
    season: int
    episode: int
    at: datetime
    exact: bool            # a Trakt calendar time, not a TMDB date


def tz_of(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def in_quiet(hour: int, quiet: Sequence[int] | None) -> bool:
    if not quiet or len(quiet) != 2:
        return False
    a, b = int(quiet[0]), int(quiet[1])
    if a == b:
        return False
    return a <= hour < b if a < b else (hour >= a or hour < b)


def allowed_at(t: datetime, tz: ZoneInfo, quiet: Sequence[int] | None) -> datetime:
    """``t``, or the end of the quiet hours it falls in (the person's own clock)."""
    loc = t.astimezone(tz)
    if not in_quiet(loc.hour, quiet):
        return t
    assert quiet is not None
    end = loc.replace(hour=int(quiet[1]), minute=0, second=0, microsecond=0)
    if end <= loc:
        end += timedelta(days=1)
    return end.astimezone(t.tzinfo)


def morning(day: date, tz: ZoneInfo, hour: int, quiet: Sequence[int] | None, now: datetime) -> datetime:
    """``hour`` o'clock on ``day`` in the person's zone (not before now), moved out of their quiet hours."""
    t = datetime.combine(day, time(hour), tz).astimezone(now.tzinfo)
    return allowed_at(max(t, now), tz, quiet)


def _chunks(xs: Sequence[int], n: int = 900) -> list[list[int]]:
    """SQLite takes at most ~32k parameters per statement; stay far below."""
    return [list(xs[i:i + n]) for i in range(0, len(xs), n)]


def _style(plays: list[tuple[int, int | None, datetime]], tz: str | None) -> str | None:
    by_season: dict[int, list[Watch]] = defaultdict(list)
    for season, ep, at in plays:
        by_season[season].append(Watch(season=season, episode=ep, at=at))
    counts: dict[str, int] = defaultdict(int)
    for ws in by_season.values():
        counts[season_style(ws, tz)] += len(ws)
    best = max(((n, s) for s, n in counts.items() if s in (BINGE, WEEKLY)), default=None)
    return best[1] if best else None


class AlertService:
    def __init__(self, store: Store, clock: Clock, settings: AlertSettings, *, trakt: Any = None,
                 enrich: Any = None) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.trakt = trakt            # TraktClient or None: public calendars
        self.enrich = enrich          # async (show ids) -> int: refresh expired metadata

    # -- scan --------------------------------------------------------------------------------------------------
    async def scan(self, person_ids: Sequence[int] | None = None) -> ScanReport:
        now = self.clock.now()
        people = await self.store.all("SELECT id, timezone, settings FROM people" + (
            f" WHERE id IN ({','.join('?' * len(person_ids))})" if person_ids else ""), list(person_ids or ()))
        who = {int(r["id"]): (r["timezone"], json.loads(r["settings"] or "{}")) for r in people}
        who = {p: v for p, v in who.items() if v[1].get("alerts", True) is not False}
        if not who:
            return ScanReport(0, 0, 0, 0, 0)
        ids = list(who)
        # 1. who watches what, as counts per season (not every play: the scan reads O(people x shows x seasons))
        seen: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
        last: dict[tuple[int, int], datetime] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for r in await self.store.all(
                    "SELECT person_id, show_id, season, COUNT(DISTINCT COALESCE(episode, episode_title)), "
                    f"MAX(watched_at) FROM plays WHERE person_id IN ({marks}) AND season > 0 "
                    "GROUP BY person_id, show_id, season", chunk):
                key = (int(r[0]), int(r[1]))
                seen[key][int(r[2])] = int(r[3])
                at = parse_ts(r[4])
                if at is not None and (key not in last or at > last[key]):
                    last[key] = at
        listed: set[tuple[int, int]] = set()
        hidden: set[tuple[int, int]] = set()
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            listed |= {(int(r[0]), int(r[1])) for r in await self.store.all(
                f"SELECT person_id, show_id FROM watchlist WHERE person_id IN ({marks})", chunk)}
            hidden |= {(int(r[0]), int(r[1])) for r in await self.store.all(
                f"SELECT person_id, show_id FROM hidden WHERE person_id IN ({marks}) UNION SELECT person_id, "
                f"show_id FROM dismissed WHERE person_id IN ({marks})", chunk + chunk)}
        pairs = (set(seen) | listed) - hidden
        shows = sorted({sid for _, sid in pairs})
        # 2. shared look-ups: one metadata refresh per stale show, two calendar requests per scan
        fetched = 0
        if self.enrich is not None:
            for chunk in _chunks(shows, 500):
                try:
                    fetched += await self.enrich(chunk)
                except ServiceUnavailable as e:
                    log.warning("alert scan: metadata unavailable (%s); using what is cached", e)
                    break
        metas: dict[int, tuple[dict[str, Any], Any]] = {}
        for chunk in _chunks(shows):
            for r in await self.store.all(f"SELECT id, trakt_id, meta FROM shows WHERE id IN "
                                          f"({','.join('?' * len(chunk))})", chunk):
                metas[int(r["id"])] = (json.loads(r["meta"]) if r["meta"] else {}, r["trakt_id"])
        premieres, finales, premiering = await self._calendars(now)
        # 3. what is happening per show, once, whoever watches it
        events = {sid: ev for sid, (meta, tid) in metas.items()
                  if (ev := self._show_events(now, meta, tid, premieres, finales)) != (None, None)}
        todo = sorted(p for p in pairs if p[1] in events)
        # 4. how each person watched those shows (binge or weekly), from their plays of those shows only
        styles = await self._styles(todo, who)
        overall = await self._overall_styles(ids)
        rows: list[tuple[Any, ...]] = []
        for pid, sid in todo:
            tzname, prefs = who[pid]
            meta = metas[sid][0]
            style = styles.get((pid, sid)) or overall.get(pid) or WEEKLY
            for kind, season, event_at, due_day, expires, payload in self._decide(
                    now, meta, events[sid], seen.get((pid, sid), {}), last.get((pid, sid)), (pid, sid) in seen,
                    tzname, style):
                if prefs.get(f"alert_{kind}") is False:
                    continue
                due = morning(due_day, tz_of(tzname), self.settings.morning_hour, prefs.get("quiet_hours"), now)
                if due >= expires:
                    continue
                rows.append((pid, sid, season, kind, iso(event_at), iso(due), iso(expires),
                             json.dumps(payload), iso(now)))
        rows += await self._related_catchups(now, who, seen, hidden, metas, premiering)
        created, updated = await self._save(rows)
        return ScanReport(len(who), len(shows), fetched, created, updated)

    async def _related_catchups(self, now: datetime, who: Mapping[int, tuple[Any, Any]],
                                seen: Mapping[tuple[int, int], Mapping[int, int]], hidden: set[tuple[int, int]],
                                metas: Mapping[int, tuple[dict[str, Any], Any]],
                                shows: Mapping[int, tuple[dict[str, Any], Airing]]) -> list[tuple[Any, ...]]:
        """"Catch up before the premiere" for a show the person has not started: a new season of it premieres
        soon and Trakt relates it to at least two shows they watched. One related-shows look-up per premiering
        show (cached a week), shared by everyone; at most ``RELATED_PER_MONTH`` such suggestions per person in 30
        days (the best overlaps first), so it stays a suggestion, not a stream."""
        s = self.settings
        if self.trakt is None or not shows:
            return []
        watched_by: dict[int, dict[int, int]] = defaultdict(dict)      # person -> trakt id -> episodes
        for (pid, sid), per in seen.items():
            tid = metas.get(sid, ({}, None))[1]
            if tid:
                watched_by[pid][int(tid)] = sum(per.values())
        related: dict[int, set[int]] = {}
        for tid, (_, airing) in shows.items():
            if airing.season < 2 or not now <= airing.at <= now + timedelta(days=s.catchup_days):
                continue
            key = f"trakt:related:{tid}"
            rel = await self.store.cache_get(key, now)
            if rel is None:
                try:
                    rel = await self.trakt.get(f"/shows/{tid}/related", params={"limit": 30}) or []
                except (ServiceUnavailable, MultitudesError) as e:
                    log.info("alert scan: related shows of %s unavailable: %s", tid, type(e).__name__)
                    continue
                await self.store.cache_put(key, rel, now, now + timedelta(days=7))
            related[tid] = {int(r["ids"]["trakt"]) for r in rel if (r.get("ids") or {}).get("trakt")}
        if not related:
            return []
        refs = [ShowRef(ShowIds(trakt=tid, tmdb=ids.get("tmdb"), imdb=ids.get("imdb"), slug=ids.get("slug")),
                        show.get("title") or "?", show.get("year"), show.get("aired_episodes"))
                for tid, (show, _) in shows.items() if tid in related for ids in [show.get("ids") or {}]]
        internal = await self.store.upsert_shows(refs)
        titles = {int(r[0]): r[1] for r in await self.store.all(
            "SELECT trakt_id, title FROM shows WHERE trakt_id IN (" + ",".join(
                str(int(t)) for w in watched_by.values() for t in w) + ")")} if watched_by else {}
        recent = {int(r[0]): int(r[1]) for r in await self.store.all(
            "SELECT person_id, COUNT(*) FROM alerts WHERE kind='catchup' AND payload LIKE '%\"related\"%' AND "
            "created_at >= ? GROUP BY person_id", (iso(now - timedelta(days=30)),))}
        out: list[tuple[Any, ...]] = []
        for pid, watched in watched_by.items():
            tzname, prefs = who[pid]
            room = RELATED_PER_MONTH - recent.get(pid, 0)
            if prefs.get("alert_catchup") is False or room <= 0:
                continue
            liked = {t for t, eps in watched.items() if eps >= 3}
            scored = sorted(((len(related[tid] & liked), tid) for tid in related if tid not in watched), reverse=True)
            for overlap, tid in [x for x in scored if x[0] >= 2][:room]:
                found = internal.get(("trakt", tid))
                if found is None or (pid, found) in hidden:
                    continue
                sid = found
                show, airing = shows[tid]
                episodes = int(show.get("aired_episodes") or 0)
                prem_day = airing.at.astimezone(tz_of(tzname)).date()
                start = max(now.date(), prem_day - timedelta(days=math.ceil(episodes * 45 / 90.0) + 1))
                due = morning(start, tz_of(tzname), s.morning_hour, prefs.get("quiet_hours"), now)
                if due >= airing.at:
                    continue
                because = [titles.get(t, "?") for t in sorted(related[tid] & liked)][:2]
                payload = {"title": show.get("title"), "year": show.get("year"), "air": iso(airing.at),
                           "exact": True, "season": airing.season, "episodes_left": episodes, "started": False,
                           "related": because, "overlap": overlap}
                out.append((pid, sid, airing.season, "catchup", iso(airing.at), iso(due), iso(airing.at),
                            json.dumps(payload), iso(now)))
        return out

    async def _save(self, rows: list[tuple[Any, ...]]) -> tuple[int, int]:
        created = updated = 0
        async with self.store.tx() as db:
            for row in rows:
                async with db.execute("SELECT status, event_at, payload FROM alerts WHERE person_id=? AND show_id=? "
                                      "AND season=? AND kind=?", row[:4]) as cur:
                    have = await cur.fetchone()
                if have is None:
                    await db.execute(
                        "INSERT INTO alerts(person_id, show_id, season, kind, event_at, due_at, expires_at, payload, "
                        "created_at) VALUES (?,?,?,?,?,?,?,?,?)", row)
                    created += 1
                elif have[0] == "pending" and (have[1], have[2]) != (row[4], row[7]):   # the date moved
                    await db.execute("UPDATE alerts SET event_at=?, due_at=?, expires_at=?, payload=? WHERE "
                                     "person_id=? AND show_id=? AND season=? AND kind=?", (*row[4:8], *row[:4]))
                    updated += 1
        return created, updated

    async def _styles(self, pairs: list[tuple[int, int]], who: Mapping[int, tuple[Any, Any]]
                      ) -> dict[tuple[int, int], str]:
        wanted = set(pairs)
        plays: dict[tuple[int, int], list[tuple[int, int | None, datetime]]] = defaultdict(list)
        for chunk in _chunks(sorted({s for _, s in pairs})):
            for r in await self.store.all(
                    "SELECT person_id, show_id, season, episode, watched_at FROM plays WHERE season > 0 AND show_id "
                    f"IN ({','.join('?' * len(chunk))})", chunk):
                key = (int(r[0]), int(r[1]))
                at = parse_ts(r[4])
                if key in wanted and at is not None:
                    plays[key].append((int(r[2]), r[3], at))
        out = {}
        for key, ps in plays.items():
            st = _style(ps, who[key[0]][0])
            if st:
                out[key] = st
        return out

    async def _overall_styles(self, ids: list[int]) -> dict[int, str]:
        """A person's usual way of watching, from their personas (share of episodes binged)."""
        out = {}
        for chunk in _chunks(ids):
            rows = await self.store.all(
                f"SELECT person_id, report FROM persona_state WHERE person_id IN ({','.join('?' * len(chunk))})",
                chunk)
            for r in rows:
                personas = json.loads(r["report"]).get("personas") or []
                total = sum(float(p.get("weight") or 0) for p in personas) or 1.0
                binge = sum(float(p.get("weight") or 0) * float(p.get("binge_share") or 0) for p in personas) / total
                out[int(r["person_id"])] = BINGE if binge >= 0.5 else WEEKLY
        return out

    async def _calendars(self, now: datetime) -> tuple[dict[int, list[Airing]], dict[int, list[Airing]],
                                                       dict[int, tuple[dict[str, Any], Airing]]]:
        """Trakt's public premieres and finales calendars around now, by Trakt show id (two requests per scan,
        cached for the scan interval; Trakt calendars span at most 33 days), and the premiering shows as Trakt
        described them."""
        out: list[dict[int, list[Airing]]] = []
        premiering: dict[int, tuple[dict[str, Any], Airing]] = {}
        today = now.date()
        for which, start, days in (("premieres", today - timedelta(days=1), 33),
                                   ("finales", today - timedelta(days=self.settings.finale_days), 33)):
            by_show: dict[int, list[Airing]] = defaultdict(list)
            if self.trakt is not None:
                key = f"trakt:calendar:{which}:{start.isoformat()}:{days}"
                rows = await self.store.cache_get(key, now)
                if rows is None:
                    try:
                        rows = await self.trakt.get(f"/calendars/all/shows/{which}/{start.isoformat()}/{days}",
                                                    params={"extended": "full"}) or []
                    except (ServiceUnavailable, MultitudesError) as e:
                        log.warning("alert scan: Trakt %s calendar unavailable: %s", which, type(e).__name__)
                        rows = None
                    if rows is not None:
                        hours = max(1.0, self.settings.scan_every_hours)
                        await self.store.cache_put(key, rows, now, now + timedelta(hours=hours) - timedelta(
                            minutes=1))
                for r in rows or []:
                    ep, show = r.get("episode") or {}, r.get("show") or {}
                    tid, at = (show.get("ids") or {}).get("trakt"), parse_ts(r.get("first_aired"))
                    if tid and at and ep.get("season"):
                        a = Airing(int(ep["season"]), int(ep.get("number") or 0), at, True)
                        by_show[int(tid)].append(a)
                        if which == "premieres" and a.episode == 1:
                            premiering[int(tid)] = (show, a)
            out.append(by_show)
        return out[0], out[1], premiering

    def _show_events(self, now: datetime, meta: Mapping[str, Any], trakt_id: int | None,
                     premieres: Mapping[int, list[Airing]], finales: Mapping[int, list[Airing]],
                     ) -> tuple[Airing | None, Airing | None]:
        """The show's next season premiere (S >= 2, not long past) and a season finale aired lately: Trakt's
        calendar time when it has one, TMDB's announced date otherwise."""
        if not meta:
            return None, None
        s = self.settings
        nxt = next((a for a in premieres.get(trakt_id or -1, []) if a.episode == 1 and a.at >= now - timedelta(
            hours=12)), None)
        tm = meta.get("next_episode") or {}
        if nxt is None and tm.get("episode") == 1 and tm.get("season"):
            day = parse_ts(tm.get("air_date"))
            if day is not None:
                nxt = Airing(int(tm["season"]), 1, day, False)
        if nxt is not None and (nxt.season < 2 or nxt.at < now - timedelta(hours=12) or
                                nxt.at > now + timedelta(days=max(s.catchup_days, s.premiere_days))):
            nxt = None
        fin = next((a for a in finales.get(trakt_id or -1, []) if now - timedelta(days=s.finale_days) <= a.at <= now),
                   None)
        le = meta.get("last_episode") or {}
        if fin is None and str(le.get("type") or "").endswith("finale") and le.get("season"):
            day = parse_ts(le.get("air_date"))
            if day is not None and now - timedelta(days=s.finale_days) <= day <= now:
                fin = Airing(int(le["season"]), int(le.get("episode") or 0), day, False)
        return nxt, fin

    def _decide(self, now: datetime, meta: Mapping[str, Any], events: tuple[Airing | None, Airing | None],
                seen_eps: Mapping[int, int], last_watched: datetime | None, watched: bool, tz: str | None,
                style: str) -> list[tuple[str, int, datetime, date, datetime, dict[str, Any]]]:
        s = self.settings
        nxt, fin = events
        out: list[tuple[str, int, datetime, date, datetime, dict[str, Any]]] = []
        title = meta.get("title") or meta.get("name") or "?"
        local = tz_of(tz)
        aired = {int(x["season"]): int(x.get("episodes") or 0) for x in meta.get("seasons") or []
                 if x.get("season") and int(x["season"]) > 0}
        base = {"title": title, "year": meta.get("year"), "style": style,
                "network": (meta.get("networks") or [None])[0]}
        if nxt is not None:
            days_ahead = (nxt.at - now).total_seconds() / 86400
            prem_day = nxt.at.astimezone(local).date() if nxt.exact else nxt.at.date()
            behind = sum(max(0, aired.get(n, 0) - seen_eps.get(n, 0)) for n in range(1, nxt.season)) if aired else 0
            last_air = parse_ts(meta.get("last_air_date"))
            gap = (nxt.at - last_air).days if last_air and last_air < nxt.at else 0
            payload = dict(base, air=iso(nxt.at), exact=nxt.exact, season=nxt.season)
            if behind and days_ahead <= s.catchup_days:
                # stopped midway (and not watching it these last two weeks), or listed and never started
                if not watched or last_watched is None or (now - last_watched).days >= 14:
                    runtime = float(meta.get("runtime") or 45)
                    days_needed = math.ceil(behind * runtime / 90.0)       # about an hour and a half a day
                    start = max(now.date(), prem_day - timedelta(days=days_needed + 1))
                    out.append(("catchup", nxt.season, nxt.at, start, nxt.at,
                                dict(payload, episodes_left=behind, started=watched)))
            elif watched and gap >= s.returning_gap_days and days_ahead <= s.catchup_days:
                out.append(("returning", nxt.season, nxt.at, max(now.date(), prem_day - timedelta(days=7)),
                            nxt.at + timedelta(days=1), dict(payload, gap_days=gap)))
            elif watched and not behind and style != BINGE and days_ahead <= s.premiere_days:
                out.append(("premiere", nxt.season, nxt.at, prem_day, nxt.at + timedelta(days=2), payload))
        # a season that just finished: binge-ready for binge viewers who are caught up and have not started it
        if fin is not None and watched and style == BINGE and not seen_eps.get(fin.season):
            caught_up = all(seen_eps.get(n, 0) >= 0.8 * aired.get(n, 0) for n in range(1, fin.season)
                            if aired.get(n))
            if caught_up:
                after = (fin.at.astimezone(local).date() if fin.exact else fin.at.date()) + timedelta(days=1)
                episodes = aired.get(fin.season) or fin.episode
                out.append(("binge", fin.season, fin.at, after, fin.at + timedelta(days=s.finale_days + 7),
                            dict(base, air=iso(fin.at), exact=fin.exact, season=fin.season, episodes=episodes)))
        return out

    # -- delivery ----------------------------------------------------------------------------------------------
    async def deliver(self, notifiers: Mapping[str, Notifier]) -> DeliveryReport:
        now = self.clock.now()
        rows = await self.store.all(
            "SELECT a.*, s.title, s.year FROM alerts a JOIN shows s ON s.id=a.show_id WHERE a.status='pending' "
            "AND a.due_at <= ? ORDER BY a.due_at, a.id LIMIT 1000", (iso(now),))
        sent = skipped = deferred = failed = 0
        ids = sorted({int(r["person_id"]) for r in rows})
        people = {int(p["id"]): p for chunk in _chunks(ids) for p in await self.store.all(
            f"SELECT id, timezone, settings FROM people WHERE id IN ({','.join('?' * len(chunk))})", chunk)}
        for r in rows:
            person = people.get(int(r["person_id"]))
            if person is None:
                continue
            prefs = json.loads(person["settings"] or "{}")
            tz = tz_of(person["timezone"])
            reason = None
            if prefs.get("alerts", True) is False or prefs.get(f"alert_{r['kind']}") is False:
                reason = "opted out"
            elif (parse_ts(r["expires_at"]) or now) <= now:
                reason = "stale: the moment passed while nothing could send it"
            if reason:
                await self._set(r["id"], "skipped", note=reason)
                skipped += 1
                continue
            ok_at = allowed_at(now, tz, prefs.get("quiet_hours"))
            if ok_at > now:                                    # quiet hours now (maybe changed since the scan)
                await self.store.execute("UPDATE alerts SET due_at=? WHERE id=? AND status='pending'",
                                         (iso(ok_at), r["id"]))
                deferred += 1
                continue
            route = await self.route(int(r["person_id"]), prefs, notifiers)
            if route is None:                                  # no front end for this person is running now
                deferred += 1
                continue
            notifier, target = route
            if not await self._claim(r["id"]):
                continue                                       # another process took it
            alert = Alert(id=int(r["id"]), person_id=int(r["person_id"]), show_id=int(r["show_id"]),
                          title=r["title"], year=r["year"], season=int(r["season"]), kind=r["kind"],
                          event_at=parse_ts(r["event_at"]) or now, due_at=parse_ts(r["due_at"]) or now,
                          payload=json.loads(r["payload"]))
            try:
                ref = await notifier.send_alert(target, alert)
            except Exception as e:   # a platform error must not stop the others; retried a few times
                attempts = int(r["attempts"]) + 1
                status = "skipped" if attempts >= MAX_ATTEMPTS else "pending"
                await self.store.execute("UPDATE alerts SET status=?, attempts=?, note=? WHERE id=?",
                                         (status, attempts, f"send failed: {type(e).__name__}", r["id"]))
                log.warning("alert %s to %s failed (%s), attempt %s", r["id"], notifier.platform,
                            type(e).__name__, attempts)
                failed += 1
                continue
            await self._set(r["id"], "sent", sent_at=iso(self.clock.now()),
                            destination=f"{notifier.platform}:{target}", message_ref=ref)
            sent += 1
        return DeliveryReport(sent, skipped, deferred, failed)

    async def _claim(self, alert_id: int) -> bool:
        async with self.store.tx() as db:
            cur = await db.execute("UPDATE alerts SET status='sending' WHERE id=? AND status='pending'", (alert_id,))
            return bool(cur.rowcount)

    async def _set(self, alert_id: int, status: str, **cols: Any) -> None:
        sets = ", ".join(f"{k}=?" for k in cols)
        await self.store.execute(f"UPDATE alerts SET status=?{', ' + sets if sets else ''} WHERE id=?",
                                 (status, *cols.values(), alert_id))

    async def route(self, person_id: int, prefs: Mapping[str, Any],
                     notifiers: Mapping[str, Notifier]) -> tuple[Notifier, str] | None:
        """Where a person's alerts go: the channel they chose (``alert_channel`` "platform:channel id"), else a
        direct message on the platform they used most recently."""
        chosen = str(prefs.get("alert_channel") or "")
        if ":" in chosen:
            platform, target = chosen.split(":", 1)
            if platform in notifiers:
                return notifiers[platform], f"channel:{target}"
        rows = await self.store.all("SELECT platform, platform_user_id FROM identities WHERE person_id=? "
                                    "ORDER BY created_at DESC", (person_id,))
        for r in rows:
            if r["platform"] in notifiers:
                return notifiers[r["platform"]], f"user:{r['platform_user_id']}"
        return None

    async def for_person(self, person_id: int) -> list[Alert]:
        rows = await self.store.all(
            "SELECT a.*, s.title, s.year FROM alerts a JOIN shows s ON s.id=a.show_id WHERE a.person_id=? "
            "ORDER BY a.due_at", (person_id,))
        return [Alert(id=int(r["id"]), person_id=person_id, show_id=int(r["show_id"]), title=r["title"],
                      year=r["year"], season=int(r["season"]), kind=r["kind"],
                      event_at=parse_ts(r["event_at"]) or self.clock.now(),
                      due_at=parse_ts(r["due_at"]) or self.clock.now(), payload=json.loads(r["payload"]),
                      status=r["status"]) for r in rows]
