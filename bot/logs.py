"""Logging set up once: warnings to the console, everything to a file; httpx quiet (its URLs hold keys)."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from engine.config import Settings


def setup_logging(settings: Settings, *, console_level: int = logging.WARNING) -> None:
    root = logging.getLogger()
    if getattr(root, "_multitudes", False):
        return
    root.setLevel(settings.logging.level)
    console = logging.StreamHandler()
    console.setLevel(console_level)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(console)
    path = Path(settings.logging.file)
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = logging.handlers.RotatingFileHandler(path, maxBytes=5_000_000, backupCount=3, encoding="utf-8")
    fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(fh)
    for noisy in ("httpx", "httpcore", "httpx2", "httpcore2", "openai", "discord.http", "telegram.ext", "apscheduler",
                  "aiosqlite"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    root._multitudes = True  # type: ignore[attr-defined]
