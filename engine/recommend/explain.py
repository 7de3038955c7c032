"""LLM pick-and-explain from a grounded shortlist: at most one call per request, ids validated against the
shortlist, invented or duplicate picks dropped and backfilled by the engine's own ranking."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from babel import Locale
from pydantic import BaseModel, Field

from engine.ports.llm import LlmPort, PromptTooLong, estimate_tokens
from engine.values.i18n import LANGUAGES, current

SYSTEM = (
    "You recommend TV shows to one person from a shortlist. The person has several taste personas. Choose the "
    "requested number of shows ONLY from the shortlist (use their ids), spread over the personas when asked, and "
    "give each pick a one-line, specific reason grounded in the person's shows. Never invent shows."
)


REASON_MAX = 200
_URL = re.compile(r"(?i)\b(?:[a-z][a-z0-9+.-]*://|www\.)\S*")
_DOMAIN = re.compile(r"(?i)\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:[a-z]{2,24})(?:/\S*)?\b")
_MENTION = re.compile(r"<[@#][!&]?\d+>|<a?:\w+:\d+>|@\w+")
_MARKUP = re.compile(r"[`*_~|<>\[\]{}#\\]")


def clean_reason(text: str) -> str | None:
    """A reason from the model as plain words: no links or bare domains, no mentions (``@everyone``, ``<@id>``),
    no markup or control characters, one line, capped. None when too little is left to show."""
    t = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    t = _URL.sub(" ", t)
    t = _MENTION.sub(" ", t)
    t = _DOMAIN.sub(lambda m: " " if _looks_like_domain(m.group(0)) else m.group(0), t)
    t = _MARKUP.sub(" ", t)
    t = re.sub(r"\(\s*\)|\(\s*$", " ", re.sub(r"\s+", " ", t))
    t = re.sub(r"\s+", " ", t).strip(" -:;,")
    if len(t) > REASON_MAX:
        t = t[:REASON_MAX - 1].rsplit(" ", 1)[0].rstrip(" ,;:-") + "…"
    return t if len(t) >= 3 else None


def _looks_like_domain(s: str) -> bool:
    """"evil.example", "bit.ly/x" — not "Mr. Robot" or "e.g." (letters on both sides of a dot, no spaces)."""
    head, _sep, tail = s.partition("/")
    parts = head.split(".")
    return len(parts) >= 2 and all(parts) and parts[-1].isalpha() and len(parts[-1]) >= 2 and (
        bool(tail) or len(parts[-2]) >= 2)


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


async def pick_and_explain(llm: LlmPort, personas: Sequence[str], shortlist: Sequence[ShortItem], k: int,
                           instruction: str) -> LlmChoice | None:
    budget = llm.settings.max_prompt_tokens - estimate_tokens(SYSTEM) - 200
    lang = current()
    speak = (f" Write each reason in {Locale.parse(lang).get_display_name('en')}."
             if lang in LANGUAGES else "")             # the reasons in the person's language, like the rest
    head = ("Personas:\n" + "\n".join(personas) + f"\n\nTask: {instruction} Pick {k}.{speak}\n\n"
            "Shortlist (id | show):\n")
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
