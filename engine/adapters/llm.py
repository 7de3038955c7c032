"""The one LLM client: any OpenAI-compatible endpoint (OpenAI, Ollama, vLLM, OpenRouter…).

- Structured output: a pydantic model's JSON schema as ``response_format`` (``json_schema``); endpoints that
  refuse it get ``json_object`` with the schema in the prompt. Every answer is validated; a malformed one is
  retried once with the validation error, then the caller falls back to its deterministic path.
- Prompts and answers go to their own rotating log file (``logging.prompt_log``), never to the console.
- Prompt tokens are estimated before sending (about 4 characters a token; tiktoken needs downloads) and bounded
  by ``llm.max_prompt_tokens``; actual usage from the API is recorded.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import openai
from pydantic import BaseModel, ValidationError

from engine.plumbing.config import LlmSettings
from engine.plumbing.prompt_log import SUBJECT, prompt_log, setup_prompt_log
from engine.ports.llm import LlmStats, PromptTooLong, T, estimate_tokens

log = logging.getLogger(__name__)


class LLM:
    """``engine.ports.llm.LlmPort`` over an OpenAI-compatible endpoint."""


    def __init__(self, settings: LlmSettings, api_key: str | None, prompt_log_path: str | Path) -> None:
        self.settings = settings
        self.model = settings.model
        self.client = openai.AsyncOpenAI(
            base_url=settings.base_url, api_key=api_key or "not-needed", timeout=settings.timeout_s,
            max_retries=settings.max_retries,
        )
        self.stats = LlmStats()
        self._json_schema_ok = True
        setup_prompt_log(prompt_log_path)

    async def close(self) -> None:
        await self.client.close()

    async def structured(self, task: str, system: str, user: str, schema: type[T], *,
                         max_tokens: int = 800, temperature: float = 0.4) -> T | None:
        """Ask for JSON matching ``schema``. None when the endpoint fails or answers garbage twice."""
        budget = self.settings.max_prompt_tokens
        est = estimate_tokens(system) + estimate_tokens(user)
        if est > budget:
            raise PromptTooLong(f"{task}: about {est} prompt tokens, the budget is {budget}")
        messages: list[dict[str, str]] = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        for attempt in range(2):
            content = await self._call(task, messages, schema, max_tokens, temperature, est)
            if content is None:
                return None
            try:
                return schema.model_validate_json(_strip_fences(content))
            except ValidationError as e:
                prompt_log.info("task=%s subject=%s attempt=%d invalid answer: %s", task, SUBJECT.get(), attempt + 1,
                                json.dumps(str(e.errors()[:3]), ensure_ascii=False))
                messages = [*messages, {"role": "assistant", "content": content[:2000]},
                            {"role": "user", "content": "That was not valid JSON for the schema "
                             f"({e.error_count()} errors, first: {e.errors()[0]['msg']}). Answer again with only "
                             "the JSON object."}]
        self.stats.failures += 1
        return None

    async def _call(self, task: str, messages: list[dict[str, str]], schema: type[BaseModel], max_tokens: int,
                    temperature: float, est: int) -> str | None:
        t0 = time.monotonic()
        schema_json = schema.model_json_schema()
        kwargs: dict[str, Any] = {"model": self.model, "messages": messages, "max_tokens": max_tokens,
                                  "temperature": temperature}
        if self._json_schema_ok:
            kwargs["response_format"] = {"type": "json_schema",
                                         "json_schema": {"name": schema.__name__, "schema": schema_json}}
        else:
            kwargs["response_format"] = {"type": "json_object"}
            kwargs["messages"] = [{"role": "system", "content": messages[0]["content"] + "\nAnswer with one JSON "
                                   f"object matching this JSON schema: {json.dumps(schema_json)}"}, *messages[1:]]
        prompt_log.info("task=%s subject=%s model=%s request=%s", task, SUBJECT.get(), self.model,
                        json.dumps(kwargs["messages"], ensure_ascii=False))
        self.stats.calls += 1
        try:
            resp = await self.client.chat.completions.create(**kwargs)
        except openai.BadRequestError as e:
            if self._json_schema_ok and "response_format" in str(e):
                self._json_schema_ok = False           # an endpoint without json_schema: use json_object
                self.stats.calls -= 1
                return await self._call(task, messages, schema, max_tokens, temperature, est)
            self.stats.failures += 1
            log.warning("LLM refused the request (%s); falling back", type(e).__name__)
            return None
        except openai.OpenAIError as e:
            self.stats.failures += 1
            log.warning("LLM unavailable (%s); falling back", type(e).__name__)
            prompt_log.info("task=%s subject=%s error=%s", task, SUBJECT.get(), type(e).__name__)
            return None
        usage = getattr(resp, "usage", None)
        pt = int(getattr(usage, "prompt_tokens", 0) or 0) or est
        self.stats.prompt_tokens += pt
        self.stats.last_prompt_tokens = pt
        self.stats.completion_tokens += int(getattr(usage, "completion_tokens", 0) or 0)
        content = resp.choices[0].message.content if resp.choices else None
        # one line per record, whatever the answer holds: forgetting a person removes whole lines
        prompt_log.info("task=%s subject=%s answer (%.2fs, %d prompt tokens)=%s", task, SUBJECT.get(),
                        time.monotonic() - t0, pt, json.dumps(content, ensure_ascii=False))
        return content


def _strip_fences(text: str) -> str:
    t = text.strip()
    if t.startswith("```"):
        t = t.split("\n", 1)[1] if "\n" in t else ""
        t = t.rsplit("```", 1)[0]
    return t.strip()
