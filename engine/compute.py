"""CPU-bound work and the event loop: one place that says how numerical code runs.

The bot's event loop must never run features, scoring, clustering or large parses (Discord heartbeats and
Telegram updates wait on it), so those run in worker threads (``offload``). numpy, scipy and scikit-learn release
the GIL inside BLAS, so a worker thread computes while the loop stays free — as long as BLAS itself does not spawn
a thread per core: on a small host OpenBLAS threads spin against each other and against the loop (an SVD cost 50x
more CPU with 2 threads than with 1 under load). ``one_blas_thread`` pins BLAS/OpenMP pools to one thread for the
whole process; the bot, ``multitudes eval``/``tune`` and the benchmarks call it once at start.

The other thing that stops the loop is the garbage collector: a full collection scans every tracked object, and
a deployment (``engine.recommend.deployment``) holds hundreds of thousands of long-lived ones. ``settle`` moves
what exists after a deployment is built out of the collector's reach (``gc.freeze``, as large Python services do),
so a full collection scans only what requests create.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from threadpoolctl import threadpool_limits

P = ParamSpec("P")
T = TypeVar("T")

_limited = False


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
    """Run CPU-bound ``fn`` in a worker thread so the event loop keeps serving everyone else."""
    return await asyncio.to_thread(fn, *args, **kwargs)
