"""Personas for people in the store: load, build off the event loop, keep identities, persist, name."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from engine.plumbing.clock import Clock
from engine.plumbing.compute import offload
from engine.plumbing.prompt_log import about
from engine.store import Store, Unit
from engine.taste.build import PersonaBuild, PersonaDraft, build_personas
from engine.taste.chart import ChartData, all_charts
from engine.taste.features import Matrix, build_features, what_it_is
from engine.taste.history import PersonHistory, ShowHistory, Watch
from engine.taste.personas import match_identities
from engine.values.meta import EMPTY, ShowMeta
from engine.values.models import Chart, Persona, PersonaReport, PersonaShow

log = logging.getLogger(__name__)

Namer = Callable[[Sequence[PersonaDraft], Mapping[int, ShowMeta]], Awaitable[list[tuple[str, str]] | None]]
Tagger = Callable[[list[int]], Awaitable[int]]
Cowatch = Callable[[], Awaitable[Any]]       # the deployment's population (its ``cf`` co-watching embeddings)


async def load_history(uow: Unit, person_id: int) -> tuple[PersonHistory, dict[int, ShowMeta]]:
    """A person's viewing as the taste code reads it, with the metadata of every show in it."""
    person = await uow.people.get(person_id)
    watches = await uow.history.watches(person_id)
    ratings = await uow.history.ratings(person_id)
    hidden = await uow.history.hidden(person_id)
    ids = {w.show_id for w in watches} | set(ratings) | hidden
    records = await uow.shows.many(ids)
    metas = {sid: rec.meta for sid, rec in records.items()}
    shows: dict[int, ShowHistory] = {}

    def show(sid: int) -> ShowHistory:
        if sid not in shows:
            rec = records.get(sid)
            meta = metas.get(sid, EMPTY)
            shows[sid] = ShowHistory(sid, aired_episodes=(rec.aired_episodes if rec else None)
                                     or meta.number_of_episodes, runtime=meta.runtime)
        return shows[sid]

    for w in watches:
        show(w.show_id).watches.append(Watch(w.season, w.episode, w.at, w.timed))
    for sid, rating in ratings.items():
        show(sid).rating = rating
    for sid in hidden:
        show(sid).dropped = True
    return PersonHistory(shows, person.timezone if person else None), metas


