"""Persona names and one-line descriptions from the LLM, validated; the deterministic names stay otherwise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, Field

from engine.ports.llm import LlmPort, PromptTooLong
from engine.taste.build import PersonaDraft
from engine.values.meta import EMPTY, ShowMeta

SYSTEM = (
    "You name the taste personas of a TV viewer. Each persona is a cluster of shows they watched. Give each a short, "
    "vivid name (2-4 words, e.g. 'Cerebral sci-fi fan', 'Dark crime thrillers') and one sentence describing it. "
    "Use only the shows listed. Keep the order and the number of personas."
)


class NamedPersona(BaseModel):
    index: int = Field(ge=0, le=50)
    name: str = Field(min_length=2, max_length=40)
    description: str = Field(max_length=200)


class PersonaNames(BaseModel):
    personas: list[NamedPersona] = Field(max_length=20)


class LlmNamer:
    def __init__(self, llm: LlmPort) -> None:
        self.llm = llm

    async def __call__(self, drafts: Sequence[PersonaDraft],
                       metas: Mapping[int, ShowMeta]) -> list[tuple[str, str]] | None:
        lines = []
        for i, d in enumerate(drafts):
            titles = ", ".join((metas.get(s) or EMPTY).title or str(s) for s in d.cluster.members[:8])
            lines.append(f"{i}. (now '{d.name}'; genres {', '.join(d.genres) or 'unknown'}; watched {d.style}) "
                         f"{titles}")
        try:
            got = await self.llm.structured("persona-names", SYSTEM, "\n".join(lines), PersonaNames, max_tokens=600)
        except PromptTooLong:
            return None
        if got is None:
            return None
        by_index = {p.index: p for p in got.personas}
        if set(by_index) != set(range(len(drafts))):
            return None                                   # incomplete or invented personas: keep ours
        names = [by_index[i].name.strip() for i in range(len(drafts))]
        if len(set(n.lower() for n in names)) != len(names):
            return None
        return [(names[i], by_index[i].description.strip()) for i in range(len(drafts))]
