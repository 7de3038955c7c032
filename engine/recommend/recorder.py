"""The recorder, the last stage of a request: every pick shown becomes an event (feedback, adoption, alerts and the
bandit trace back to it), and the show's metadata is kept even when nobody's history holds the show."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta

from engine.plumbing.clock import Clock
from engine.recommend.ranking import Ranked
from engine.store import Store
from engine.store.records import NewEvent
from engine.values.meta import ShowMeta
from engine.values.models import Mode, Recommendation, RecommendRequest


async def record(store: Store, clock: Clock, req: RecommendRequest, request_id: str, items: list[Recommendation],
                 llm_used: bool, ranked: Ranked | None = None, *,
                 metas: Mapping[int, ShowMeta] | None = None) -> list[Recommendation]:
    events = [NewEvent(req.person_id, r.show_id, request_id, "group" if req.mode == Mode.GROUP else r.strategy,
                       r.persona_id, tuple(r.sources), r.rank, req.mode, r.score, r.reason, llm_used, req.platform)
              for r in items]
    if metas is None:
        assert ranked is not None
        metas = {sid: m for sid, m in zip(ranked.scored.pool.ids, ranked.scored.pool.metas, strict=True)}
    now = clock.now()
    async with store.unit() as uow:
        ids = await uow.events.record(events, now)
        # what we showed must be known later (feedback, alerts, adoption) even if nobody's history holds it
        await uow.shows.save_missing_metas([(r.show_id, metas[r.show_id]) for r in items
                                            if r.show_id in metas and not metas[r.show_id].partial],
                                           now, now + timedelta(days=7))
    return [replace(r, event_id=e) for r, e in zip(items, ids, strict=True)]
