"""Operator tasks on the store that need no running engine: an online backup, the move to PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3

from engine.store.backup import BackupReport, backup_sqlite
from engine.store.copy import CopyError, CopyReport, migrate_to
from engine.values.errors import MultitudesError

__all__ = ["BackupReport", "CopyReport", "backup_database", "migrate_database"]


async def backup_database(storage_path: str, dest: str) -> BackupReport:
    """A consistent, verified copy of the database at ``dest`` (SQLite's online backup API, in a worker thread)."""
    try:
        return await asyncio.to_thread(backup_sqlite, storage_path, dest)
    except (OSError, sqlite3.Error) as e:
        raise MultitudesError(f"backup failed: {e}", user_message=f"backup failed: {e}") from e


async def migrate_database(storage_path: str, url: str) -> CopyReport:
    """Copy the SQLite database into an empty PostgreSQL database, verified row by row (all or nothing)."""
    import asyncpg
    try:
        return await migrate_to(storage_path, url)
    except (CopyError, OSError, sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
        raise MultitudesError(f"migrate-to failed: {e}", user_message=f"The copy to PostgreSQL failed, nothing "
                              f"was kept there: {e}") from e
