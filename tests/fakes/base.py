"""A loopback aiohttp server that records every request and every route it does not implement."""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    status: int = 0
    body: Any = None
    response_headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Injection:
    """Answer the next ``count`` matching requests with ``status`` (and headers) instead of serving them."""

    status: int
    count: int
    headers: dict[str, str] = field(default_factory=dict)
    path_prefix: str = ""
    delay: float = 0.0      # sleep before answering (for timeouts)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # exactly application/json (discord.py and others compare the content type strictly)
    return web.Response(body=json.dumps(body).encode(), status=status, headers=headers,
                        content_type="application/json")


class FakeServer:
    name = "fake"

    def __init__(self) -> None:
        self.app = web.Application(middlewares=[self._middleware])
        self.requests: list[Seen] = []
        self.unhandled: list[str] = []
        self.injections: list[Injection] = []
        self.latency = 0.0
        self.in_flight = 0
        self.max_in_flight = 0
        self.slot_seconds = 0.0     # time requests held a slot (latency and the fake's own work): a server's busy time
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> FakeServer:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        self.port = server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def wait_messages(self, sent: list[Any], n: int, within: float, show: Any) -> list[Any]:
        """Wait (on ``self.new_message``) until ``sent`` holds at least ``n`` items; fail with what it holds."""
        event: asyncio.Event = self.new_message  # type: ignore[attr-defined]
        deadline = asyncio.get_running_loop().time() + within
        while len(sent) < n:
            event.clear()
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"the bot sent {len(sent)} messages, expected {n}: {[show(m) for m in sent]}")
            try:
                await asyncio.wait_for(event.wait(), left)
            except TimeoutError:
                pass
        return sent

    def inject(self, status: int, count: int = 1, *, headers: dict[str, str] | None = None, path_prefix: str = "",
               delay: float = 0.0) -> None:
        self.injections.append(Injection(status, count, headers or {}, path_prefix, delay))

    def count(self, path_prefix: str = "", method: str | None = None) -> int:
        return sum(1 for r in self.requests
                   if r.path.startswith(path_prefix) and (method is None or r.method == method))

    def slot(self, request: web.Request) -> AbstractAsyncContextManager[Any]:
        """Hook: a context the handler runs in (e.g. a per-user concurrency cap)."""
        return nullcontext()

    async def pre(self, request: web.Request) -> web.StreamResponse | None:
        """Hook for subclasses (auth, rate limits) run before the handler."""
        return None

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body: Any = None
        if request.can_read_body and not request.content_type.startswith("multipart/"):   # handlers stream those
            raw = await request.read()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
        seen = Seen(request.method, request.path, dict(request.query), dict(request.headers), body=body)
        self.requests.append(seen)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            for inj in self.injections:
                if inj.count > 0 and request.path.startswith(inj.path_prefix):
                    inj.count -= 1
                    if inj.delay:
                        await asyncio.sleep(inj.delay)
                    seen.status = inj.status
                    return web.Response(status=inj.status, headers=inj.headers, text="")
            early = await self.pre(request)
            if early is not None:
                seen.status = early.status
                seen.response_headers = dict(early.headers)
                return early
            try:
                async with self.slot(request):     # a slot is held for the whole answer, latency included
                    held = time.perf_counter()
                    try:
                        if self.latency:
                            await asyncio.sleep(self.latency)
                        resp = await handler(request)
                    finally:
                        self.slot_seconds += time.perf_counter() - held
            except web.HTTPException as e:
                if isinstance(e, web.HTTPNotFound) and request.match_info.route.resource is None:
                    self.unhandled.append(f"{request.method} {request.path}")   # no route: the fake lacks it
                seen.status = e.status
                raise
            seen.status = resp.status
            return resp
        finally:
            self.in_flight -= 1
