"""Operator tasks on the store that need no running engine: an online backup."""

from __future__ import annotations

import asyncio
import sqlite3

from .errors import MultitudesError
from .store.backup import BackupReport, backup_sqlite

__all__ = ["BackupReport", "backup_database"]


async def backup_database(storage_path: str, dest: str) -> BackupReport:
    """A consistent, verified copy of the database at ``dest`` (SQLite's online backup API, in a worker thread)."""
    try:
        return await asyncio.to_thread(backup_sqlite, storage_path, dest)
    except (OSError, sqlite3.Error) as e:
        raise MultitudesError(f"backup failed: {e}", user_message=f"backup failed: {e}") from e
