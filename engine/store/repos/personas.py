"""Personas: identities that stay stable across recomputations, their memberships, and the last report."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import numpy as np

from engine.store.db import Db, chunks, marks
from engine.values.models import Persona, PersonaReport, PersonaShow
from engine.values.times import iso, parse_ts


def report_to_json(r: PersonaReport) -> str:
    d = asdict(r)
    d["computed_at"] = iso(r.computed_at)
    return json.dumps(d)


def report_from_json(raw: str) -> PersonaReport:
    d: dict[str, Any] = json.loads(raw)
    personas = []
    for p0 in d["personas"]:
        p = dict(p0)
        p["medoid"] = PersonaShow(**p["medoid"])
        p["shows"] = tuple(PersonaShow(**s) for s in p["shows"])
        for k in ("genres", "hours", "weekdays", "timeline", "member_ids"):
            p[k] = tuple(p.get(k) or ())
        p.setdefault("member_weights", ())
        p["member_weights"] = tuple(p["member_weights"])
        personas.append(Persona(**{k: v for k, v in p.items() if k in Persona.__dataclass_fields__}))
    return PersonaReport(person_id=d["person_id"], personas=tuple(personas), periods=tuple(d["periods"]),
                         computed_at=parse_ts(d["computed_at"]) or datetime.now(UTC))


class PersonaRepo:
    def __init__(self, db: Db) -> None:
        self.db = db

    async def stored(self, person_id: int) -> tuple[str, PersonaReport] | None:
        """(history fingerprint it was computed from, the report), or None before the first computation."""
        row = await self.db.fetchone("SELECT fingerprint, report FROM persona_state WHERE person_id=?", person_id)
        return (str(row[0]), report_from_json(row[1])) if row is not None else None

    async def reports(self, person_ids: Sequence[int]) -> dict[int, PersonaReport]:
        out: dict[int, PersonaReport] = {}
        for chunk in chunks(list(person_ids)):
            for r in await self.db.fetch(
                    f"SELECT person_id, report FROM persona_state WHERE person_id IN ({marks(len(chunk))})", *chunk):
                out[int(r[0])] = report_from_json(r[1])
        return out

    async def active(self, person_id: int) -> list[tuple[int, dict[int, float]]]:
        """The person's current personas: (persona id, show id -> engagement weight), oldest first."""
        rows = await self.db.fetch("SELECT id, members FROM personas WHERE person_id=? AND active=1 ORDER BY id",
                                   person_id)
        return [(int(r[0]), {int(k): float(v) for k, v in json.loads(r[1]).items()}) for r in rows]

    async def centroids(self, person_id: int) -> dict[int, np.ndarray]:
        """The active personas' centroids (feature layout of the build that made them), by persona id."""
        rows = await self.db.fetch("SELECT id, centroid FROM personas WHERE person_id=? AND active=1", person_id)
        return {int(r[0]): np.frombuffer(r[1], dtype=np.float32).astype(np.float64) for r in rows
                if r[1] is not None}

    async def retire(self, persona_ids: Sequence[int], at: datetime) -> None:
        await self.db.executemany("UPDATE personas SET active=0, updated_at=? WHERE id=?",
                                  [(iso(at), p) for p in persona_ids])

    async def put(self, person_id: int, persona_id: int | None, *, name: str, description: str, weight: float,
                  medoid: int, members: Mapping[int, float], centroid: np.ndarray, at: datetime) -> int:
        """Create a persona (``persona_id`` None) or carry an existing one forward; returns its id."""
        mem = json.dumps({str(s): round(w, 4) for s, w in members.items()})
        blob = np.asarray(centroid, dtype=np.float32).tobytes()
        if persona_id is None:
            row = await self.db.fetchone(
                "INSERT INTO personas(person_id, name, description, weight, medoid_show_id, members, centroid, "
                "active, created_at, updated_at) VALUES (?,?,?,?,?,?,?,1,?,?) RETURNING id",
                person_id, name, description, weight, medoid, mem, blob, iso(at), iso(at))
            assert row is not None
            return int(row[0])
        await self.db.execute(
            "UPDATE personas SET name=?, description=?, weight=?, medoid_show_id=?, members=?, centroid=?, active=1, "
            "updated_at=? WHERE id=?", name, description, weight, medoid, mem, blob, iso(at), persona_id)
        return persona_id

    async def save_report(self, person_id: int, fingerprint: str, report: PersonaReport) -> None:
        await self.db.execute(
            "INSERT INTO persona_state(person_id, fingerprint, computed_at, report) VALUES (?,?,?,?) "
            "ON CONFLICT(person_id) DO UPDATE SET fingerprint=excluded.fingerprint, "
            "computed_at=excluded.computed_at, report=excluded.report",
            person_id, fingerprint, iso(report.computed_at), report_to_json(report))