class PersonaService:
    def __init__(self, store: Store, clock: Clock, *, namer: Namer | None = None, tagger: Tagger | None = None,
                 cowatch: Cowatch | None = None, seed: int = 0) -> None:
        self.store = store
        self.clock = clock
        self.namer = namer            # optional LLM namer: (drafts, metas) -> [(name, description)] | None
        self.tagger = tagger          # optional: (show ids) -> how many shows got LLM tone tags
        self.cowatch = cowatch        # the population whose co-watching shapes the feature rows (one for all)
        self.seed = seed
        self._locks: dict[int, asyncio.Lock] = {}

    async def fingerprint(self, uow: Unit, person_id: int) -> str:
        return hashlib.sha1(repr(await uow.history.fingerprint(person_id)).encode()).hexdigest()[:16]

    async def _cowatch(self) -> dict[int, Matrix]:
        """Co-watching embeddings of the deployment's population: personas and candidates share one layout."""
        if self.cowatch is None:
            return {}
        cf: dict[int, Matrix] = (await self.cowatch()).cf
        return cf

    async def stored(self, person_id: int) -> PersonaReport | None:
        """The last computed personas, without recomputing (None before the first computation)."""
        async with self.store.read() as uow:
            got = await uow.personas.stored(person_id)
        return got[1] if got is not None else None

    async def report(self, person_id: int, *, force: bool = False, stored: bool = False) -> PersonaReport:
        """The personas (recomputed when the history changed); ``stored``: as last computed, never computing (an
        empty report before the first computation)."""
        if stored:
            return await self.stored(person_id) or PersonaReport(person_id, (), (), self.clock.now())
        return await self.personas(person_id, force=force)

    async def charts(self, person_id: int) -> list[Chart]:
        """Tastes over time, when the person watches, and the map of their shows (built in a worker thread)."""
        data = await self.chart_data(person_id)
        return await offload(all_charts, data)

    async def chart_data(self, person_id: int) -> ChartData:
        """What the charts draw: plays, personas, time zone, and a 2-D layout of the persona shows."""
        report = await self.personas(person_id)
        async with self.store.read() as uow:
            history, metas = await load_history(uow, person_id)
        return await offload(_chart_data, report, history, metas, self.clock.now())

    async def personas(self, person_id: int, *, force: bool = False) -> PersonaReport:
        async with self._locks.setdefault(person_id, asyncio.Lock()):
            async with self.store.read() as uow:
                fp = await self.fingerprint(uow, person_id)
                got = await uow.personas.stored(person_id)
                played = sorted(await uow.history.played_shows(person_id)) if self.tagger is not None else []
            if got is not None and got[0] == fp and not force:
                return got[1]
            seen = got[1].computed_at if got is not None else None
            if self.tagger is not None:
                try:
                    await self.tagger(played)
                except Exception as e:   # tags are optional
                    log.warning("LLM show tagging failed: %s", type(e).__name__)
            cf = await self._cowatch()
            async with self.store.read() as uow:
                fp = await self.fingerprint(uow, person_id)
                history, metas = await load_history(uow, person_id)
                previous = await uow.personas.active(person_id)
            now = self.clock.now()
            now = now.replace(microsecond=now.microsecond // 1000 * 1000)   # as precise as it is stored
            build = await offload(build_personas, history, metas, now, cf=cf, seed=self.seed,
                                  previous=[m for _, m in previous] or None)
            return await self._persist(person_id, build, metas, fp, now, previous, seen)

    async def _persist(self, person_id: int, build: PersonaBuild, metas: Mapping[int, ShowMeta], fp: str,
                       now: datetime, previous: list[tuple[int, dict[int, float]]],
                       seen: datetime | None) -> PersonaReport:
        ids = match_identities(previous, [d.cluster for d in build.personas])
        if self.namer is not None and build.personas:
            try:
                about(person_id)                 # the prompt log marks these lines as the person's
                named = await self.namer(build.personas, metas)
            except Exception as e:   # the LLM is optional: deterministic names stay
                log.warning("persona naming by LLM failed: %s", type(e).__name__)
                named = None
            if named:
                for d, (name, desc) in zip(build.personas, named, strict=False):
                    d.name, d.description = name, desc
        personas: list[Persona] = []
        async with self.store.unit() as uow:
            # another process may be persisting this person's personas too (the person spoke in two shards)
            await uow.people.hold(person_id)
            stored = await uow.personas.stored(person_id)
            if stored is not None and stored[0] == fp and stored[1].computed_at != seen:
                return stored[1]                     # it finished first, from the same history: that is the answer
            keep = {i for i in ids if i is not None}
            current = await uow.personas.active(person_id)
            await uow.personas.retire([p for p, _ in current if p not in keep], now)
            for d, maybe_id in zip(build.personas, ids, strict=True):
                c = d.cluster
                persona_id = await uow.personas.put(
                    person_id, maybe_id, name=d.name, description=d.description, weight=c.share, medoid=c.medoid,
                    members=dict(zip(c.members, c.weights, strict=True)), centroid=c.centroid, at=now)
                personas.append(to_persona(persona_id, d, metas))
            report = PersonaReport(person_id=person_id, personas=tuple(personas), periods=tuple(build.periods),
                                   computed_at=now)
            await uow.personas.save_report(person_id, fp, report)
        return report


def _show(sid: int, w: float, metas: Mapping[int, ShowMeta]) -> PersonaShow:
    m = metas.get(sid) or EMPTY
    return PersonaShow(show_id=sid, title=m.title or f"show {sid}", year=m.first_year, weight=round(w, 3))


def to_persona(persona_id: int, d: PersonaDraft, metas: Mapping[int, ShowMeta]) -> Persona:
    c = d.cluster
    wmap = dict(zip(c.members, c.weights, strict=True))
    reps = [m for m in c.members if m != c.medoid][:3]
    return Persona(
        id=persona_id, name=d.name, description=d.description, weight=round(c.share, 4),
        medoid=_show(c.medoid, wmap[c.medoid], metas), shows=tuple(_show(s, wmap[s], metas) for s in reps),
        size=len(c.members), genres=tuple(d.genres), style=d.style, binge_share=round(d.binge_share, 3),
        weekly_share=round(d.weekly_share, 3), when=d.context.label,
        hours=tuple(round(h, 4) for h in d.context.hours), weekdays=tuple(round(x, 4) for x in d.context.weekdays),
        trend=d.trend, timeline=tuple(round(x, 4) for x in d.timeline), cohesion=round(c.cohesion, 3),
        member_ids=tuple(c.members), member_weights=tuple(round(w, 4) for w in c.weights),
    )


def _chart_data(report: PersonaReport, history: PersonHistory, metas: Mapping[int, ShowMeta],
                now: datetime) -> ChartData:
    plays = [(sid, w.at, w.timed) for sid, s in history.shows.items() for w in s.watches]
    members = [(p.name, list(p.member_ids)) for p in report.personas]
    ids = sorted({s for _, m in members for s in m})
    coords: dict[int, tuple[float, float]] = {}
    if len(ids) >= 3:
        from sklearn.decomposition import TruncatedSVD
        rows = what_it_is(build_features({sid: metas.get(sid) or EMPTY for sid in ids}).matrix)   # as grouped
        xy = TruncatedSVD(n_components=2, random_state=0).fit_transform(rows)
        coords = {sid: (float(x), float(y)) for sid, (x, y) in zip(ids, xy, strict=True)}
    labels = {p.medoid.show_id: p.medoid.title for p in report.personas}
    return ChartData(members, plays, history.timezone, now, coords, labels)
