"""LLM pick-and-explain from a grounded shortlist: at most one call per request, ids validated against the
shortlist, invented or duplicate picks dropped and backfilled by the engine's own ranking."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, Field

from ..llm import LLM, PromptTooLong, estimate_tokens

SYSTEM = (
    "You recommend TV shows to one person from a shortlist. The person has several taste personas. Choose the "
    "requested number of shows ONLY from the shortlist (use their ids), spread over the personas when asked, and "
    "give each pick a one-line, specific reason grounded in the person's shows. Never invent shows."
)


class Pick(BaseModel):
    id: int
    persona_id: int | None = None
    reason: str = Field(min_length=3, max_length=220)


class Picks(BaseModel):
    picks: list[Pick] = Field(max_length=30)


@dataclass
class ShortItem:
    id: int
    line: str               # compact description for the prompt


@dataclass
class LlmChoice:
    picks: list[Pick]
    dropped: int            # picks outside the shortlist or repeated
    prompt_tokens: int


async def pick_and_explain(llm: LLM, personas: Sequence[str], shortlist: Sequence[ShortItem], k: int,
                           instruction: str) -> LlmChoice | None:
    budget = llm.settings.max_prompt_tokens - estimate_tokens(SYSTEM) - 200
    head = "Personas:\n" + "\n".join(personas) + f"\n\nTask: {instruction} Pick {k}.\n\nShortlist (id | show):\n"
    lines = [s.line for s in shortlist]
    while lines and estimate_tokens(head + "\n".join(lines)) > budget:
        lines.pop()                                     # the shortlist shrinks to fit the prompt budget
    if len(lines) < k:
        return None
    allowed = {s.id for s in shortlist[: len(lines)]}
    try:
        got = await llm.structured("pick-and-explain", SYSTEM, head + "\n".join(lines), Picks, max_tokens=120 * k)
    except PromptTooLong:
        return None
    if got is None:
        return None
    seen: set[int] = set()
    kept: list[Pick] = []
    dropped = 0
    for p in got.picks:
        if p.id not in allowed or p.id in seen:
            dropped += 1
            continue
        seen.add(p.id)
        kept.append(p)
    return LlmChoice(kept[:k], dropped, llm.stats.last_prompt_tokens)
