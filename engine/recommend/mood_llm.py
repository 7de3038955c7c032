"""``mood:"…"`` in any words, with an LLM: free text the offline reader (``mood.read_mood``) finds no genre in is
mapped to the typed request — genres from our vocabulary, a runtime bound, a streaming service — and validated
against it. Everything the model says outside the vocabulary is dropped; no answer, or garbage, leaves the
offline reading standing (the usual mix, said so)."""

from __future__ import annotations

import logging

from pydantic import BaseModel, Field

from engine.ports.llm import LlmPort, PromptTooLong
from engine.recommend.mood import SHORT_MINUTES, Mood
from engine.values import vocabulary

log = logging.getLogger(__name__)

SYSTEM = ("You turn what a viewer says they are in the mood for (any language) into a typed TV request. Genres only "
          "from this list: " + ", ".join(sorted(vocabulary.GENRES)) + ". max_runtime: the longest episode in "
          "minutes they would accept, only if they say so (short, quick, long…); provider: a streaming service only "
          "if they name one. Leave out what they do not want. Answer with JSON only.")


class MoodRequest(BaseModel):
    genres: list[str] = Field(default_factory=list, max_length=6)
    max_runtime: int | None = None
    provider: str | None = Field(None, max_length=60)


async def read_mood_llm(llm: LlmPort, text: str, offline: Mood) -> tuple[Mood, int | None, str | None] | None:
    """(the mood, an episode-length bound, a service) the model read into ``text``, validated; None when it read
    nothing usable. Called only when the offline reader found no genre."""
    try:
        got = await llm.structured("mood", SYSTEM, f"The viewer says: {text[:300]!r}", MoodRequest, max_tokens=120,
                                   temperature=0.0)
    except PromptTooLong:
        return None
    if got is None:
        return None
    genres = tuple(dict.fromkeys(g for g in (vocabulary.genre(x) for x in got.genres) if g))
    runtime = got.max_runtime if got.max_runtime is not None and 5 <= got.max_runtime <= 240 else None
    provider = (got.provider or "").strip() or None
    if not genres and runtime is None:
        return None
    short = offline.short or (runtime is not None and runtime <= SHORT_MINUTES)
    return Mood(text, genres, short, offline.ignored), runtime, provider
