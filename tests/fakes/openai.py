"""A loopback OpenAI-compatible ``/v1/chat/completions``: scripted answers, error injection, request log."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .base import FakeServer, json_response

Responder = Callable[[dict[str, Any]], "str | tuple[int, dict[str, Any]]"]


class FakeOpenAI(FakeServer):
    name = "openai"

    def __init__(self, responder: Responder | None = None, *, api_key: str = "test-llm-key",
                 accept_json_schema: bool = True) -> None:
        super().__init__()
        self.api_key = api_key
        self.responder = responder or (lambda req: "{}")
        self.accept_json_schema = accept_json_schema
        self.app.router.add_post("/v1/chat/completions", self.chat)
        self.app.router.add_get("/v1/models", self.models)

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    async def models(self, request: web.Request) -> web.Response:
        return json_response({"object": "list", "data": [{"id": "fake-model", "object": "model"}]})

    async def chat(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return json_response({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error",
                                            "code": "invalid_api_key"}}, status=401)
        body = await request.json()
        rf = (body.get("response_format") or {}).get("type")
        if rf == "json_schema" and not self.accept_json_schema:
            return json_response({"error": {"message": "response_format json_schema is not supported",
                                            "type": "invalid_request_error", "param": "response_format"}}, status=400)
        out = self.responder(body)
        if isinstance(out, tuple):
            status, err = out
            return json_response(err, status=status)
        prompt = sum(len(m.get("content") or "") for m in body.get("messages", [])) // 4
        return json_response({
            "id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "fake-model"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": out}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": len(out) // 4,
                      "total_tokens": prompt + len(out) // 4},
        })


def user_text(req: dict[str, Any]) -> str:
    return "\n".join(m.get("content") or "" for m in req.get("messages", []) if m.get("role") == "user")


def schema_of(req: dict[str, Any]) -> dict[str, Any]:
    rf = req.get("response_format") or {}
    return (rf.get("json_schema") or {}).get("schema") or {}


def as_json(obj: Any) -> str:
    return json.dumps(obj)


def is_tagging(req: dict[str, Any]) -> bool:
    return "Tag each TV show" in (req.get("messages") or [{}])[0].get("content", "")


def tags_answer(req: dict[str, Any]) -> str:
    """A valid answer to the show-tagging task: 'dark' and 'tense' for every show asked about."""
    ids = [int(line.split(":")[0]) for line in user_text(req).splitlines() if line.split(":")[0].isdigit()]
    return as_json({"shows": [{"id": i, "tags": ["dark", "tense", "not-a-tag"]} for i in ids]})


def is_naming(req: dict[str, Any]) -> bool:
    return "name the taste personas" in (req.get("messages") or [{}])[0].get("content", "")


def names_answer(req: dict[str, Any], prefix: str = "Persona number") -> str:
    """A valid answer to the persona-naming task: one name per numbered persona line."""
    n = sum(1 for line in user_text(req).splitlines() if line[:1].isdigit())
    return as_json({"personas": [{"index": i, "name": f"{prefix} {i}", "description": f"Desc {i}."}
                                 for i in range(n)]})


def shortlist_ids(req: dict[str, Any]) -> list[int]:
    """The ids of the pick-and-explain shortlist, in order."""
    return [int(line.split(" | ")[0]) for line in user_text(req).splitlines() if " | " in line and line[0].isdigit()]
