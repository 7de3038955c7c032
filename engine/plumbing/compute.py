"""CPU-bound work and the event loop: one place that says how numerical code runs.

The bot's event loop must never run features, scoring, clustering or large parses (Discord heartbeats and
Telegram updates wait on it), so those run in worker threads (``offload``). numpy, scipy and scikit-learn release
the GIL inside BLAS, so a worker thread computes while the loop stays free — as long as BLAS itself does not spawn
a thread per core: on a small host OpenBLAS threads spin against each other and against the loop (an SVD cost 50x
more CPU with 2 threads than with 1 under load). ``one_blas_thread`` pins BLAS/OpenMP pools to one thread for the
whole process; the bot, ``multitudes eval``/``tune`` and the benchmarks call it once at start.

The worker threads are a pool of their own, as many as the host has cores (at most 4): a thread more than there
are cores computes nothing sooner, and every runnable thread is one more contender for the GIL the event loop
needs between its awaits. Under a burst (a thousand /recommend at once) the default executor's cpu+4 threads left
the loop a seventh of the interpreter and Discord's heartbeat tens of seconds late; queued work now waits in the
pool's queue instead, and the loop answers (acknowledges, reads, renders) in between.

The other thing that stops the loop is the garbage collector: a full collection scans every tracked object, and
a deployment (``engine.recommend.deployment``) holds hundreds of thousands of long-lived ones. ``settle`` moves
what exists after a deployment is built out of the collector's reach (``gc.freeze``, as large Python services do),
so a full collection scans only what requests create.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import gc
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from threadpoolctl import threadpool_limits

P = ParamSpec("P")
T = TypeVar("T")

_limited = False
_pool: ThreadPoolExecutor | None = None


def _compute_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1)), thread_name_prefix="compute")
    return _pool


def one_blas_thread() -> None:
    """Limit every BLAS and OpenMP pool of this process to one thread (idempotent)."""
    global _limited
    if not _limited:
        threadpool_limits(1)
        _limited = True


def settle() -> None:
    """Long-lived structures were just built: keep the garbage collector from rescanning them (they are freed
    by reference counting when replaced; only cycles among them would wait, and they hold none)."""
    gc.freeze()


async def offload(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run CPU-bound ``fn`` in the compute pool so the event loop keeps serving everyone else."""
    call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_compute_pool(), call)
