"""The one grounded LLM call of a request: it picks from our shortlist and words the reasons; what does not validate
is dropped and backfilled."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from engine.plumbing.prompt_log import about
from engine.ports.llm import LlmPort
from engine.recommend.explain import ShortItem, clean_reason, pick_and_explain
from engine.recommend.pipeline import Pick
from engine.recommend.ranking import Job, Ranked
from engine.values.models import Persona, Recommendation, RecommendRequest, ShowIds

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


async def choose(llm: LlmPort, items: list[Recommendation], ranked: Ranked, personas: Sequence[Persona],
                 req: RecommendRequest, job: Job, ids: Mapping[int, ShowIds],
                 item: Callable[..., Recommendation]) -> tuple[list[Recommendation], bool, int]:
    """Offer the LLM a shortlist (our picks first, then the next best); it chooses and words the reasons.
    The persona each pick serves stays ours; what does not validate is dropped and backfilled."""
    sc = ranked.scored
    chosen = [p.index for p in ranked.picks]
    order = chosen + [i for i in ranked.shortlist if i not in set(chosen)]
    short: list[ShortItem] = []
    for i in order[: max(3 * req.k, 15)]:
        m = sc.pool.metas[i]
        a = int(sc.assign[i])
        pname = personas[a].name if 0 <= a < len(personas) else "-"
        short.append(ShortItem(sc.pool.ids[i], f"{sc.pool.ids[i]} | {m.display_title} ({m.first_year}) | "
                                               f"{', '.join(m.genres[:3])} | {pname} | "
                                               f"{sc.lifecycle_label[i] or ''}"))
    lines = [f"{p.id}: {p.name} ({p.weight:.0%}) — e.g. {p.medoid.title}, "
             + ", ".join(x.title for x in p.shows[:2]) for p in personas]
    like = job.like[1].display_title if job.like else req.like
    task = {"all": "One pick per persona.", "bridge": "Shows that suit both personas at once.",
            "persona": "Picks for this one persona.", "like": f"Shows like {like}; name it in each reason.",
            "mood": f"The person's mood: {req.mood!r}.",
            "crowd": "Shows that people who share the person's tastes rate highly."
            }.get(req.mode, "A varied list across the personas.")
    about(req.person_id)                    # the prompt log marks these lines as the person's
    choice = await pick_and_explain(llm, lines, short, len(items), task)
    if choice is None or not choice.picks:
        return items, False, 0
    by_id = {r.show_id: r for r in items}
    index_of = {sc.pool.ids[i]: i for i in order}
    out: list[Recommendation] = []
    for p in choice.picks:
        base = by_id.get(p.id)
        if base is None:
            i = index_of[p.id]
            a = int(sc.assign[i])
            base = item(ranked, Pick(i, a, 0.0, "llm"), "", 0, personas, ids, job.filters)
        reason = clean_reason(p.reason) or base.reason      # the model's words, as plain text, or ours
        out.append(replace(base, reason=reason, strategy="llm" if p.id not in by_id else base.strategy))
    for r in items:                                     # backfill what the LLM dropped or invented
        if len(out) >= len(items):
            break
        if r.show_id not in {o.show_id for o in out}:
            out.append(r)
    return [replace(r, rank=i + 1) for i, r in enumerate(out)], True, choice.prompt_tokens
