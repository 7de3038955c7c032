"""SQLite storage through aiosqlite: WAL, foreign keys, numbered migrations, one transaction per operation.

Every write that must be all-or-nothing (a history page together with the resume point, a token rotation, a whole
import) is a single method here, run in one ``BEGIN IMMEDIATE`` transaction.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from ..clock import iso, parse_ts
from ..models import HistoryItem, Play, ShowIds, ShowRef

Row = sqlite3.Row


def _migrations() -> list[tuple[int, str]]:
    out = []
    for entry in resources.files("engine.store").joinpath("migrations").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            out.append((int(name[:4]), entry.read_text(encoding="utf-8")))
    return sorted(out)


def play_key(p: Play, source: str) -> str:
    if p.history_id is not None and source in ("trakt", "trakt-export"):
        return f"trakt:{p.history_id}"
    ep = p.episode if p.episode is not None else (p.episode_title or "?")
    return f"{source}:{p.show.ids.trakt or p.show.ids.tmdb or p.show.title}:{p.season}:{ep}:{iso(p.watched_at)}"


class Store:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        # id key -> (internal id, what the row holds); filled only from committed transactions
        self._shows: dict[tuple[str, Any], tuple[int, tuple[Any, ...]]] = {}
        self._pending: dict[tuple[str, Any], tuple[int, tuple[Any, ...]]] = {}

    # -- lifecycle -----------------------------------------------------------------------------------------------
    async def open(self) -> Store:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(self.path, isolation_level=None)
        db.row_factory = sqlite3.Row
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA foreign_keys=ON")
        await db.execute("PRAGMA busy_timeout=10000")
        await db.execute("PRAGMA synchronous=NORMAL")
        self._db = db
        await self._migrate()
        return self

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def __aenter__(self) -> Store:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("store is not open")
        return self._db

    async def _migrate(self) -> None:
        async with self.db.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        current = int(row[0]) if row else 0
        for number, sql in _migrations():
            if number <= current:
                continue
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                for stmt in _split_sql(sql):
                    await self.db.execute(stmt)
                await self.db.execute(f"PRAGMA user_version={number}")
                await self.db.execute("COMMIT")
            except BaseException:
                await self.db.execute("ROLLBACK")
                raise

    async def schema_version(self) -> int:
        row = await self.one("PRAGMA user_version")
        return int(row[0]) if row else 0

    @asynccontextmanager
    async def tx(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction; tasks sharing this store queue up here."""
        async with self._lock:
            await self.db.execute("BEGIN IMMEDIATE")
            self._pending = {}
            try:
                yield self.db
            except BaseException:
                self._pending = {}
                await self.db.execute("ROLLBACK")
                raise
            await self.db.execute("COMMIT")
            self._shows.update(self._pending)
            self._pending = {}

    async def all(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[Row]:
        async with self._lock, self.db.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> int:
        """One write statement in its own transaction; returns the rows it changed."""
        async with self.tx() as db:
            cur = await db.execute(sql, params)
            return int(cur.rowcount)

    async def one(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Row | None:
        async with self._lock, self.db.execute(sql, params) as cur:
            row: Row | None = await cur.fetchone()
            return row

    # -- people and identities -----------------------------------------------------------------------------------
    async def person_for_identity(self, platform: str, platform_user_id: str, display_name: str | None = None,
                                  *, create: bool = True) -> int | None:
        row = await self.one(
            "SELECT person_id FROM identities WHERE platform=? AND platform_user_id=?", (platform, platform_user_id)
        )
        if row:
            return int(row[0])
        if not create:
            return None
        now = iso(datetime.now(UTC))
        async with self.tx() as db:
            cur = await db.execute("INSERT INTO people(display_name, created_at) VALUES (?, ?)", (display_name, now))
            pid = int(cur.lastrowid or 0)
            await db.execute(
                "INSERT INTO identities(platform, platform_user_id, person_id, created_at) VALUES (?,?,?,?)",
                (platform, platform_user_id, pid, now),
            )
        return pid

    async def person(self, person_id: int) -> Row | None:
        return await self.one("SELECT * FROM people WHERE id=?", (person_id,))

    async def update_person(self, person_id: int, **fields: Any) -> None:
        if not fields:
            return
        cols = ", ".join(f"{k}=?" for k in fields)
        async with self.tx() as db:
            await db.execute(f"UPDATE people SET {cols} WHERE id=?", (*fields.values(), person_id))

    async def attach_trakt_user(self, person_id: int, trakt_user: str) -> int:
        """Record the Trakt account; if another person already has it, merge this person into that one."""
        async with self.tx() as db:
            async with db.execute(
                "SELECT id FROM people WHERE trakt_user=? AND id<>?", (trakt_user, person_id)
            ) as cur:
                other = await cur.fetchone()
            if other is None:
                await db.execute("UPDATE people SET trakt_user=? WHERE id=?", (trakt_user, person_id))
                return person_id
            keep = int(other[0])
            await db.execute("UPDATE identities SET person_id=? WHERE person_id=?", (keep, person_id))
            await db.execute(
                "INSERT OR REPLACE INTO trakt_tokens SELECT ?, ciphertext, expires_at, generation, updated_at "
                "FROM trakt_tokens WHERE person_id=?", (keep, person_id),
            )
            await db.execute("DELETE FROM people WHERE id=?", (person_id,))
            return keep

    async def forget_person(self, person_id: int) -> None:
        async with self.tx() as db:
            await db.execute("DELETE FROM people WHERE id=?", (person_id,))

    # -- tokens and device links ---------------------------------------------------------------------------------
    async def save_tokens(self, person_id: int, ciphertext: bytes, expires_at: datetime) -> int:
        async with self.tx() as db:
            await db.execute(
                "INSERT INTO trakt_tokens(person_id, ciphertext, expires_at, generation, updated_at) "
                "VALUES (?,?,?,1,?) ON CONFLICT(person_id) DO UPDATE SET ciphertext=excluded.ciphertext, "
                "expires_at=excluded.expires_at, generation=trakt_tokens.generation+1, updated_at=excluded.updated_at",
                (person_id, ciphertext, iso(expires_at), iso(datetime.now(UTC))),
            )
            async with db.execute("SELECT generation FROM trakt_tokens WHERE person_id=?", (person_id,)) as cur:
                row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def load_tokens(self, person_id: int) -> tuple[bytes, int] | None:
        row = await self.one("SELECT ciphertext, generation FROM trakt_tokens WHERE person_id=?", (person_id,))
        return (bytes(row[0]), int(row[1])) if row else None

    async def delete_tokens(self, person_id: int) -> None:
        async with self.tx() as db:
            await db.execute("DELETE FROM trakt_tokens WHERE person_id=?", (person_id,))

    # -- shows ---------------------------------------------------------------------------------------------------
    async def upsert_shows(self, refs: Iterable[ShowRef]) -> dict[tuple[str, Any], int]:
        """Insert or merge shows; return a map from every id key ('trakt', 1) etc. to the internal id."""
        async with self.tx() as db:
            return await self._upsert_shows(db, refs)

    async def show_by_ids(self, ids: ShowIds) -> Row | None:
        for col, val in (("trakt_id", ids.trakt), ("tmdb_id", ids.tmdb), ("imdb_id", ids.imdb)):
            if val is not None:
                row = await self.one(f"SELECT * FROM shows WHERE {col}=?", (val,))
                if row:
                    return row
        return None

    async def shows_needing_meta(self, person_id: int | None, now: datetime, limit: int = 100000) -> list[Row]:
        """Shows (of one person, or all) whose metadata is missing or expired."""
        mine = (" AND s.id IN (SELECT show_id FROM plays WHERE person_id=:p UNION SELECT show_id FROM ratings "
                "WHERE person_id=:p UNION SELECT show_id FROM watchlist WHERE person_id=:p)")
        return await self.all(
            "SELECT s.* FROM shows s WHERE (s.meta_expires_at IS NULL OR s.meta_expires_at < :now)"
            + (mine if person_id is not None else "") + " ORDER BY s.id LIMIT :limit",
            {"now": iso(now), "p": person_id, "limit": limit})

    async def save_show_meta(self, show_id: int, meta: dict[str, Any], fetched_at: datetime,
                             expires_at: datetime, ids: ShowIds | None = None) -> None:
        async with self.tx() as db:
            await db.execute(
                "UPDATE shows SET meta=?, meta_fetched_at=?, meta_expires_at=? WHERE id=?",
                (json.dumps(meta, ensure_ascii=False), iso(fetched_at), iso(expires_at), show_id),
            )
            if ids is not None:
                for col, val in (("tmdb_id", ids.tmdb), ("imdb_id", ids.imdb), ("tvdb_id", ids.tvdb)):
                    if val is not None:
                        try:
                            await db.execute(f"UPDATE shows SET {col}=? WHERE id=? AND {col} IS NULL", (val, show_id))
                        except sqlite3.IntegrityError:
                            pass  # another row owns that id; leave the two apart rather than guess

    async def save_missing_metas(self, metas: Sequence[tuple[int, dict[str, Any]]], fetched_at: datetime,
                                 expires_at: datetime) -> None:
        """Store metadata for shows that have none yet, in one transaction."""
        async with self.tx() as db:
            await db.executemany(
                "UPDATE shows SET meta=?, meta_fetched_at=?, meta_expires_at=? WHERE id=? AND meta IS NULL",
                [(json.dumps(m, ensure_ascii=False), iso(fetched_at), iso(expires_at), sid) for sid, m in metas])

    # -- plays ---------------------------------------------------------------------------------------------------
    async def commit_plays(self, person_id: int, plays: Sequence[Play], source: str,
                           job: dict[str, Any] | None = None, *, set_job: bool = False) -> int:
        """Insert plays (de-duplicated by key) and, in the same transaction, the sync job's resume point."""
        async with self.tx() as db:
            added = await self._insert_plays(db, person_id, plays, source)
            if set_job:
                await _set_job(db, person_id, job)
        return added

    async def replace_show_plays(self, person_id: int, show: ShowRef, plays: Sequence[Play]) -> tuple[int, int]:
        """Make this show's Trakt plays exactly ``plays`` (used when counts disagree). Returns (added, removed)."""
        async with self.tx() as db:
            ids = await self._upsert_shows(db, [show])
            sid = _lookup(ids, show.ids)
            keys = {play_key(p, "trakt") for p in plays}
            async with db.execute(
                "SELECT play_key FROM plays WHERE person_id=? AND show_id=? AND source='trakt'", (person_id, sid)
            ) as cur:
                have = {r[0] for r in await cur.fetchall()}
            gone = have - keys
            await db.executemany(
                "DELETE FROM plays WHERE person_id=? AND play_key=?", [(person_id, k) for k in gone]
            )
            added = await self._insert_plays(db, person_id, plays, "trakt")
        return added, len(gone)

    async def import_batch(self, person_id: int, source: str, plays: Sequence[Play],
                           ratings: Sequence[tuple[ShowRef, Any, Any]] = (),
                           watchlist: Sequence[tuple[ShowRef, Any, Any]] = (),
                           hidden: Sequence[tuple[ShowRef, Any, Any]] = ()) -> int:
        """A whole import in one transaction: all of it lands, or none of it."""
        async with self.tx() as db:
            added = await self._insert_plays(db, person_id, plays, source)
            ids = await self._upsert_shows(db, [r for r, _, _ in (*ratings, *watchlist, *hidden)])
            await db.executemany(
                "INSERT OR REPLACE INTO ratings VALUES (?,?,?,?)",
                [(person_id, _lookup(ids, r.ids), v, a) for r, a, v in ratings],
            )
            await db.executemany(
                "INSERT OR IGNORE INTO watchlist VALUES (?,?,?)",
                [(person_id, _lookup(ids, r.ids), a) for r, a, _ in watchlist],
            )
            await db.executemany(
                "INSERT OR IGNORE INTO hidden VALUES (?,?,'hidden',?)",
                [(person_id, _lookup(ids, r.ids), a) for r, a, _ in hidden],
            )
        return added

    async def trakt_play_counts(self, person_id: int) -> dict[int, int]:
        rows = await self.all(
            "SELECT s.trakt_id, COUNT(*) FROM plays p JOIN shows s ON s.id=p.show_id "
            "WHERE p.person_id=? AND p.source='trakt' AND s.trakt_id IS NOT NULL GROUP BY s.trakt_id",
            (person_id,),
        )
        return {int(r[0]): int(r[1]) for r in rows}

    async def trakt_show_state(self, person_id: int) -> dict[int, tuple[int, str | None]]:
        rows = await self.all("SELECT trakt_id, plays, last_updated_at FROM trakt_show_state WHERE person_id=?",
                              (person_id,))
        return {int(r[0]): (int(r[1]), r[2]) for r in rows}

    async def save_trakt_show_state(self, person_id: int, state: dict[int, tuple[int, str | None]]) -> None:
        async with self.tx() as db:
            await db.execute("DELETE FROM trakt_show_state WHERE person_id=?", (person_id,))
            await db.executemany("INSERT INTO trakt_show_state VALUES (?,?,?,?)",
                                 [(person_id, t, n, u) for t, (n, u) in state.items()])

    async def history(self, person_id: int, limit: int = 20, offset: int = 0) -> list[HistoryItem]:
        rows = await self.all(
            "SELECT s.title, s.year, p.season, p.episode, p.episode_title, p.watched_at FROM plays p "
            "JOIN shows s ON s.id=p.show_id WHERE p.person_id=? ORDER BY p.watched_at DESC, p.play_key DESC "
            "LIMIT ? OFFSET ?",
            (person_id, limit, offset),
        )
        return [
            HistoryItem(r[0], r[1], r[2], r[3], r[4], parse_ts(r[5]) or datetime.min.replace(tzinfo=UTC))
            for r in rows
        ]

    # -- ratings, watchlist, hidden ------------------------------------------------------------------------------
    async def replace_list(self, table: str, person_id: int, items: Sequence[tuple[ShowRef, Any, Any]],
                           kind: str | None = None) -> int:
        """Replace a person's ratings / watchlist / hidden(kind) with the complete list from the source."""
        assert table in ("ratings", "watchlist", "hidden")
        async with self.tx() as db:
            ids = await self._upsert_shows(db, [i[0] for i in items])
            if table == "hidden":
                await db.execute("DELETE FROM hidden WHERE person_id=? AND kind=?", (person_id, kind))
                await db.executemany(
                    "INSERT OR REPLACE INTO hidden VALUES (?,?,?,?)",
                    [(person_id, _lookup(ids, r.ids), kind, a) for r, a, _ in items],
                )
            elif table == "ratings":
                await db.execute("DELETE FROM ratings WHERE person_id=?", (person_id,))
                await db.executemany(
                    "INSERT OR REPLACE INTO ratings VALUES (?,?,?,?)",
                    [(person_id, _lookup(ids, r.ids), b, a) for r, a, b in items],
                )
            else:
                await db.execute("DELETE FROM watchlist WHERE person_id=?", (person_id,))
                await db.executemany(
                    "INSERT OR REPLACE INTO watchlist VALUES (?,?,?)",
                    [(person_id, _lookup(ids, r.ids), a) for r, a, _ in items],
                )
        return len(items)

    # -- sync state ----------------------------------------------------------------------------------------------
    async def sync_state(self, person_id: int) -> dict[str, Any]:
        row = await self.one("SELECT * FROM sync_state WHERE person_id=?", (person_id,))
        if row is None:
            return {"activities": {}, "history_cursor": None, "job": None}
        d = dict(row)
        d["activities"] = json.loads(d["activities"] or "{}")
        d["job"] = json.loads(d["job"]) if d["job"] else None
        return d

    async def set_sync_fields(self, person_id: int, **fields: Any) -> None:
        if "activities" in fields:
            fields["activities"] = json.dumps(fields["activities"], sort_keys=True)
        if "job" in fields:
            fields["job"] = json.dumps(fields["job"]) if fields["job"] is not None else None
        async with self.tx() as db:
            await db.execute("INSERT OR IGNORE INTO sync_state(person_id) VALUES (?)", (person_id,))
            if fields:
                cols = ", ".join(f"{k}=?" for k in fields)
                await db.execute(f"UPDATE sync_state SET {cols} WHERE person_id=?", (*fields.values(), person_id))

    async def mark_section_synced(self, person_id: int, section: str, stamp: str | None, **extra: Any) -> None:
        async with self.tx() as db:
            await db.execute("INSERT OR IGNORE INTO sync_state(person_id) VALUES (?)", (person_id,))
            async with db.execute("SELECT activities FROM sync_state WHERE person_id=?", (person_id,)) as cur:
                row = await cur.fetchone()
            acts = json.loads(row[0] if row and row[0] else "{}")
            acts[section] = stamp
            await db.execute(
                "UPDATE sync_state SET activities=? WHERE person_id=?", (json.dumps(acts, sort_keys=True), person_id)
            )
            for k, v in extra.items():
                value = json.dumps(v) if k == "job" and v is not None else v
                await db.execute(f"UPDATE sync_state SET {k}=? WHERE person_id=?", (value, person_id))

    async def acquire_lease(self, person_id: int, owner: str, until: datetime, now: datetime,
                            is_stale: Any = None) -> bool:
        """Take the per-person sync lease unless a live owner holds it. ``is_stale(owner)`` may free dead ones."""
        async with self.tx() as db:
            await db.execute("INSERT OR IGNORE INTO sync_state(person_id) VALUES (?)", (person_id,))
            async with db.execute(
                "SELECT lease_owner, lease_until FROM sync_state WHERE person_id=?", (person_id,)
            ) as cur:
                row = await cur.fetchone()
            holder, held_until = (row[0], parse_ts(row[1])) if row else (None, None)
            if holder and holder != owner and held_until and held_until > now and not (is_stale and is_stale(holder)):
                return False
            await db.execute(
                "UPDATE sync_state SET lease_owner=?, lease_until=?, last_started_at=? WHERE person_id=?",
                (owner, iso(until), iso(now), person_id),
            )
            return True

    async def release_lease(self, person_id: int, owner: str, error: str | None, now: datetime) -> None:
        async with self.tx() as db:
            await db.execute(
                "UPDATE sync_state SET lease_owner=NULL, lease_until=NULL, last_error=?, "
                "last_finished_at=CASE WHEN ? IS NULL THEN ? ELSE last_finished_at END "
                "WHERE person_id=? AND lease_owner=?",
                (error, error, iso(now), person_id, owner),
            )

    async def _upsert_shows(self, db: aiosqlite.Connection, refs: Iterable[ShowRef]) -> dict[tuple[str, Any], int]:
        """Inside a transaction: insert or merge shows. Shows already stored as given cost no query at all."""
        out: dict[tuple[str, Any], int] = {}
        for ref in refs:
            keys = _keys(ref.ids)
            if not keys:
                raise ValueError(f"show without ids: {ref.title}")
            if keys[0] in out:
                continue
            snap = (ref.title, ref.year, ref.aired_episodes, ref.ids.trakt, ref.ids.tmdb, ref.ids.imdb, ref.ids.tvdb)
            hit = self._pending.get(keys[0]) or self._shows.get(keys[0])
            if hit is not None and all(v is None or v == h for v, h in zip(snap, hit[1], strict=True)):
                for k in keys:
                    out[k] = hit[0]
                continue
            row = None
            for col, val in keys:
                async with db.execute(f"SELECT id FROM shows WHERE {col}_id=?", (val,)) as cur:
                    row = await cur.fetchone()
                if row:
                    break
            if row is None:
                cur2 = await db.execute(
                    "INSERT INTO shows(trakt_id, tmdb_id, imdb_id, tvdb_id, slug, title, year, aired_episodes) "
                    "VALUES (?,?,?,?,?,?,?,?)",
                    (ref.ids.trakt, ref.ids.tmdb, ref.ids.imdb, ref.ids.tvdb, ref.ids.slug, ref.title, ref.year,
                     ref.aired_episodes),
                )
                sid = int(cur2.lastrowid or 0)
            else:
                sid = int(row[0])
                await db.execute(
                    "UPDATE shows SET title=COALESCE(?, title), year=COALESCE(?, year), "
                    "aired_episodes=COALESCE(?, aired_episodes), slug=COALESCE(slug, ?) WHERE id=?",
                    (ref.title or None, ref.year, ref.aired_episodes, ref.ids.slug, sid),
                )
                for col, val in (("trakt_id", ref.ids.trakt), ("tmdb_id", ref.ids.tmdb), ("imdb_id", ref.ids.imdb),
                                 ("tvdb_id", ref.ids.tvdb)):
                    if val is not None:
                        try:
                            await db.execute(f"UPDATE shows SET {col}=? WHERE id=? AND {col} IS NULL", (val, sid))
                        except sqlite3.IntegrityError:
                            pass   # another row owns that id; keep the two apart rather than guess
            async with db.execute(
                "SELECT title, year, aired_episodes, trakt_id, tmdb_id, imdb_id, tvdb_id FROM shows WHERE id=?", (sid,)
            ) as cur:
                stored = await cur.fetchone()
            for k in keys:
                out[k] = sid
                if stored is not None:
                    self._pending[k] = (sid, tuple(stored))
        return out

    async def _insert_plays(self, db: aiosqlite.Connection, person_id: int, plays: Sequence[Play],
                            source: str) -> int:
        if not plays:
            return 0
        ids = await self._upsert_shows(db, [p.show for p in plays])
        before = db.total_changes
        await db.executemany(
            "INSERT OR IGNORE INTO plays(person_id, play_key, show_id, season, episode, episode_title, watched_at, "
            "history_id, action, source) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [
                (person_id, play_key(p, source), _lookup(ids, p.show.ids), p.season, p.episode, p.episode_title,
                 iso(p.watched_at), p.history_id, p.action, source)
                for p in plays
            ],
        )
        return db.total_changes - before

    # -- cache ---------------------------------------------------------------------------------------------------
    async def cache_get(self, key: str, now: datetime) -> Any | None:
        row = await self.one("SELECT body, expires_at FROM api_cache WHERE key=?", (key,))
        if row is None or (parse_ts(row[1]) or now) <= now:
            return None
        return json.loads(row[0])

    async def cache_put(self, key: str, body: Any, now: datetime, expires_at: datetime) -> None:
        async with self.tx() as db:
            await db.execute(
                "INSERT OR REPLACE INTO api_cache VALUES (?,?,?,?)",
                (key, json.dumps(body, ensure_ascii=False), iso(now), iso(expires_at)),
            )


# -- helpers used inside transactions ---------------------------------------------------------------------------
def _split_sql(sql: str) -> list[str]:
    lines = [ln for ln in sql.splitlines() if not ln.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def _keys(ids: ShowIds) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    if ids.trakt is not None:
        out.append(("trakt", ids.trakt))
    if ids.tmdb is not None:
        out.append(("tmdb", ids.tmdb))
    if ids.imdb:
        out.append(("imdb", ids.imdb))
    return out


def _lookup(ids: dict[tuple[str, Any], int], show: ShowIds) -> int:
    for k in _keys(show):
        if k in ids:
            return ids[k]
    raise KeyError(f"show not stored: {show}")


async def _set_job(db: aiosqlite.Connection, person_id: int, job: dict[str, Any] | None) -> None:
    await db.execute("INSERT OR IGNORE INTO sync_state(person_id) VALUES (?)", (person_id,))
    await db.execute(
        "UPDATE sync_state SET job=? WHERE person_id=?", (json.dumps(job) if job is not None else None, person_id)
    )
