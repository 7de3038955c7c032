"""Implicit feedback (adoption of shown picks) and success rates with honest uncertainty.

A pick counts as *started* when the show appears in the person's history after it was shown, and *finished* past
``finish_share`` of its aired episodes. Rates are reported with counts and Wilson 95% intervals, per strategy
(how the list was made: ranker or LLM, with or without
the bandit), mode, persona, source, or overall; a person sees their own, the bot owner everyone's.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict

from .adapt import ArmStats
from .clock import Clock, iso
from .models import Rate
from .store import Store


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
        """Success per ``by`` in strategy | mode | persona | source | all, for one person or everyone."""
        return (await self.rates_by(person_id, (by,)))[by]

    async def rates_by(self, person_id: int | None, bys: tuple[str, ...]) -> dict[str, list[Rate]]:
        """Several groupings of the same picks from one read of them."""
        rows = await self.store.all(
            "SELECT e.id, e.strategy, e.mode, e.persona_id, e.sources, a.state, "
            "(SELECT MAX(active) FROM feedback f WHERE f.event_id=e.id AND f.kind='liked') AS liked, "
            "(SELECT MAX(active) FROM feedback f WHERE f.event_id=e.id AND f.kind='not_for_me') AS nope "
            "FROM rec_events e LEFT JOIN adoptions a ON a.event_id=e.id"
            + (" WHERE e.person_id=?" if person_id is not None else ""),
            (person_id,) if person_id is not None else ())
        groups: dict[str, dict[str, list[tuple[bool, bool, bool, bool]]]] = {by: defaultdict(list) for by in bys}
        for r in rows:
            keys = {"strategy": [str(r["strategy"])], "mode": [str(r["mode"])],
                    "persona": [f"persona {r['persona_id']}"] if r["persona_id"] is not None else [],
                    "source": list(json.loads(r["sources"] or "[]")), "all": ["all"]}
            flags = (r["state"] is not None, r["state"] == "finished", bool(r["liked"]), bool(r["nope"]))
            for by in bys:
                for k in keys[by]:
                    groups[by][k].append(flags)
        out: dict[str, list[Rate]] = {}
        for by, per in groups.items():
            out[by] = []
            for k, fl in sorted(per.items()):
                n, st = len(fl), sum(f[0] for f in fl)
                lo, hi = wilson(st, n)
                out[by].append(Rate(k, n, st, sum(f[1] for f in fl), sum(f[2] for f in fl), sum(f[3] for f in fl),
                                    lo, hi))
        return out


# a pick "worked" when it was started, liked, already seen (the source found something to their taste) or listed
WORKED = ("(a.state IS NOT NULL OR EXISTS (SELECT 1 FROM feedback f WHERE f.event_id=e.id AND f.active=1 AND "
          "f.kind IN ('liked', 'seen', 'watchlist')))")


ARM_KINDS = ("source", "persona", "strategy", "all")


async def arm_stats(store: Store, person_id: int | None) -> dict[str, dict[str, ArmStats]]:
    """Shown and worked picks per arm, for every kind of arm in one read: ``source``, ``persona``, ``strategy``
    and ``all`` (one person, or everyone; group-watch picks are not a person's own and are left out)."""
    rows = await store.all(
        f"SELECT e.sources, e.persona_id, e.strategy, {WORKED} AS worked FROM rec_events e "
        "LEFT JOIN adoptions a ON a.event_id=e.id WHERE e.mode != 'group'"
        + (" AND e.person_id=?" if person_id is not None else ""),
        (person_id,) if person_id is not None else ())
    counts: dict[str, dict[str, list[int]]] = {k: defaultdict(lambda: [0, 0]) for k in ARM_KINDS}
    for r in rows:
        arms = {"source": json.loads(r["sources"] or "[]"),
                "persona": [str(r["persona_id"])] if r["persona_id"] is not None else [],
                "strategy": [str(r["strategy"])], "all": ["all"]}
        for kind, names in arms.items():
            for arm in names:
                c = counts[kind][arm]
                c[0] += 1
                c[1] += int(r["worked"])
    return {kind: {arm: ArmStats(n, w) for arm, (n, w) in per.items()} for kind, per in counts.items()}


async def ignored_counts(store: Store, person_id: int, before: str) -> dict[int, int]:
    """How many times each show was shown before ``before`` and then ignored (no start, no feedback at all)."""
    rows = await store.all(
        "SELECT e.show_id, COUNT(*) FROM rec_events e LEFT JOIN adoptions a ON a.event_id=e.id "
        "WHERE e.person_id=? AND e.shown_at < ? AND a.state IS NULL AND NOT EXISTS "
        "(SELECT 1 FROM feedback f WHERE f.event_id=e.id AND f.active=1) GROUP BY e.show_id", (person_id, before))
    return {int(r[0]): int(r[1]) for r in rows}
