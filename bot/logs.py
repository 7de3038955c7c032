"""Logging set up once: warnings to the console, everything to a file; httpx quiet (its URLs hold keys)."""

from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path

from engine.plumbing.config import Settings

# what a secret looks like where a library may print it: a Telegram bot token (python-telegram-bot's InvalidToken
# message, a 404 URL), a Discord token, a bearer header, an api_key query parameter
SECRETS = re.compile(r"\b\d{5,12}:[A-Za-z0-9_-]{30,}\b"                                  # Telegram
                     r"|\b[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,}\b"  # Discord
                     r"|(?i:bearer)\s+[A-Za-z0-9._~+/=-]{16,}"
                     r"|(?i:api_key|apikey|token|access_token|refresh_token|client_secret)=[^&\s\"']+")


def redact(text: str) -> str:
    """``text`` with anything shaped like a token replaced by ``[redacted]``."""
    return SECRETS.sub("[redacted]", text)


class Redacting(logging.Filter):
    """Every record, however a library formats it, leaves with its secrets redacted (message and traceback)."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        clean = redact(msg)
        if clean != msg:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            formatted = logging.Formatter().formatException(record.exc_info)
            if SECRETS.search(formatted):
                record.exc_text = redact(formatted)
                record.exc_info = None
        return True


def setup_logging(settings: Settings, *, console_level: int = logging.WARNING) -> None:
    root = logging.getLogger()
    if getattr(root, "_multitudes", False):
        return
    root.setLevel(settings.logging.level)
    console = logging.StreamHandler()
    console.setLevel(console_level)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    console.addFilter(Redacting())
    root.addHandler(console)
    path = Path(settings.logging.file)
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = logging.handlers.RotatingFileHandler(path, maxBytes=5_000_000, backupCount=3, encoding="utf-8")
    fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    fh.addFilter(Redacting())
    root.addHandler(fh)
    for noisy in ("httpx", "httpcore", "httpx2", "httpcore2", "openai", "discord.http", "telegram.ext", "apscheduler",
                  "aiosqlite"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    root._multitudes = True  # type: ignore[attr-defined]
