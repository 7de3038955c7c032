"""Personas for people in the store: load, build off the event loop, keep identities, persist, name."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ..clock import Clock, iso, parse_ts
from ..models import Persona, PersonaReport, PersonaShow
from ..store import Store
from .build import PersonaBuild, PersonaDraft, build_personas
from .features import Matrix, cowatch_embeddings
from .history import PersonHistory, ShowHistory, Watch
from .personas import match_identities

log = logging.getLogger(__name__)


async def load_history(store: Store, person_id: int) -> tuple[PersonHistory, dict[int, dict[str, Any]]]:
    person = await store.person(person_id)
    tz = person["timezone"] if person else None
    shows: dict[int, ShowHistory] = {}
    metas: dict[int, dict[str, Any]] = {}

    def show(row: Any) -> ShowHistory:
        sid = int(row["show_id"])
        if sid not in shows:
            meta = json.loads(row["meta"]) if row["meta"] else {}
            meta.setdefault("title", row["title"])
            meta.setdefault("year", row["year"])
            metas[sid] = meta
            shows[sid] = ShowHistory(sid, aired_episodes=row["aired_episodes"] or meta.get("number_of_episodes"),
                                     runtime=meta.get("runtime"))
        return shows[sid]

    for r in await store.all(
        "SELECT p.show_id, p.season, COALESCE(p.episode, p.episode_title) AS ep, p.watched_at, s.title, s.year, "
        "s.aired_episodes, s.meta FROM plays p JOIN shows s ON s.id=p.show_id WHERE p.person_id=? "
        "ORDER BY p.watched_at", (person_id,)
    ):
        at = parse_ts(r["watched_at"])
        if at is not None:
            show(r).watches.append(Watch(int(r["season"]), r["ep"], at))
    for r in await store.all(
        "SELECT r.show_id, r.rating, s.title, s.year, s.aired_episodes, s.meta FROM ratings r "
        "JOIN shows s ON s.id=r.show_id WHERE r.person_id=?", (person_id,)
    ):
        show(r).rating = int(r["rating"])
    for r in await store.all(
        "SELECT h.show_id, s.title, s.year, s.aired_episodes, s.meta FROM hidden h JOIN shows s ON s.id=h.show_id "
        "WHERE h.person_id=?", (person_id,)
    ):
        show(r).dropped = True
    return PersonHistory(shows, tz), metas


class PersonaService:
    def __init__(self, store: Store, clock: Clock, *, namer: Any = None, tagger: Any = None, seed: int = 0) -> None:
        self.store = store
        self.tagger = tagger          # optional: async (show ids) -> int, adds LLM tone tags to show metadata
        self.clock = clock
        self.namer = namer            # optional LLM namer: async (drafts, metas) -> list[(name, description)] | None
        self.seed = seed
        self._cf: tuple[str, dict[int, Matrix]] | None = None
        self._locks: dict[int, asyncio.Lock] = {}

    async def fingerprint(self, person_id: int) -> str:
        row = await self.store.one(
            "SELECT (SELECT COUNT(*) || ':' || COALESCE(MAX(watched_at), '') FROM plays WHERE person_id=:p), "
            "(SELECT COUNT(*) || ':' || COALESCE(SUM(rating), 0) FROM ratings WHERE person_id=:p), "
            "(SELECT COUNT(*) FROM hidden WHERE person_id=:p), "
            "(SELECT COUNT(*) FROM shows WHERE meta IS NOT NULL AND id IN (SELECT show_id FROM plays "
            "WHERE person_id=:p))", {"p": person_id})
        return hashlib.sha1(repr(tuple(row) if row else ()).encode()).hexdigest()[:16]

    async def _cowatch(self) -> dict[int, Matrix]:
        row = await self.store.one("SELECT COUNT(*), COUNT(DISTINCT person_id) FROM plays")
        key = repr(tuple(row) if row else ())
        if self._cf is not None and self._cf[0] == key:
            return self._cf[1]
        pairs = await self.store.all("SELECT DISTINCT person_id, show_id FROM plays")
        inter: dict[int, list[int]] = {}
        for p, s in pairs:
            inter.setdefault(int(p), []).append(int(s))
        cf = await asyncio.to_thread(cowatch_embeddings, inter, 24, self.seed)
        self._cf = (key, cf)
        return cf

    async def stored(self, person_id: int) -> PersonaReport | None:
        """The last computed personas, without recomputing (None before the first computation)."""
        state = await self.store.one("SELECT report FROM persona_state WHERE person_id=?", (person_id,))
        return report_from_json(json.loads(state["report"])) if state else None

    async def personas(self, person_id: int, *, force: bool = False) -> PersonaReport:
        async with self._locks.setdefault(person_id, asyncio.Lock()):
            fp = await self.fingerprint(person_id)
            state = await self.store.one("SELECT fingerprint, report FROM persona_state WHERE person_id=?",
                                         (person_id,))
            if state and state["fingerprint"] == fp and not force:
                return report_from_json(json.loads(state["report"]))
            if self.tagger is not None:
                ids = [int(r[0]) for r in await self.store.all(
                    "SELECT DISTINCT show_id FROM plays WHERE person_id=?", (person_id,))]
                try:
                    await self.tagger(ids)
                except Exception as e:   # tags are optional
                    log.warning("LLM show tagging failed: %s", type(e).__name__)
                fp = await self.fingerprint(person_id)
            history, metas = await load_history(self.store, person_id)
            cf = await self._cowatch()
            now = self.clock.now()
            now = now.replace(microsecond=now.microsecond // 1000 * 1000)   # as precise as it is stored
            previous = [json.loads(r["members"]) for r in await self.store.all(
                "SELECT members FROM personas WHERE person_id=? AND active=1 ORDER BY id", (person_id,))]
            prev = [{int(k): float(v) for k, v in m.items()} for m in previous]
            build = await asyncio.to_thread(build_personas, history, metas, now, cf=cf, seed=self.seed,
                                            previous=prev or None)
            report = await self._persist(person_id, build, metas, fp, now)
            return report

    async def _persist(self, person_id: int, build: PersonaBuild, metas: Mapping[int, Mapping[str, Any]],
                       fp: str, now: datetime) -> PersonaReport:
        prev_rows = await self.store.all(
            "SELECT id, members FROM personas WHERE person_id=? AND active=1", (person_id,))
        previous = [(int(r["id"]), {int(k): float(v) for k, v in json.loads(r["members"]).items()})
                    for r in prev_rows]
        ids = match_identities(previous, [d.cluster for d in build.personas])
        if self.namer is not None and build.personas:
            try:
                named = await self.namer(build.personas, metas)
            except Exception as e:   # the LLM is optional: deterministic names stay
                log.warning("persona naming by LLM failed: %s", type(e).__name__)
                named = None
            if named:
                for d, (name, desc) in zip(build.personas, named, strict=False):
                    d.name, d.description = name, desc
        personas: list[Persona] = []
        stamp = iso(now)
        async with self.store.tx() as db:
            keep = {i for i in ids if i is not None}
            for pid_, _ in previous:
                if pid_ not in keep:
                    await db.execute("UPDATE personas SET active=0, updated_at=? WHERE id=?", (stamp, pid_))
            for d, maybe_id in zip(build.personas, ids, strict=True):
                members = {str(s): round(w, 4) for s, w in zip(d.cluster.members, d.cluster.weights, strict=True)}
                centroid = np.asarray(d.cluster.centroid, dtype=np.float32).tobytes()
                if maybe_id is None:
                    cur = await db.execute(
                        "INSERT INTO personas(person_id, name, description, weight, medoid_show_id, members, "
                        "centroid, active, created_at, updated_at) VALUES (?,?,?,?,?,?,?,1,?,?)",
                        (person_id, d.name, d.description, d.cluster.share, d.cluster.medoid, json.dumps(members),
                         centroid, stamp, stamp))
                    persona_id = int(cur.lastrowid or 0)
                else:
                    persona_id = maybe_id
                    await db.execute(
                        "UPDATE personas SET name=?, description=?, weight=?, medoid_show_id=?, members=?, "
                        "centroid=?, active=1, updated_at=? WHERE id=?",
                        (d.name, d.description, d.cluster.share, d.cluster.medoid, json.dumps(members), centroid,
                         stamp, persona_id))
                personas.append(to_persona(persona_id, d, metas))
            report = PersonaReport(person_id=person_id, personas=tuple(personas), periods=tuple(build.periods),
                                   computed_at=now)
            await db.execute(
                "INSERT OR REPLACE INTO persona_state(person_id, fingerprint, computed_at, report) VALUES (?,?,?,?)",
                (person_id, fp, stamp, json.dumps(report_to_json(report))))
        return report


def _show(sid: int, w: float, metas: Mapping[int, Mapping[str, Any]]) -> PersonaShow:
    m = metas.get(sid) or {}
    year = m.get("year")
    if not isinstance(year, int):
        d = m.get("first_air_date") or ""
        year = int(d[:4]) if isinstance(d, str) and d[:4].isdigit() else None
    return PersonaShow(show_id=sid, title=str(m.get("title") or m.get("name") or f"show {sid}"), year=year,
                       weight=round(w, 3))


def to_persona(persona_id: int, d: PersonaDraft, metas: Mapping[int, Mapping[str, Any]]) -> Persona:
    c = d.cluster
    medoid_w = dict(zip(c.members, c.weights, strict=True))[c.medoid]
    reps = [m for m in c.members if m != c.medoid][:3]
    wmap = dict(zip(c.members, c.weights, strict=True))
    return Persona(
        id=persona_id, name=d.name, description=d.description, weight=round(c.share, 4),
        medoid=_show(c.medoid, medoid_w, metas), shows=tuple(_show(s, wmap[s], metas) for s in reps),
        size=len(c.members), genres=tuple(d.genres), style=d.style, binge_share=round(d.binge_share, 3),
        weekly_share=round(d.weekly_share, 3), when=d.context.label,
        hours=tuple(round(h, 4) for h in d.context.hours), weekdays=tuple(round(x, 4) for x in d.context.weekdays),
        trend=d.trend, timeline=tuple(round(x, 4) for x in d.timeline), cohesion=round(c.cohesion, 3),
        member_ids=tuple(c.members),
    )


def report_to_json(r: PersonaReport) -> dict[str, Any]:
    from dataclasses import asdict
    d = asdict(r)
    d["computed_at"] = iso(r.computed_at)
    return d


def report_from_json(d: dict[str, Any]) -> PersonaReport:
    personas = []
    for raw in d["personas"]:
        p = dict(raw)
        p["medoid"] = PersonaShow(**p["medoid"])
        p["shows"] = tuple(PersonaShow(**s) for s in p["shows"])
        for k in ("genres", "hours", "weekdays", "timeline", "member_ids"):
            p[k] = tuple(p[k])
        personas.append(Persona(**p))
    return PersonaReport(person_id=d["person_id"], personas=tuple(personas), periods=tuple(d["periods"]),
                         computed_at=parse_ts(d["computed_at"]) or datetime.now(UTC))
