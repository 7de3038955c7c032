"""Tone, pacing and complexity tags per show from the LLM (when one is configured), cached in the show's
metadata so each show is tagged once for everyone. Tags come from a fixed vocabulary; anything else is dropped."""

from __future__ import annotations

import logging

from pydantic import BaseModel, Field

from engine.ports.llm import LlmPort, PromptTooLong
from engine.store import Store
from engine.values.i18n import N_
from engine.values.meta import ShowMeta

log = logging.getLogger(__name__)

VOCABULARY = (N_("dark"), N_("light"), N_("cerebral"), N_("comforting"), N_("fast-paced"), N_("slow-burn"),
              N_("complex"), N_("easy-going"), N_("emotional"), N_("violent"), N_("funny"), N_("epic"), N_("quirky"),
              N_("tense"), N_("romantic"), N_("whimsical"))     # marked: reasons name them in the person's language
SYSTEM = ("Tag each TV show with 2-4 words describing its tone, pacing and complexity, chosen ONLY from this "
          f"list: {', '.join(VOCABULARY)}. Use the id given for each show.")


class ShowTags(BaseModel):
    id: int
    tags: list[str] = Field(max_length=6)


class TagBatch(BaseModel):
    shows: list[ShowTags] = Field(max_length=40)


async def tag_shows(llm: LlmPort, store: Store, show_ids: list[int], *, batch: int = 20, max_calls: int = 5) -> int:
    """Tag the shows that have metadata but no tags yet. Returns how many shows were tagged."""
    if not show_ids:
        return 0
    async with store.read() as uow:
        records = await uow.shows.many(show_ids)
    todo: list[tuple[int, str, ShowMeta]] = [(sid, f"{r.title} ({r.year})", r.meta)
                                            for sid, r in sorted(records.items())
                                            if r.has_meta and not r.meta.empty and r.meta.tone is None]
    tagged = 0
    for n in range(0, min(len(todo), batch * max_calls), batch):
        chunk = todo[n:n + batch]
        lines = "\n".join(f"{sid}: {title} — {', '.join(m.genres)}. {m.overview[:160]}" for sid, title, m in chunk)
        try:
            got = await llm.structured("show-tags", SYSTEM, lines, TagBatch, max_tokens=60 * len(chunk))
        except PromptTooLong:
            break
        if got is None:
            break
        by_id = {t.id: tuple(x.lower() for x in t.tags if x.lower() in VOCABULARY) for t in got.shows}
        async with store.unit() as uow:
            for sid, _, meta in chunk:
                if sid in by_id:
                    await uow.shows.set_meta(sid, meta.with_(tone=by_id[sid]))
                    tagged += 1
    return tagged
