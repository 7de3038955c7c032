"""The store's contract, run against an in-memory and a file database."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.models import Play, ShowIds, ShowRef
from engine.store import Store
from engine.store.db import _migrations


@pytest.fixture(params=["memory", "file"])
async def store(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    s = Store(":memory:" if request.param == "memory" else tmp_path / "s.db")
    await s.open()
    yield s
    await s.close()


def ref(trakt: int | None = None, tmdb: int | None = None, imdb: str | None = None, title: str = "T") -> ShowRef:
    return ShowRef(ShowIds(trakt=trakt, tmdb=tmdb, imdb=imdb), title, 2020)


async def test_migrations_pragmas_and_foreign_keys(store: Store) -> None:
    assert await store.schema_version() == max(n for n, _ in _migrations())
    fk = await store.one("PRAGMA foreign_keys")
    assert fk[0] == 1
    mode = await store.one("PRAGMA journal_mode")
    assert mode[0] in ("wal", "memory")
    with pytest.raises(sqlite3.IntegrityError):
        async with store.tx() as db:
            await db.execute("INSERT INTO identities VALUES ('x', '1', 999, 'now')")
    await store._migrate()                       # idempotent
    assert await store.schema_version() == max(n for n, _ in _migrations())


async def test_shows_merge_ids_from_different_sources(store: Store) -> None:
    a = await store.upsert_shows([ref(trakt=1, title="Show")])
    b = await store.upsert_shows([ref(tmdb=10, imdb="tt1", title="Show")])
    assert a[("trakt", 1)] != b[("tmdb", 10)]
    c = await store.upsert_shows([ref(trakt=1, tmdb=10, title="Show")])   # now one source knows both ids
    assert c[("trakt", 1)] == a[("trakt", 1)]
    row = await store.show_by_ids(ShowIds(trakt=1))
    assert row["tmdb_id"] is None or row["tmdb_id"] == 10     # never steals an id another row owns


async def test_plays_deduplicate_by_key_and_forget_cascades(store: Store) -> None:
    pid = await store.person_for_identity("discord", "1", "A")
    assert pid is not None
    t = datetime(2024, 1, 1, tzinfo=UTC)
    plays = [Play(ref(trakt=5), 1, n, t, history_id=100 + n) for n in range(1, 4)]
    assert await store.commit_plays(pid, plays, "trakt") == 3
    assert await store.commit_plays(pid, plays, "trakt") == 0
    assert len(await store.history(pid)) == 3
    await store.forget_person(pid)
    left = await store.one("SELECT (SELECT COUNT(*) FROM plays), (SELECT COUNT(*) FROM identities)")
    assert tuple(left) == (0, 0)


async def test_same_trakt_account_from_two_platforms_is_one_person(store: Store) -> None:
    d = await store.person_for_identity("discord", "1", "A")
    t = await store.person_for_identity("telegram", "2", "A")
    assert d is not None and t is not None and d != t
    assert await store.attach_trakt_user(d, "alice") == d
    assert await store.attach_trakt_user(t, "alice") == d
    assert await store.person_for_identity("telegram", "2", create=False) == d


async def test_a_failed_transaction_leaves_nothing(store: Store) -> None:
    pid = await store.person_for_identity("console", "x")
    with pytest.raises(RuntimeError):
        async with store.tx() as db:
            await db.execute("UPDATE people SET display_name='changed' WHERE id=?", (pid,))
            raise RuntimeError("crash mid-write")
    row = await store.person(pid)
    assert row["display_name"] is None
