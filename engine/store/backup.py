"""An online copy of the SQLite database: safe while the bot runs (WAL readers never block), checked after."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class BackupReport:
    source: str
    dest: str
    bytes: int
    tables: dict[str, int]


def backup_sqlite(source: str | Path, dest: str | Path, *, pages_per_step: int = 1024) -> BackupReport:
    """Copy ``source`` to ``dest`` with SQLite's online backup API (a consistent snapshot even while another
    process writes), then verify the copy (``PRAGMA integrity_check``) and count its rows per table.

    Blocking: callers run it in a worker thread. Never overwrites an existing file."""
    src_path, dst_path = Path(source), Path(dest)
    if not src_path.is_file():
        raise FileNotFoundError(f"no database at {src_path}")
    if dst_path.exists():
        raise FileExistsError(f"{dst_path} exists; choose a new name")
    tmp = dst_path.with_name(dst_path.name + ".partial")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(src_path)
    try:
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst, pages=pages_per_step)
            dst.execute("PRAGMA journal_mode=DELETE")            # one self-contained file, no -wal beside it
            ok = dst.execute("PRAGMA integrity_check").fetchone()[0]
            if ok != "ok":
                raise sqlite3.DatabaseError(f"the copy failed its integrity check: {ok}")
            names = [r[0] for r in dst.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
            tables = {n: int(dst.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0]) for n in names}
        finally:
            dst.close()
    finally:
        src.close()
    tmp.replace(dst_path)
    return BackupReport(str(src_path), str(dst_path), dst_path.stat().st_size, tables)
