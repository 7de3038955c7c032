"""Small asyncio helpers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import Any

from engine.values.errors import MultitudesError


def _leaves(eg: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    out: list[BaseException] = []
    for e in eg.exceptions:
        out.extend(_leaves(e) if isinstance(e, BaseExceptionGroup) else [e])
    return out


async def run_all(aws: Iterable[Awaitable[Any]]) -> None:
    """Run awaitables concurrently; on the first failure cancel the rest and raise that failure itself
    (a MultitudesError first, so callers and front ends see one clear error, not an ExceptionGroup)."""
    try:
        async with asyncio.TaskGroup() as tg:
            for aw in aws:
                tg.create_task(_as_coro(aw))
    except BaseExceptionGroup as eg:
        leaves = _leaves(eg)
        first = next((e for e in leaves if isinstance(e, MultitudesError)), leaves[0])
        raise first from None


async def _as_coro(aw: Awaitable[Any]) -> Any:
    return await aw
