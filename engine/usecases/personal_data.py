"""A person's data, theirs to take: ``/export`` writes everything stored about them as one JSON document (with a
schema version); sending that file to any Multitudes restores them there.

What the file holds: the person's time zone and settings; every play, rating, listed, hidden and dismissed show;
every pick shown with its feedback and what became of it; their alerts; their personas as last computed; their
crowd (the rated shows of the Trakt members who share their tastes, as anonymous lists — strangers are never
named). Never: tokens, platform identities, chat memberships, other people's names (a group pick's reason is
left out).

What a restore writes back: everything but what is derived or belongs to a place — personas are recomputed from
the history, the crowd is found again by the next refresh, picks lose their persona link (personas are new
there). A restore is checked field by field before anything is written (clear errors, nothing half done), runs
in one unit, and is idempotent (plays by their key, a pick by its request and rank, listed shows as they are).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.plumbing.clock import Clock
from engine.store import Store
from engine.store.repos.crowd import Member
from engine.store.repos.personal import ref
from engine.store.unit import Unit
from engine.taste.service import PersonaService
from engine.values.errors import InvalidImport
from engine.values.i18n import _
from engine.values.models import AlertKind, FeedbackKind, ImportReport, Mode, PersonSettings, Play
from engine.values.times import iso, parse_ts

FORMAT, VERSION = "multitudes-export", 1
CHUNK = 5000                    # plays per unit of a large restore (as an import)
SOURCES = ("trakt", "trakt-export", "netflix", "netflix-activity", "sample")
PLACE_BOUND = frozenset({"share_cowatch", "group_opt_in", "alert_channel"})
Str = Annotated[str, Field(max_length=500)]
Short = Annotated[str, Field(max_length=64)]


def _ts(v: Any) -> Any:
    if v is not None and (not isinstance(v, str) or parse_ts(v) is None or len(v) > 40):
        raise ValueError("not an ISO-8601 time")
    return v


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IdsIn(_In):
    trakt: int | None = Field(None, gt=0, lt=2**31)
    tmdb: int | None = Field(None, gt=0, lt=2**31)
    imdb: str | None = Field(None, pattern=r"^tt\d{1,10}$")
    tvdb: int | None = Field(None, gt=0, lt=2**31)
    slug: str | None = Field(None, max_length=120, pattern=r"^[a-z0-9][a-z0-9-]*$")


class ShowIn(_In):
    title: Str
    year: int | None = Field(None, ge=1900, le=2200)
    ids: IdsIn


class PlayIn(_In):
    show: ShowIn
    season: int = Field(ge=0, le=10_000)
    episode: int | None = Field(None, ge=0, le=100_000)
    episode_title: Str | None = None
    watched_at: str
    history_id: int | None = Field(None, gt=0, lt=2**63)
    action: Short | None = None
    source: Literal["trakt", "trakt-export", "netflix", "netflix-activity", "sample"]
    _t = field_validator("watched_at")(_ts)


class RatingIn(_In):
    show: ShowIn
    rating: int = Field(ge=1, le=10)
    rated_at: str | None = None
    _t = field_validator("rated_at")(_ts)


class ListedIn(_In):
    show: ShowIn
    listed_at: str | None = None
    _t = field_validator("listed_at")(_ts)


class HiddenIn(_In):
    show: ShowIn
    kind: Literal["hidden", "dropped"]
    hidden_at: str | None = None
    _t = field_validator("hidden_at")(_ts)


class DismissedIn(_In):
    show: ShowIn
    at: str
    reason: FeedbackKind | None = None
    _t = field_validator("at")(_ts)


class FeedbackIn(_In):
    kind: FeedbackKind
    active: bool
    updated_at: str
    _t = field_validator("updated_at")(_ts)


class AdoptionIn(_In):
    state: Literal["started", "finished"]
    episodes: int = Field(ge=0, le=100_000)
    updated_at: str
    _t = field_validator("updated_at")(_ts)


class PickIn(_In):
    show: ShowIn
    request_id: str = Field(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    strategy: Short
    sources: list[Short] = Field(max_length=32)
    rank: int = Field(ge=0, le=1000)
    mode: Mode
    score: float | None = None
    reason: Annotated[str, Field(max_length=2000)] | None = None
    llm: bool = False
    shown_at: str
    platform: Short | None = None
    persona: Str | None = None
    feedback: list[FeedbackIn] = Field(default_factory=list, max_length=8)
    adoption: AdoptionIn | None = None
    _t = field_validator("shown_at")(_ts)


class AlertPayloadIn(BaseModel):
    """What an alert's text is made of (unknown keys are dropped, never stored)."""
    model_config = ConfigDict(extra="ignore", frozen=True)
    title: Str | None = None
    year: int | None = Field(None, ge=1900, le=2200)
    style: Literal["binge", "weekly", "casual", "mixed"] | None = None
    network: Str | None = None
    air: str | None = None
    exact: bool | None = None
    season: int | None = Field(None, ge=0, le=10_000)
    episodes: int | None = Field(None, ge=0, le=100_000)
    episodes_left: int | None = Field(None, ge=0, le=100_000)
    started: bool | None = None
    gap_days: int | None = Field(None, ge=0, le=100_000)
    related: list[Str] | None = Field(None, max_length=5)
    overlap: int | None = Field(None, ge=0, le=100_000)
    _t = field_validator("air")(_ts)


