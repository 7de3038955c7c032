"""The LLM port: what picking, explaining, naming personas and reading a mood need from a language model. One
adapter implements it (``engine.adapters.llm``, any OpenAI-compatible endpoint); everything works without one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar

from pydantic import BaseModel

from engine.plumbing.config import LlmSettings

T = TypeVar("T", bound=BaseModel)


def estimate_tokens(text: str) -> int:
    return max(1, (len(text) + 3) // 4)


@dataclass
class LlmStats:
    calls: int = 0
    failures: int = 0
    prompt_tokens: int = 0            # as reported by the endpoint (estimated when it reports none)
    completion_tokens: int = 0
    last_prompt_tokens: int = 0


class PromptTooLong(Exception):
    pass


class LlmPort(Protocol):
    settings: LlmSettings
    stats: LlmStats

    async def structured(self, task: str, system: str, user: str, schema: type[T], *,
                         max_tokens: int = 800, temperature: float = 0.4) -> T | None:
        """JSON matching ``schema``, validated; None when the endpoint fails or answers garbage twice. Raises
        ``PromptTooLong`` before sending a prompt over ``settings.max_prompt_tokens``."""
        ...
