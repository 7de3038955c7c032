"""The Engine façade: the one object every front end talks to. Plain dataclasses in, plain dataclasses out."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

from .adapt import ArmState
from .alerts import AlertService, DeliveryReport, Notifier, ScanReport, in_quiet, tz_of
from .catalogue import Catalogue
from .clock import Clock, iso, parse_ts
from .config import Settings
from .enrich import Enricher
from .errors import (
    InvalidImport,
    LinkPending,
    LinkSlowDown,
    MultitudesError,
    NotLinked,
    ServiceUnavailable,
    TraktAccountLimit,
    UnknownPerson,
)
from .feedback import Adoption
from .llm import LLM
from .models import (
    Alert,
    DeviceLink,
    Digest,
    HistoryItem,
    ImportReport,
    Learning,
    PersonaReport,
    Rate,
    RecommendationList,
    RecommendRequest,
    ShowStat,
    Stats,
    SyncReport,
    Upcoming,
)
from .recommend.candidates import CandidateSources
from .recommend.service import Recommender
from .sources.imports import ParsedImport, detect_kind, gunzip_bounded, parse_netflix, parse_trakt_export
from .sources.tmdb import TmdbClient
from .sources.trakt import TraktClient
from .store import Store
from .sync import Progress, TraktSync
from .taste.chart import persona_chart
from .taste.llm_names import LlmNamer
from .taste.llm_tags import tag_shows
from .taste.service import PersonaService

log = logging.getLogger(__name__)

SAMPLE_SOURCE = "sample"
FEEDBACK_KINDS = ("liked", "not_for_me", "seen", "watchlist")
RATE_KEYS = ("strategy", "mode", "persona", "source", "all")
SETTINGS = ("group_opt_in", "timezone", "quiet_hours", "alerts", "default_filters", "trakt_watchlist", "digest",
            "alert_premiere", "alert_binge", "alert_returning", "alert_catchup", "alert_channel")


class Engine:
    def __init__(self, settings: Settings, store: Store, clock: Clock, *, trakt: TraktClient | None,
                 tmdb: TmdbClient | None, enricher: Enricher, catalogue: Catalogue, llm: LLM | None = None,
                 closers: Sequence[Callable[[], Awaitable[Any]]] = ()) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.trakt = trakt
        self.tmdb = tmdb
        self.enricher = enricher
        self.catalogue = catalogue
        self.llm = llm
        self.persona_service = PersonaService(
            store, clock, namer=LlmNamer(llm) if llm is not None else None,
            tagger=(lambda ids: tag_shows(llm, store, ids)) if llm is not None else None)
        self.adoption = Adoption(store, clock, settings.feedback.finish_share)
        self.recommender = Recommender(
            store, clock, self.persona_service, CandidateSources(store, catalogue, trakt=trakt, tmdb=tmdb),
            catalogue, self._enrich_for_recommend, llm,
            max_watched_episodes=settings.recommend.max_watched_episodes,
            recent_days=settings.recommend.recent_days, adaptive=settings.recommend.adaptive)
        self.alerts = AlertService(store, clock, settings.alerts, trakt=trakt, enrich=self._enrich_for_recommend)
        self.syncer = TraktSync(store, trakt, clock, settings.sync) if trakt is not None else None
        self._closers = list(closers)
        self._device_codes: dict[int, tuple[str, DeviceLink]] = {}
        self._poll_interval: dict[int, float] = {}

    @property
    def demo(self) -> bool:
        """No Trakt credentials: the engine runs on the bundled sample history, offline."""
        return self.trakt is None

    async def __aenter__(self) -> Engine:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        for c in self._closers:
            await c()
        await self.store.close()

    # -- people ------------------------------------------------------------------------------------------------
    async def person(self, platform: str, platform_user_id: str, display_name: str | None = None) -> int:
        pid = await self.store.person_for_identity(platform, str(platform_user_id), display_name)
        assert pid is not None
        return pid

    async def find_person(self, platform: str, platform_user_id: str) -> int:
        pid = await self.store.person_for_identity(platform, str(platform_user_id), create=False)
        if pid is None:
            raise UnknownPerson(f"{platform}:{platform_user_id}")
        return pid

    async def forget(self, person_id: int) -> None:
        """Delete everything about a person (tokens revoked at Trakt when possible)."""
        if self.trakt is not None:
            try:
                await self.trakt.revoke(person_id)
            except Exception as e:  # forgetting must not fail because Trakt is down
                log.warning("revoke failed while forgetting person %s: %s", person_id, type(e).__name__)
        await self.store.forget_person(person_id)

    # -- Trakt linking -----------------------------------------------------------------------------------------
    def _trakt(self) -> TraktClient:
        if self.trakt is None:
            raise NotLinked("demo mode", user_message="Trakt is not configured on this bot (demo mode).")
        return self.trakt

    async def start_link(self, person_id: int) -> DeviceLink:
        code, link = await self._trakt().device_code()
        self._device_codes[person_id] = (code, link)
        self._poll_interval[person_id] = link.interval_s
        return link

    async def poll_link(self, person_id: int) -> str | None:
        """One poll: the Trakt username once approved, None while pending; raises on expiry or denial."""
        trakt = self._trakt()
        if person_id not in self._device_codes:
            raise NotLinked("no link in progress", user_message="No link in progress: run /link first.")
        code, _ = self._device_codes[person_id]
        try:
            tokens = await trakt.poll_device_token(code)
        except LinkSlowDown:
            self._poll_interval[person_id] = self._poll_interval.get(person_id, 5) + 5   # as RFC 8628 asks
            return None
        except LinkPending:
            return None
        except Exception:
            self._device_codes.pop(person_id, None)
            raise
        self._device_codes.pop(person_id, None)
        await trakt.store_new_tokens(person_id, tokens)
        body = await trakt.get("/users/settings", person_id=person_id) or {}
        user = body.get("user") or {}
        username = str((user.get("ids") or {}).get("slug") or user.get("username") or f"person-{person_id}")
        fields: dict[str, Any] = {"trakt_vip": int(bool(user.get("vip")))}
        if (body.get("account") or {}).get("timezone"):
            fields["timezone"] = body["account"]["timezone"]
        await self.store.update_person(person_id, **fields)
        await self.store.attach_trakt_user(person_id, username)
        return username

    def link_poll_interval(self, person_id: int, default: float) -> float:
        """Seconds to wait before the next poll (grows when Trakt asks us to slow down)."""
        return self._poll_interval.get(person_id, default)

    async def link(self, person_id: int, on_code: Callable[[DeviceLink], Awaitable[None]]) -> str:
        """Start linking, hand the code to the front end, then poll at Trakt's interval until done."""
        link = await self.start_link(person_id)
        await on_code(link)
        while True:
            await self.clock.sleep(self.link_poll_interval(person_id, link.interval_s))
            name = await self.poll_link(person_id)
            if name is not None:
                return name

    async def unlink(self, person_id: int) -> None:
        if self.trakt is not None:
            await self.trakt.revoke(person_id)
            await self.trakt.vault.delete(person_id)
        await self.store.update_person(person_id, trakt_user=None)

    # -- sync and imports --------------------------------------------------------------------------------------
    async def sync(self, person_id: int, progress: Progress | None = None) -> SyncReport:
        if self.syncer is None:
            sample = await self.load_sample(person_id)
            return SyncReport(new_plays=sample.plays_added, shows_touched=sample.shows, ratings=sample.ratings,
                              watchlist=sample.watchlist, unchanged=sample.plays_added == 0, source=SAMPLE_SOURCE)
        if await self.store.load_tokens(person_id) is None:
            raise NotLinked(f"person {person_id}")
        rep = await self.syncer.sync(person_id, progress)
        enriched = await self._enrich(person_id, progress)
        await self.adoption.update(person_id)
        return SyncReport(**{**{f: getattr(rep, f) for f in rep.__dataclass_fields__}, "enriched": enriched})

    async def _enrich(self, person_id: int, progress: Progress | None = None) -> int:
        if progress:
            progress("fetching show metadata")
        try:
            return await self.enricher.enrich(person_id)
        except ServiceUnavailable as e:   # metadata can wait; the history is safe
            log.warning("metadata enrichment stopped: %s", e)
            return 0

    async def import_history(self, person_id: int, name: str, data: bytes) -> ImportReport:
        cfg = self.settings.imports
        if len(data) > cfg.max_bytes:
            raise InvalidImport(f"the file is {len(data):,} bytes; the limit is {cfg.max_bytes:,}.")
        if data[:2] == b"\x1f\x8b":
            data = await asyncio.to_thread(gunzip_bounded, data, cfg.max_bytes)
        kind = detect_kind(name, data)
        if kind == "trakt":
            parsed = await asyncio.to_thread(parse_trakt_export, name, data, cfg.max_rows, cfg.max_bytes)
            source = "trakt-export"
        else:
            parsed = await parse_netflix(name, data, cfg.max_rows, self._search_show)
            source = "netflix"
        return await self._store_import(person_id, parsed, source, data if kind == "trakt" else None)

    async def _search_show(self, title: str) -> list[dict[str, Any]]:
        if self.tmdb is not None:
            return await self.tmdb.search_tv(title)
        return self.catalogue.search(title)

    async def _store_import(self, person_id: int, parsed: ParsedImport, source: str,
                            raw: bytes | None) -> ImportReport:
        added = await self.store.import_batch(person_id, source, parsed.plays, parsed.ratings, parsed.watchlist,
                                              parsed.hidden)
        await self.adoption.update(person_id)
        if raw is not None:
            tz = _export_timezone(raw)
            if tz:
                await self.store.update_person(person_id, timezone=tz)
        await self._enrich(person_id)
        return ImportReport(
            kind=parsed.kind, plays_added=added, plays_seen=len(parsed.plays),
            shows=len({p.show.ids.trakt or p.show.ids.tmdb for p in parsed.plays}), ratings=len(parsed.ratings),
            watchlist=len(parsed.watchlist), unmatched=tuple(parsed.unmatched), skipped=tuple(parsed.skipped),
        )

    async def load_sample(self, person_id: int) -> ImportReport:
        raw = resources.files("engine.sample").joinpath("sample_history.json.gz").read_bytes()
        data = gzip.decompress(raw)
        parsed = await asyncio.to_thread(parse_trakt_export, "sample", data, 10**6, 10**8)
        return await self._store_import(person_id, parsed, SAMPLE_SOURCE, data)

    # -- personas ----------------------------------------------------------------------------------------------
    async def personas(self, person_id: int, *, force: bool = False) -> PersonaReport:
        """The person's taste personas (recomputed only when their history changed; ids stay stable)."""
        return await self.persona_service.personas(person_id, force=force)

    async def persona_chart(self, person_id: int) -> bytes:
        """A PNG of persona weights over time."""
        report = await self.personas(person_id)
        return await asyncio.to_thread(persona_chart, report)

    # -- recommendations ---------------------------------------------------------------------------------------
    async def recommend(self, req: RecommendRequest) -> RecommendationList:
        """Recommendations in any mode (auto, persona, all, bridge, like, mood), never a show already seen."""
        return await self.recommender.recommend(req)

    async def dismiss(self, person_id: int, show_id: int, reason: str = "not for me") -> None:
        """Never recommend this show to this person again."""
        async with self.store.tx() as db:
            await db.execute("INSERT OR REPLACE INTO dismissed VALUES (?,?,?,?)",
                             (person_id, show_id, iso(self.clock.now()), reason))

    async def success_rates(self, person_id: int | None = None, by: str = "strategy") -> list[Rate]:
        """How picks fared (shown, started, finished, liked, dismissed; Wilson interval of the started share), per
        strategy, persona, source or overall; ``person_id=None`` is everyone (for the bot owner)."""
        if by not in RATE_KEYS:
            raise MultitudesError(f"by {by}", user_message="Rates are by strategy, mode, persona, source or all.")
        return await self.adoption.rates(person_id, by)

    async def learning(self, person_id: int | None) -> Learning:
        """What the feedback loop knows: success rates by strategy, mode, persona (named) and source, and the
        bandit's posteriors for the person (``None``: everyone's rates, for the bot owner; no bandit state)."""
        rates = await self.adoption.rates_by(person_id, ("strategy", "mode", "persona", "source"))
        arms: list[ArmState] = []
        if person_id is not None:
            report = await self.persona_service.stored(person_id)
            personas = report.personas if report is not None else ()
            names = {str(p.id): p.name for p in personas}
            rates["persona"] = [replace(r, key=names.get(r.key.removeprefix("persona "), r.key))
                                for r in rates["persona"]]
            arms = [replace(a, arm=names.get(a.arm, a.arm)) if a.kind == "persona" else a
                    for a in await self.recommender.arm_states(person_id, personas, fresh=True)]
        return Learning(person_id, rates, tuple(arms))

    def is_owner(self, platform: str, platform_user_id: str) -> bool:
        """Bot owners (``feedback.owners``) may see everyone's success rates."""
        return f"{platform}:{platform_user_id}" in self.settings.feedback.owners

    # -- what is coming -------------------------------------------------------------------------------------------
    async def upcoming(self, person_id: int, days: int = 60) -> list[Upcoming]:
        """Next episodes of shows the person watched or listed, from the cached metadata (soonest first)."""
        rows = await self.store.all(
            "SELECT s.id, s.title, s.meta FROM shows s WHERE s.meta IS NOT NULL AND s.id IN (SELECT show_id FROM "
            "plays WHERE person_id=:p UNION SELECT show_id FROM watchlist WHERE person_id=:p) AND s.id NOT IN "
            "(SELECT show_id FROM hidden WHERE person_id=:p)", {"p": person_id})
        now = self.clock.now()
        out = []
        for r in rows:
            meta = json.loads(r["meta"]) if r["meta"] else {}
            nxt = meta.get("next_episode") or {}
            when = parse_ts(nxt.get("air_date"))
            if when is None or not now.date() <= when.date() <= (now + timedelta(days=days)).date():
                continue
            kind = "premiere" if nxt.get("episode") == 1 else ("finale" if "finale" in str(nxt.get("type")) else
                                                                "episode")
            out.append(Upcoming(int(r["id"]), r["title"], nxt.get("season"), nxt.get("episode"), when, kind))
        return sorted(out, key=lambda u: (u.air_date, u.title))

    # -- release-calendar alerts (scheduled by engine/schedule.py) -----------------------------------------------
    async def scan_alerts(self, person_ids: Sequence[int] | None = None) -> ScanReport:
        """Decide which alerts are due for everyone (or these people): premieres for weekly viewers, binge-ready
        seasons for binge viewers, returning shows, catch-up before a premiere. Stored once per show, season and
        kind; nothing is sent here."""
        return await self.alerts.scan(person_ids)

    async def deliver_alerts(self, notifiers: Mapping[str, Notifier]) -> DeliveryReport:
        """Send the alerts that are due through the front ends' notifiers, each exactly once."""
        return await self.alerts.deliver(notifiers)

    async def person_alerts(self, person_id: int) -> list[Alert]:
        """Every alert decided for a person (pending, sent, skipped), by due time."""
        return await self.alerts.for_person(person_id)

    async def send_digests(self, notifiers: Mapping[str, Notifier]) -> int:
        """Send the weekly digest to everyone who opted in (``/settings digest:on``) whose local weekday and hour
        have come (``feedback.digest_weekday``/``digest_hour``) and who has not had this week's: claimed per person
        and ISO week before sending, so a restart or a second process never sends it twice."""
        fb = self.settings.feedback
        now = self.clock.now()
        sent = 0
        for r in await self.store.all("SELECT id, timezone, settings FROM people"):
            prefs = json.loads(r["settings"] or "{}")
            if not prefs.get("digest"):
                continue
            tz = tz_of(r["timezone"])
            loc = now.astimezone(tz)
            if loc.weekday() != fb.digest_weekday or loc.hour < fb.digest_hour or in_quiet(
                    loc.hour, prefs.get("quiet_hours")):
                continue
            pid = int(r["id"])
            route = await self.alerts.route(pid, prefs, notifiers)
            if route is None:
                continue
            notifier, target = route
            y, w, _ = loc.isocalendar()
            week = f"{y}-W{w:02d}"
            async with self.store.tx() as db:
                cur = await db.execute("INSERT OR IGNORE INTO digests(person_id, week, status) VALUES (?,?,?)",
                                       (pid, week, "sending"))
                if not cur.rowcount:
                    continue
            since = iso(now - timedelta(days=7))
            counts = await self.store.one(
                "SELECT COUNT(*), COUNT(a.event_id) FROM rec_events e LEFT JOIN adoptions a ON a.event_id=e.id "
                "WHERE e.person_id=? AND e.shown_at >= ?", (pid, since))
            try:
                picks: RecommendationList | None = await self.recommend(
                    RecommendRequest(pid, k=3, platform=notifier.platform))
            except MultitudesError as e:
                log.info("digest for person %s without picks: %s", pid, e)
                picks = None
            digest = Digest(pid, week, picks, tuple(await self.upcoming(pid, days=7)),
                            int(counts[0]) if counts else 0, int(counts[1]) if counts else 0)
            try:
                await notifier.send_digest(target, digest)
            except Exception as e:   # one person's platform error must not stop the others
                log.warning("digest to person %s failed: %s", pid, type(e).__name__)
                await self.store.execute("UPDATE digests SET status='skipped' WHERE person_id=? AND week=?",
                                         (pid, week))
                continue
            await self.store.execute("UPDATE digests SET status='sent', sent_at=?, destination=? WHERE person_id=? "
                                     "AND week=?", (iso(self.clock.now()), f"{notifier.platform}:{target}", pid, week))
            sent += 1
        return sent

    # -- person settings and group watch ------------------------------------------------------------------------
    async def person_settings(self, person_id: int) -> dict[str, Any]:
        row = await self.store.one("SELECT settings, timezone FROM people WHERE id=?", (person_id,))
        if row is None:
            raise UnknownPerson(f"person {person_id}")
        out: dict[str, Any] = {"group_opt_in": False, **json.loads(row[0] or "{}")}
        out["timezone"] = row[1]
        return out

    async def update_settings(self, person_id: int, **changes: Any) -> dict[str, Any]:
        """Change a person's settings (``group_opt_in``, ``timezone``, …); unknown keys are refused."""
        bad = set(changes) - set(SETTINGS)
        if bad:
            raise MultitudesError(f"settings {bad}", user_message=f"Unknown setting(s): {', '.join(sorted(bad))}.")
        current = await self.person_settings(person_id)
        tz = changes.pop("timezone", None)
        if tz is not None:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
            try:
                ZoneInfo(tz)
            except (ZoneInfoNotFoundError, ValueError) as e:
                raise MultitudesError(f"tz {tz}", user_message=f"{tz!r} is not a time zone (e.g. Europe/Paris).") from e
            await self.store.update_person(person_id, timezone=tz)
        current.pop("timezone", None)
        current.update(changes)
        await self.store.update_person(person_id, settings=json.dumps(current))
        return await self.person_settings(person_id)

    async def note_chat_member(self, platform: str, chat_id: str, person_id: int) -> None:
        async with self.store.tx() as db:
            await db.execute("INSERT OR REPLACE INTO chat_members VALUES (?,?,?,?)",
                             (platform, chat_id, person_id, iso(self.clock.now())))

    async def opted_in_members(self, platform: str, chat_id: str) -> list[int]:
        """People seen in this group chat who opted in to group picks."""
        rows = await self.store.all("SELECT person_id FROM chat_members WHERE platform=? AND chat_id=? ORDER BY "
                                    "seen_at", (platform, chat_id))
        return [int(r[0]) for r in rows if (await self.person_settings(int(r[0]))).get("group_opt_in")]

    async def group_recommend(self, person_ids: Sequence[int], k: int = 3, *,
                              platform: str | None = None) -> RecommendationList:
        """Shows nobody in the group has seen that every member's personas can live with (least misery: the
        group's score for a show is its *worst* member's affinity), with who matches what in the reason. Only
        people who opted in to group picks take part; the others are named in a clear refusal."""
        ids = list(dict.fromkeys(person_ids))
        if len(ids) < 2:
            raise MultitudesError("group of one", user_message="A group watch needs at least two people.")
        refused = [p for p in ids if not (await self.person_settings(p)).get("group_opt_in")]
        if refused:
            names = []
            for p in refused:
                row = await self.store.one("SELECT display_name FROM people WHERE id=?", (p,))
                names.append(row[0] if row and row[0] else f"person {p}")
            raise MultitudesError(
                f"not opted in: {refused}",
                user_message=f"Not everyone opted in to group picks: {', '.join(names)}. They can turn it on with "
                             "/settings group:on — until then their history stays private.")
        return await self.recommender.group(ids, k, platform=platform)

    async def reroll_group(self, request_id: str, person_id: int, k: int = 3,
                           platform: str | None = None) -> RecommendationList:
        """New group picks for the same people (the ones just shown rest, like any recent pick)."""
        rows = await self.store.all("SELECT DISTINCT person_id FROM rec_events WHERE request_id=? AND mode='group' "
                                    "ORDER BY id", (request_id,))
        members = [int(r[0]) for r in rows]
        if person_id not in members:
            raise MultitudesError("not a member", user_message="Only people in that group watch can re-roll it.")
        return await self.group_recommend(members, k, platform=platform)

    async def attach_message(self, event_ids: Sequence[int], platform: str, message_ref: str) -> None:
        """Front ends call this once a recommendation message is sent, so reactions on it find their picks."""
        async with self.store.tx() as db:
            await db.executemany("UPDATE rec_events SET platform=?, message_ref=? WHERE id=?",
                                 [(platform, message_ref, e) for e in event_ids])

    async def events_for_message(self, platform: str, message_ref: str) -> list[int]:
        rows = await self.store.all("SELECT id FROM rec_events WHERE platform=? AND message_ref=? ORDER BY rank",
                                    (platform, message_ref))
        return [int(r[0]) for r in rows]

    async def record_feedback(self, person_id: int, event_id: int, kind: str, active: bool = True,
                              at: datetime | None = None) -> bool:
        """Set (or, with ``active=False``, undo) feedback on a shown pick. Idempotent: the same event delivered
        twice, or add-remove-add, ends in one state; with ``at`` (when the platform says the reaction happened),
        an event older than the stored state is a late, reordered delivery and changes nothing. "not for me" and
        "seen" keep the show out of every future list; undoing them lets it back. Returns whether anything
        changed."""
        if kind not in FEEDBACK_KINDS:
            raise MultitudesError(f"feedback kind {kind!r}", user_message="Unknown feedback.")
        ev = await self.store.one("SELECT show_id FROM rec_events WHERE id=? AND person_id=?", (event_id, person_id))
        if ev is None:
            raise MultitudesError(f"event {event_id} for person {person_id}",
                                  user_message="That recommendation is not yours, or no longer exists.")
        stamp = iso(at or self.clock.now())
        async with self.store.tx() as db:
            async with db.execute("SELECT active, updated_at FROM feedback WHERE person_id=? AND event_id=? AND "
                                  "kind=?", (person_id, event_id, kind)) as cur:
                row = await cur.fetchone()
            if row is not None and bool(row[0]) == active:
                if at is not None and (parse_ts(row[1]) or at) < at:     # same state, seen later: remember when
                    await db.execute("UPDATE feedback SET updated_at=? WHERE person_id=? AND event_id=? AND kind=?",
                                     (stamp, person_id, event_id, kind))
                return False
            if row is not None and at is not None and (parse_ts(row[1]) or at) > at:
                return False                          # a reordered, older event: the newer state stands
            await db.execute("INSERT OR REPLACE INTO feedback VALUES (?,?,?,?,?)",
                             (person_id, event_id, kind, int(active), stamp))
            if kind == "watchlist" and active:
                await db.execute("INSERT OR IGNORE INTO watchlist VALUES (?,?,?)", (person_id, ev[0], stamp))
            if kind in ("not_for_me", "seen"):
                if active:
                    await db.execute("INSERT OR REPLACE INTO dismissed VALUES (?,?,?,?)",
                                     (person_id, ev[0], stamp, kind))
                else:
                    await db.execute("DELETE FROM dismissed WHERE person_id=? AND show_id=? AND reason=?",
                                     (person_id, ev[0], kind))
        if kind == "watchlist" and active:
            await self._watchlist_to_trakt(person_id, int(ev[0]))
        return True

    async def _watchlist_to_trakt(self, person_id: int, show_id: int) -> None:
        """Also list the show on Trakt when the person allowed it (``/settings watchlist:on``) and is linked.
        The local record is already saved: a 420 (watchlist full) or an outage loses nothing and says why."""
        if self.trakt is None or not (await self.person_settings(person_id)).get("trakt_watchlist"):
            return
        if not await self.store.load_tokens(person_id):
            return
        row = await self.store.one("SELECT trakt_id, tmdb_id, imdb_id, slug FROM shows WHERE id=?", (show_id,))
        if row is None:
            return
        ids = {k: v for k, v in zip(("trakt", "tmdb", "imdb", "slug"), row, strict=True) if v}
        if not ids:
            return
        try:
            await self.trakt.request("POST", "/sync/watchlist", person_id=person_id, json={"shows": [{"ids": ids}]})
        except TraktAccountLimit as e:
            raise TraktAccountLimit(
                str(e), user_message="Saved here, but your Trakt watchlist is full (Trakt answered 420): remove "
                                     "some shows there or go VIP, then add it again.") from e
        except ServiceUnavailable as e:
            raise MultitudesError(
                str(e), user_message="Saved here; Trakt is not answering, so it is not on your Trakt watchlist "
                                     "yet. Try the button again later.") from e

    async def _enrich_for_recommend(self, show_ids: list[int]) -> int:
        try:
            return await self.enricher.enrich_ids(show_ids)
        except ServiceUnavailable as e:
            log.warning("candidate metadata unavailable: %s", e)
            return 0

    # -- reading -----------------------------------------------------------------------------------------------
    async def history(self, person_id: int, limit: int = 20, offset: int = 0) -> list[HistoryItem]:
        return await self.store.history(person_id, limit, offset)

    async def stats(self, person_id: int) -> Stats:
        s = self.store
        rows = await s.all(
            "SELECT s.id, s.title, s.year, s.aired_episodes, s.meta, COUNT(*) AS plays, "
            "COUNT(DISTINCT p.season || ':' || COALESCE(p.episode, p.episode_title)) AS eps, "
            "MAX(p.watched_at) AS last, MIN(p.watched_at) AS first FROM plays p JOIN shows s ON s.id=p.show_id "
            "WHERE p.person_id=? GROUP BY s.id",
            (person_id,),
        )
        genres: Counter[str] = Counter()
        minutes = 0.0
        shows: list[ShowStat] = []
        for r in rows:
            meta = json.loads(r["meta"]) if r["meta"] else {}
            for g in meta.get("genres") or []:
                genres[g] += r["plays"]
            minutes += r["plays"] * float(meta.get("runtime") or 45)
            aired = r["aired_episodes"] or meta.get("number_of_episodes")
            shows.append(ShowStat(r["title"], r["year"], r["plays"], r["eps"], aired,
                                  parse_ts(r["last"]) or datetime.min.replace(tzinfo=UTC)))
        shows.sort(key=lambda x: (-x.plays, x.title))
        per_year = await s.all(
            "SELECT substr(watched_at, 1, 4) AS y, COUNT(*) FROM plays WHERE person_id=? GROUP BY y ORDER BY y",
            (person_id,),
        )
        counts = await s.one(
            "SELECT (SELECT COUNT(*) FROM ratings WHERE person_id=:p), (SELECT COUNT(*) FROM watchlist "
            "WHERE person_id=:p), (SELECT COUNT(*) FROM hidden WHERE person_id=:p), "
            "(SELECT MIN(watched_at) FROM plays WHERE person_id=:p), (SELECT MAX(watched_at) FROM plays "
            "WHERE person_id=:p), (SELECT last_finished_at FROM sync_state WHERE person_id=:p)",
            {"p": person_id},
        )
        assert counts is not None
        return Stats(
            plays=sum(x.plays for x in shows), shows=len(shows), episodes=sum(x.episodes for x in shows),
            first_play=parse_ts(counts[3]), last_play=parse_ts(counts[4]), hours_watched=round(minutes / 60, 1),
            ratings=counts[0], watchlist=counts[1], hidden=counts[2], top_shows=tuple(shows[:10]),
            top_genres=tuple(genres.most_common(8)), plays_per_year=tuple((int(y), n) for y, n in per_year),
            last_sync=parse_ts(counts[5]),
        )


def _export_timezone(raw: bytes) -> str | None:
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(doc, dict):
        tz = ((doc.get("settings") or {}).get("account") or {}).get("timezone")
        return tz if isinstance(tz, str) else None
    return None
