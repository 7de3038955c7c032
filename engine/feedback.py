"""Implicit feedback (adoption of shown picks) and success rates with honest uncertainty.

A pick counts as *started* when the show appears in the person's history after it was shown, and *finished* past
``finish_share`` of its aired episodes. Rates are reported with counts and Wilson 95% intervals, per strategy
(mode), persona, source, or overall; a person sees their own, the bot owner everyone's.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass

from .clock import Clock, iso
from .store import Store


@dataclass(frozen=True, slots=True)
class Rate:
    key: str
    shown: int
    started: int
    finished: int
    liked: int
    dismissed: int
    low: float                  # Wilson 95% interval of the started share
    high: float

    @property
    def started_share(self) -> float:
        return self.started / self.shown if self.shown else 0.0


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = k / n
    d = 1 + z * z / n
    c = p + z * z / (2 * n)
    r = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (c - r) / d), min(1.0, (c + r) / d)


class Adoption:
    def __init__(self, store: Store, clock: Clock, finish_share: float = 0.8) -> None:
        self.store = store
        self.clock = clock
        self.finish_share = finish_share

    async def update(self, person_id: int) -> int:
        """Record adoption of shown picks from the history (run after every sync or import). Returns changes."""
        rows = await self.store.all(
            "SELECT e.id, e.show_id, COUNT(DISTINCT p.season || ':' || COALESCE(p.episode, p.episode_title)) AS eps, "
            "COALESCE(s.aired_episodes, 0) AS aired, a.state FROM rec_events e JOIN plays p ON p.person_id=e.person_id "
            "AND p.show_id=e.show_id AND p.watched_at >= e.shown_at JOIN shows s ON s.id=e.show_id "
            "LEFT JOIN adoptions a ON a.event_id=e.id WHERE e.person_id=? GROUP BY e.id", (person_id,))
        changed = 0
        stamp = iso(self.clock.now())
        async with self.store.tx() as db:
            for r in rows:
                finished = bool(r["aired"]) and r["eps"] >= self.finish_share * r["aired"]
                state = "finished" if finished else "started"
                if r["state"] == state or (r["state"] == "finished"):
                    continue
                await db.execute("INSERT OR REPLACE INTO adoptions VALUES (?,?,?,?,?)",
                                 (r["id"], person_id, state, r["eps"], stamp))
                changed += 1
        return changed

    async def rates(self, person_id: int | None = None, by: str = "strategy") -> list[Rate]:
        """Success per ``by`` in strategy | persona | source | all, for one person or everyone."""
        rows = await self.store.all(
            "SELECT e.id, e.strategy, e.persona_id, e.sources, a.state, "
            "(SELECT MAX(active) FROM feedback f WHERE f.event_id=e.id AND f.kind='liked') AS liked, "
            "(SELECT MAX(active) FROM feedback f WHERE f.event_id=e.id AND f.kind='not_for_me') AS nope "
            "FROM rec_events e LEFT JOIN adoptions a ON a.event_id=e.id"
            + (" WHERE e.person_id=?" if person_id is not None else ""),
            (person_id,) if person_id is not None else ())
        groups: dict[str, list[tuple[bool, bool, bool, bool]]] = defaultdict(list)
        for r in rows:
            keys = {"strategy": [str(r["strategy"])], "persona": [f"persona {r['persona_id']}"],
                    "source": list(json.loads(r["sources"] or "[]")), "all": ["all"]}[by]
            flags = (r["state"] is not None, r["state"] == "finished", bool(r["liked"]), bool(r["nope"]))
            for k in keys:
                groups[k].append(flags)
        out = []
        for k, fl in sorted(groups.items()):
            n, st = len(fl), sum(f[0] for f in fl)
            lo, hi = wilson(st, n)
            out.append(Rate(k, n, st, sum(f[1] for f in fl), sum(f[2] for f in fl), sum(f[3] for f in fl), lo, hi))
        return out


@dataclass(frozen=True, slots=True)
class ArmStats:
    shown: int
    started: int


def source_posteriors(person: dict[str, ArmStats], everyone: dict[str, ArmStats],
                      prior_weight: float = 20.0) -> dict[str, tuple[float, float]]:
    """Beta posteriors of "a pick from this source gets started", per source: a global prior (everyone's
    rate, worth at most ``prior_weight`` picks) updated with this person's own picks."""
    out = {}
    for arm in set(person) | set(everyone):
        g = everyone.get(arm, ArmStats(0, 0))
        scale = min(1.0, prior_weight / g.shown) if g.shown else 0.0
        a = 1.0 + g.started * scale
        b = 1.0 + (g.shown - g.started) * scale
        p = person.get(arm, ArmStats(0, 0))
        out[arm] = (a + p.started, b + p.shown - p.started)
    return out


async def arm_stats(store: Store, person_id: int | None) -> dict[str, ArmStats]:
    """Shown and started picks per candidate source (one person, or everyone)."""
    rows = await store.all(
        "SELECT e.sources, a.state FROM rec_events e LEFT JOIN adoptions a ON a.event_id=e.id"
        + (" WHERE e.person_id=?" if person_id is not None else ""),
        (person_id,) if person_id is not None else ())
    shown: dict[str, int] = defaultdict(int)
    started: dict[str, int] = defaultdict(int)
    for r in rows:
        for src in json.loads(r["sources"] or "[]"):
            shown[src] += 1
            started[src] += int(r["state"] is not None)
    return {k: ArmStats(shown[k], started[k]) for k in shown}
