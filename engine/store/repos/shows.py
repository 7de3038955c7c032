"""Shows: one row per real show whatever id a source knows it by, with its metadata (shared by everyone)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from engine.store.db import Db, Row, chunks, marks
from engine.store.records import ShowRecord
from engine.values.meta import ShowMeta, decode, encode
from engine.values.models import ShowIds, ShowRef
from engine.values.times import iso, parse_ts

ShowKey = tuple[str, Any]
ID_COLUMNS = (("trakt", "trakt_id"), ("tmdb", "tmdb_id"), ("imdb", "imdb_id"))
COLUMNS = ("id, trakt_id, tmdb_id, imdb_id, tvdb_id, slug, title, year, aired_episodes, meta, meta_expires_at, "
           "verified")


def keys(ids: ShowIds) -> list[ShowKey]:
    out: list[ShowKey] = []
    if ids.trakt is not None:
        out.append(("trakt", ids.trakt))
    if ids.tmdb is not None:
        out.append(("tmdb", ids.tmdb))
    if ids.imdb:
        out.append(("imdb", ids.imdb))
    return out


def _snap(ref: ShowRef) -> tuple[Any, ...]:
    return (ref.title, ref.year, ref.aired_episodes, ref.ids.trakt, ref.ids.tmdb, ref.ids.imdb, ref.ids.tvdb)


def _lock_order(row: Sequence[Any]) -> tuple[Any, ...]:
    """Shows are shared by everyone: statements writing many of them do it in one order (by their ids), so two
    processes inserting or updating overlapping sets wait for each other instead of deadlocking on PostgreSQL."""
    trakt, tmdb, imdb, tvdb = row[:4]
    return (trakt is None, trakt or 0, tmdb is None, tmdb or 0, imdb or "", tvdb or 0)


def lookup(found: dict[ShowKey, int], ids: ShowIds) -> int:
    for k in keys(ids):
        if k in found:
            return found[k]
    raise KeyError(f"show not stored: {ids}")


def record(r: Row) -> ShowRecord:
    raw = r["meta"]
    return ShowRecord(
        id=int(r["id"]),
        ids=ShowIds(trakt=r["trakt_id"], tmdb=r["tmdb_id"], imdb=r["imdb_id"], tvdb=r["tvdb_id"], slug=r["slug"]),
        title=r["title"], year=r["year"], aired_episodes=r["aired_episodes"],
        meta=decode(raw, title=r["title"], year=r["year"]), has_meta=raw is not None,
        meta_expires_at=parse_ts(r["meta_expires_at"]), verified=bool(r["verified"]))


class ShowRepo:
    def __init__(self, db: Db, committed: dict[ShowKey, tuple[int, tuple[Any, ...]]],
                 pending: dict[ShowKey, tuple[int, tuple[Any, ...]]]) -> None:
        self.db = db
        self._committed = committed
        self._pending = pending

    async def upsert(self, refs: Iterable[ShowRef], *, trusted: bool = True) -> dict[ShowKey, int]:
        """Insert or merge shows; a map from every id key (``("trakt", 1)``…) to the internal id. Shows already
        stored as given cost no query; the rest cost a few statements per batch, not per show (a history page of
        100 new shows is one look-up per id kind, one insert, one read-back). An id another row owns is never
        taken (the two stay apart). Untrusted refs (from an upload) only ever add shows: a show already stored
        is shared by everyone, and what a file says about it (title, year, episodes, ids) changes nothing."""
        out: dict[ShowKey, int] = {}
        todo: list[tuple[ShowRef, list[ShowKey]]] = []
        firsts: set[ShowKey] = set()
        for ref in refs:
            ks = keys(ref.ids)
            if not ks:
                raise ValueError(f"show without ids: {ref.title}")
            if ks[0] in firsts:
                continue
            firsts.add(ks[0])
            hit = self._pending.get(ks[0]) or self._committed.get(ks[0])
            if hit is not None and (not trusted
                                    or all(v is None or v == h for v, h in zip(_snap(ref), hit[1], strict=True))):
                for k in ks:
                    out[k] = hit[0]
                continue
            todo.append((ref, ks))
        if not todo:
            return out
        found = await self._find([k for _, ks in todo for k in ks])
        new = [(ref, ks) for ref, ks in todo if not any(k in found for k in ks)]
        if new:
            # a show only a file names is stored unverified and without a slug (the one field that becomes a link
            # whatever the id): a trusted source replaces what the file said when it names the show
            await self.db.executemany(
                "INSERT INTO shows(trakt_id, tmdb_id, imdb_id, tvdb_id, slug, title, year, aired_episodes, verified) "
                "VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                sorted(((r.ids.trakt, r.ids.tmdb, r.ids.imdb, r.ids.tvdb, r.ids.slug if trusted else None, r.title,
                         r.year, r.aired_episodes, int(trusted)) for r, _ in new), key=_lock_order))
            found |= await self._find([k for _, ks in new for k in ks])
        fresh = {id(r) for r, _ in new}
        merged: list[tuple[ShowRef, int]] = []
        for ref, ks in todo:
            sid = next((found[k] for k in ks if k in found), None)
            if sid is None:                       # cannot happen unless a row vanished meanwhile
                raise KeyError(f"show not stored: {ref.ids}")
            for k in ks:
                out[k] = sid
            if id(ref) not in fresh:
                merged.append((ref, sid))
        if merged and trusted:                    # known shows: fill what they lack, adopt free ids
            # a row only an upload had named takes the trusted source's fields outright, then counts as verified
            await self.db.executemany(
                "UPDATE shows SET title=CASE WHEN verified=0 THEN COALESCE(?, title) ELSE title END, "
                "year=CASE WHEN verified=0 THEN ? ELSE year END, slug=CASE WHEN verified=0 THEN ? ELSE slug END, "
                "aired_episodes=CASE WHEN verified=0 THEN ? ELSE aired_episodes END, verified=1 "
                "WHERE id=? AND verified=0",
                sorted(((r.title or None, r.year, r.ids.slug, r.aired_episodes, sid) for r, sid in merged),
                       key=lambda a: a[-1]))
            await self.db.executemany(
                "UPDATE shows SET title=COALESCE(?, title), year=COALESCE(?, year), "
                "aired_episodes=COALESCE(?, aired_episodes), slug=COALESCE(slug, ?) WHERE id=?",
                sorted(((r.title or None, r.year, r.aired_episodes, r.ids.slug, sid) for r, sid in merged),
                       key=lambda a: a[-1]))
            await self._adopt_ids([(sid, r.ids) for r, sid in merged])
        sids = sorted({out[ks[0]] for _, ks in todo})
        stored: dict[int, tuple[Any, ...]] = {}
        for chunk in chunks(sids):
            for r in await self.db.fetch(
                    "SELECT id, title, year, aired_episodes, trakt_id, tmdb_id, imdb_id, tvdb_id FROM shows "
                    f"WHERE id IN ({marks(len(chunk))})", *chunk):
                stored[int(r[0])] = tuple(r)[1:]
        for _, ks in todo:
            sid = out[ks[0]]
            if sid in stored:
                for k in ks:
                    self._pending[k] = (sid, stored[sid])
        return out

    async def _find(self, wanted: Sequence[ShowKey]) -> dict[ShowKey, int]:
        """The rows that own these id keys (one query per id kind and chunk)."""
        found: dict[ShowKey, int] = {}
        for kind, col in ID_COLUMNS:
            vals = sorted({v for k, v in wanted if k == kind}, key=str)
            for chunk in chunks(vals):
                for r in await self.db.fetch(f"SELECT {col}, id FROM shows WHERE {col} IN ({marks(len(chunk))})",
                                             *chunk):
                    found[(kind, r[0])] = int(r[1])
        return found

    async def ensure(self, refs: Sequence[ShowRef]) -> list[int | None]:
        """Bulk: make sure every show is stored (new rows for unknown ones, existing rows left as they are) and
        return their ids in order (None for a ref whose ids point at two different rows). Two statements per
        chunk however many shows: for a whole catalogue, where ``upsert``'s per-show merging is not needed."""
        rows = sorted(((r.ids.trakt, r.ids.tmdb, r.ids.imdb, r.ids.tvdb, r.ids.slug, r.title, r.year,
                        r.aired_episodes) for r in refs), key=_lock_order)
        await self.db.executemany(
            "INSERT INTO shows(trakt_id, tmdb_id, imdb_id, tvdb_id, slug, title, year, aired_episodes) "
            "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING", rows)
        found: dict[ShowKey, int] = {}
        for kind, col in ID_COLUMNS:
            vals = sorted({v for r in refs if (v := getattr(r.ids, kind)) is not None}, key=str)
            for chunk in chunks(vals):
                for row in await self.db.fetch(f"SELECT {col}, id FROM shows WHERE {col} IN ({marks(len(chunk))})",
                                               *chunk):
                    found[(kind, row[0])] = int(row[1])
        out: list[int | None] = []
        for r in refs:
            hits = {found[k] for k in keys(r.ids) if k in found}
            out.append(hits.pop() if len(hits) == 1 else None)
        return out

    async def meta_key(self) -> tuple[Any, ...]:
        """Changes when shows are added or their metadata changes (how many have it, and the latest fetch)."""
        row = await self.db.fetchone("SELECT COUNT(*), COUNT(meta), MAX(meta_fetched_at) FROM shows")
        return tuple(row) if row is not None else ()

    async def metas_raw(self, after_id: int = 0) -> list[tuple[int, str, str, int | None]]:
        """(id, metadata JSON, title, year) of every show with metadata and an id above ``after_id``, undecoded:
        a deployment's index decodes them off the event loop."""
        rows = await self.db.fetch("SELECT id, meta, title, year FROM shows WHERE id > ? AND meta IS NOT NULL "
                                   "AND meta <> '{}' ORDER BY id", after_id)
        return [(int(r[0]), str(r[1]), str(r[2]), r[3]) for r in rows]

    async def _adopt_ids(self, rows: Sequence[tuple[int, ShowIds]]) -> None:
        """Fill ids rows lack, unless another row owns them (then keep the two apart rather than guess); one
        statement per id kind however many rows."""
        rows = sorted(rows, key=lambda r: r[0])
        for col, kind in (("trakt_id", "trakt"), ("tmdb_id", "tmdb"), ("imdb_id", "imdb")):
            args = [(v, sid, v) for sid, ids in rows if (v := getattr(ids, kind)) is not None]
            if args:
                await self.db.executemany(f"UPDATE shows SET {col}=? WHERE id=? AND {col} IS NULL "
                                          f"AND NOT EXISTS (SELECT 1 FROM shows o WHERE o.{col}=?)", args)
        tvdb = [(ids.tvdb, sid) for sid, ids in rows if ids.tvdb is not None]
        if tvdb:
            await self.db.executemany("UPDATE shows SET tvdb_id=? WHERE id=? AND tvdb_id IS NULL", tvdb)

    async def by_ids(self, ids: ShowIds) -> ShowRecord | None:
        for kind, val in keys(ids):
            row = await self.db.fetchone(f"SELECT {COLUMNS} FROM shows WHERE {kind}_id=?", val)
            if row is not None:
                return record(row)
        return None

    async def get(self, show_id: int) -> ShowRecord | None:
        row = await self.db.fetchone(f"SELECT {COLUMNS} FROM shows WHERE id=?", show_id)
        return record(row) if row is not None else None

    async def many(self, show_ids: Iterable[int]) -> dict[int, ShowRecord]:
        ids = sorted(set(show_ids))
        out: dict[int, ShowRecord] = {}
        for chunk in chunks(ids):
            for r in await self.db.fetch(f"SELECT {COLUMNS} FROM shows WHERE id IN ({marks(len(chunk))})", *chunk):
                rec = record(r)
                out[rec.id] = rec
        return out

    async def by_trakt_ids(self, trakt_ids: Iterable[int]) -> dict[int, ShowRecord]:
        ids = sorted(set(trakt_ids))
        out: dict[int, ShowRecord] = {}
        for chunk in chunks(ids):
            for r in await self.db.fetch(f"SELECT {COLUMNS} FROM shows WHERE trakt_id IN ({marks(len(chunk))})",
                                         *chunk):
                rec = record(r)
                if rec.ids.trakt is not None:
                    out[rec.ids.trakt] = rec
        return out

    async def all(self) -> list[ShowRecord]:
        """Every stored show (operators' views and tests; a catalogue of tens of thousands reads in a blink)."""
        return [record(r) for r in await self.db.fetch(f"SELECT {COLUMNS} FROM shows ORDER BY id")]

    async def titles(self) -> list[tuple[int, str, int | None]]:
        """Every stored show's id, title and year (for title look-ups)."""
        return [(int(r[0]), str(r[1]), r[2]) for r in await self.db.fetch("SELECT id, title, year FROM shows")]

    async def needing_meta(self, now: datetime, *, person_id: int | None = None,
                           among: Sequence[int] | None = None, limit: int = 100_000) -> list[ShowRecord]:
        """Shows whose metadata is missing or expired: everyone's, one person's, or among these ids."""
        if among is not None:
            out = []
            for chunk in chunks(sorted(set(among))):
                out += [record(r) for r in await self.db.fetch(
                    f"SELECT {COLUMNS} FROM shows WHERE id IN ({marks(len(chunk))}) AND "
                    "(meta_expires_at IS NULL OR meta_expires_at < ?) ORDER BY id", *chunk, iso(now))]
            return out
        if person_id is not None:
            rows = await self.db.fetch(
                f"SELECT {COLUMNS} FROM shows s WHERE (s.meta_expires_at IS NULL OR s.meta_expires_at < ?) AND s.id IN "
                "(SELECT show_id FROM plays WHERE person_id=? UNION SELECT show_id FROM ratings WHERE person_id=? "
                "UNION SELECT show_id FROM watchlist WHERE person_id=?) ORDER BY s.id LIMIT ?",
                iso(now), person_id, person_id, person_id, limit)
        else:
            rows = await self.db.fetch(
                f"SELECT {COLUMNS} FROM shows WHERE meta_expires_at IS NULL OR meta_expires_at < ? ORDER BY id LIMIT ?",
                iso(now), limit)
        return [record(r) for r in rows]

    async def save_metas(self, items: Sequence[tuple[int, ShowMeta | None, datetime]], fetched_at: datetime) -> None:
        """Metadata from the source for many shows, in a few statements: (show id, metadata or None — the source
        does not know the show, remembered until its expiry —, expires at); the ids it names are adopted."""
        if not items:
            return
        await self.db.executemany(
            "UPDATE shows SET meta=?, meta_fetched_at=?, meta_expires_at=? WHERE id=?",
            [(encode(m) if m is not None else "{}", iso(fetched_at), iso(exp), sid)
             for sid, m, exp in sorted(items, key=lambda i: i[0])])
        await self._adopt_ids([(sid, ShowIds(tmdb=m.tmdb_id, imdb=m.imdb_id, tvdb=m.tvdb_id))
                               for sid, m, _ in items if m is not None])

    async def save_missing_metas(self, metas: Sequence[tuple[int, ShowMeta]], fetched_at: datetime,
                                 expires_at: datetime) -> None:
        """Metadata for shows that have none yet (what a list told us about them)."""
        await self.db.executemany(
            "UPDATE shows SET meta=?, meta_fetched_at=?, meta_expires_at=? WHERE id=? AND meta IS NULL",
            [(encode(m), iso(fetched_at), iso(expires_at), sid) for sid, m in sorted(metas, key=lambda i: i[0])])

    async def set_meta(self, show_id: int, meta: ShowMeta) -> None:
        """Change stored metadata in place (e.g. LLM tone tags), keeping its expiry."""
        await self.db.execute("UPDATE shows SET meta=? WHERE id=?", encode(meta), show_id)