class AlertIn(_In):
    show: ShowIn
    season: int = Field(ge=0, le=10_000)
    kind: AlertKind
    event_at: str
    due_at: str
    expires_at: str
    payload: AlertPayloadIn
    status: Literal["pending", "sending", "sent", "skipped"]
    sent_at: str | None = None
    _t = field_validator("event_at", "due_at", "expires_at", "sent_at")(_ts)


class PersonIn(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    timezone: Short | None = None
    settings: dict[str, Any] = Field(default_factory=dict)


class ExportIn(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)     # derived sections (personas, crowd) are not read
    format: Literal["multitudes-export"]
    version: Literal[1]
    person: PersonIn
    plays: list[PlayIn] = Field(default_factory=list)
    ratings: list[RatingIn] = Field(default_factory=list)
    watchlist: list[ListedIn] = Field(default_factory=list)
    hidden: list[HiddenIn] = Field(default_factory=list)
    dismissed: list[DismissedIn] = Field(default_factory=list)
    picks: list[PickIn] = Field(default_factory=list)
    alerts: list[AlertIn] = Field(default_factory=list)


def is_export(data: bytes) -> bool:
    head = data[:256].lstrip(b"\xef\xbb\xbf").lstrip()
    return head[:1] == b"{" and b'"multitudes-export"' in data[:256]


def parse(data: bytes, max_rows: int) -> ExportIn:
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise InvalidImport(_("it looks like a Multitudes export but is not valid JSON.")) from e
    if isinstance(raw, dict) and raw.get("format") == FORMAT and raw.get("version") != VERSION:
        raise InvalidImport(_("it is a Multitudes export of version {value}; this Multitudes reads version "
                              "{version}.").format(value=str(raw.get("version"))[:10], version=VERSION))
    rows = sum(len(v) for v in raw.values() if isinstance(v, list)) if isinstance(raw, dict) else 0
    if rows > max_rows:
        raise InvalidImport(_("it has {rows} rows; the limit is {max_rows}.").format(
            rows=f"{rows:,}", max_rows=f"{max_rows:,}"))
    try:
        return ExportIn.model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise InvalidImport(_("{where}: {first} ({value} problems in all).").format(
            where=where, first=first['msg'], value=e.error_count())) from e


class PersonalData:
    def __init__(self, store: Store, clock: Clock, personas: PersonaService) -> None:
        self.store = store
        self.clock = clock
        self.personas = personas

    async def export(self, person_id: int) -> bytes:
        async with self.store.read() as uow:
            person = await uow.people.get(person_id)
            rows = await uow.personal.dump(person_id)
            crowd = await uow.crowd.get(person_id)
        report = await self.personas.stored(person_id)
        doc: dict[str, Any] = {
            "format": FORMAT, "version": VERSION, "exported_at": iso(self.clock.now()),
            "person": {"display_name": person.display_name if person else None,
                       "timezone": person.settings.timezone if person else None,
                       "settings": person.settings.model_dump(mode="json", exclude={"timezone"}) if person else {}},
            **rows,
            "personas": [{"name": p.name, "description": p.description, "weight": round(p.weight, 4),
                          "style": p.style, "genres": list(p.genres), "size": p.size,
                          "shows": [s.title for s in (p.medoid, *p.shows)]}
                         for p in (report.personas if report is not None else ())],
            "crowd": await self._crowd(crowd.members if crowd is not None else []),
        }
        return await asyncio.to_thread(lambda: json.dumps(doc, ensure_ascii=False, indent=1).encode())

    async def _crowd(self, members: list[Member]) -> list[list[dict[str, Any]]]:
        """The anonymous members' rated shows (no names, no pseudonyms): what the crowd picks stand on."""
        ids = [int(r[0]) for m in members for r in m]
        if not ids:
            return []
        async with self.store.read() as uow:
            shows = await uow.personal.show_refs(ids)
        return [[{"show": shows[int(r[0])], "rating": r[1], "rated_at": r[2]} for r in m if int(r[0]) in shows]
                for m in members]

    async def restore(self, person_id: int, data: bytes, max_rows: int) -> ImportReport:
        # the JSON, its checks, and every row made ready to write: in a worker (a heavy history is 20,000+ rows)
        r = await asyncio.to_thread(prepare, data, max_rows, self.clock.now())
        settings = self._settings(r.doc.person)
        staged = uuid.uuid4().hex if len(r.plays) > CHUNK else None
        try:
            if staged is not None:       # a heavy history: written aside in chunks, each its own short unit
                for source in SOURCES:
                    mine = [play for src, play in r.plays if src == source]
                    for n in range(0, len(mine), CHUNK):
                        async with self.store.unit() as uow:
                            await uow.history.stage_plays(staged, person_id, mine[n:n + CHUNK], source, trusted=False)
                        await asyncio.sleep(0)
            async with self.store.unit() as uow:            # then all of it lands, or none of it
                added = await self._plays(uow, person_id, r, staged)
                await self._rest(uow, person_id, r, settings)
        except BaseException:
            if staged is not None:
                async with self.store.unit() as uow:
                    await uow.history.drop_staged(staged)
            raise
        return ImportReport(kind="multitudes export", plays_added=added, plays_seen=len(r.plays),
                            shows=len({json.dumps(s, sort_keys=True) for s in r.play_shows}),
                            ratings=len(r.doc.ratings), watchlist=len(r.doc.watchlist),
                            skipped=(f"{r.unnamed} rows name a show by no outside id",) if r.unnamed else ())

    @staticmethod
    async def _plays(uow: Unit, person_id: int, r: Prepared, staged: str | None) -> int:
        if staged is not None:
            return await uow.history.commit_staged(staged)
        added = 0
        for source in SOURCES:                       # each play keeps the source it came from
            added += await uow.history.add_plays(person_id, [play for src, play in r.plays if src == source], source,
                                                 trusted=False)
        return added

    async def _rest(self, uow: Unit, person_id: int, r: Prepared, settings: PersonSettings | None) -> None:
        p = uow.personal
        for table, shows, rows in r.listed:
            ids = await p.show_ids(shows)
            await p.restore_listed(person_id, table, [(sid, *row) for row, sid in zip(rows, ids, strict=True)
                                                      if sid is not None])
        pick_ids = await p.show_ids(r.pick_shows)
        for pick, sid in zip(r.picks, pick_ids, strict=True):
            if sid is not None:
                await p.restore_pick(person_id, sid, pick)
        alert_ids = await p.show_ids(r.alert_shows)
        now = iso(self.clock.now())
        for alert, sid in zip(r.alerts, alert_ids, strict=True):
            if sid is not None:
                await p.restore_alert(person_id, sid, alert, now)
        if settings is not None:
            await uow.people.save_settings(person_id, settings)
        elif r.doc.person.timezone is not None:
            await uow.people.set_timezone(person_id, r.doc.person.timezone)

    @staticmethod
    def _settings(person: PersonIn) -> PersonSettings | None:
        if person.timezone is not None:
            try:
                ZoneInfo(person.timezone)
            except (ZoneInfoNotFoundError, ValueError) as e:
                raise InvalidImport(_("person.timezone: {timezone} is not a time zone.").format(
                    timezone=repr(person.timezone[:40]))) from e
        if not person.settings:
            return None
        # what belongs to a place stays there: consent to share, opt-ins per chat, where alerts go
        mine = {k: v for k, v in person.settings.items() if k not in PLACE_BOUND}
        try:
            return PersonSettings.model_validate({**mine, "timezone": person.timezone})
        except ValidationError as e:
            first = e.errors()[0]
            raise InvalidImport(_("person.settings.{value}: {first}.").format(
                value='.'.join(str(x) for x in first['loc']), first=first['msg'])) from e


@dataclass
class Prepared:
    """An export checked and turned into what the store writes (built in a worker)."""
    doc: ExportIn
    play_shows: list[dict[str, Any]]
    plays: list[tuple[str, Play]]                                       # (source, play)
    listed: list[tuple[str, list[dict[str, Any]], list[tuple[Any, ...]]]]   # (table, shows, rows without show)
    pick_shows: list[dict[str, Any]]
    picks: list[dict[str, Any]]
    alert_shows: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    unnamed: int                                # plays whose show has no outside id (left out)


def prepare(data: bytes, max_rows: int, now: datetime) -> Prepared:
    doc = parse(data, max_rows)
    named = [x for x in doc.plays if x.show.ids.trakt or x.show.ids.tmdb or x.show.ids.imdb]
    play_shows = [_show(x) for x in named]
    plays: list[tuple[str, Play]] = [
        (str(x.source), Play(ref(shown), x.season, x.episode, parse_ts(x.watched_at) or now, x.history_id, x.action,
                             x.episode_title, x.watched_at))
        for x, shown in zip(named, play_shows, strict=True)]
    listed: list[tuple[str, list[dict[str, Any]], list[tuple[Any, ...]]]] = [
        ("ratings", [_show(x) for x in doc.ratings], [(x.rating, x.rated_at) for x in doc.ratings]),
        ("watchlist", [_show(x) for x in doc.watchlist], [(x.listed_at,) for x in doc.watchlist]),
        ("hidden", [_show(x) for x in doc.hidden], [(x.kind, x.hidden_at) for x in doc.hidden]),
        ("dismissed", [_show(x) for x in doc.dismissed],
         [(x.at, str(x.reason) if x.reason else None) for x in doc.dismissed])]
    alerts = []
    for x in doc.alerts:
        a = x.model_dump(mode="json")
        a["payload"] = x.payload.model_dump(mode="json", exclude_unset=True)
        a["status"] = "pending" if x.status == "sending" else x.status     # a claim dies with its place
        alerts.append(a)
    return Prepared(doc, play_shows, plays, listed, [_show(x) for x in doc.picks],
                    [x.model_dump(mode="json") for x in doc.picks], [_show(x) for x in doc.alerts], alerts,
                    len(doc.plays) - len(named))


def _show(x: Any) -> dict[str, Any]:
    shown: dict[str, Any] = x.show.model_dump(exclude_none=True)
    return shown
