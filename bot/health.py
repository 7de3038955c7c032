"""Liveness for a container's HEALTHCHECK: the running bot's event loop writes a heartbeat file every few seconds;
``multitudes health`` says whether it is fresh. A loop that is blocked or dead stops writing, so the check fails —
a real signal, not "the process exists"."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

EVERY_S = 15.0
MAX_AGE_S = 90.0


def heartbeat_path(storage_path: str) -> Path | None:
    """Beside the database (``/data/multitudes.db`` → ``/data/multitudes.alive``); none for an in-memory store."""
    if storage_path == ":memory:" or storage_path.startswith("file::memory:"):
        return None
    return Path(storage_path).with_suffix(".alive")


def _write(path: Path, lag_ms: float) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"at": time.time(), "pid": os.getpid(), "loop_lag_ms": round(lag_ms, 1)}))
    tmp.replace(path)


async def heartbeat(path: Path, every_s: float = EVERY_S) -> None:
    """Until cancelled: write the file, then sleep; the lag of each wake-up is recorded with it."""
    loop = asyncio.get_running_loop()
    lag = 0.0
    while True:
        await asyncio.to_thread(_write, path, lag * 1000)
        due = loop.time() + every_s
        await asyncio.sleep(every_s)
        lag = max(0.0, loop.time() - due)


def check(path: Path | None, max_age_s: float = MAX_AGE_S, now: float | None = None) -> tuple[bool, str]:
    if path is None:
        return False, "no heartbeat file for an in-memory database"
    try:
        beat = json.loads(path.read_text())
        at = float(beat["at"])
    except FileNotFoundError:
        return False, f"no heartbeat at {path} (is `multitudes run` serving a chat platform?)"
    except (OSError, ValueError, KeyError, TypeError) as e:
        return False, f"unreadable heartbeat at {path}: {e}"
    age = (time.time() if now is None else now) - at
    if age > max_age_s:
        return False, f"stale heartbeat: {age:.0f}s old (limit {max_age_s:.0f}s)"
    return True, f"alive: heartbeat {age:.0f}s old, pid {beat.get('pid')}, loop lag {beat.get('loop_lag_ms')} ms"
