"""``multitudes db migrate-to URL``: a SQLite database in use, copied into a real PostgreSQL server (the session's),
verified row by row; the engine then runs on PostgreSQL with everything it had, and ids are never reused."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from engine import bootstrap
from engine.store import PostgresStore, SqliteStore
from engine.store.copy import ORDER
from engine.store.testing import count, orphan_play
from engine.values.models import FeedbackKind, RecommendRequest
from tests.conftest import pg_database, settings_for


async def test_a_sqlite_database_moves_to_postgresql_with_everything_kept(
        tmp_path: Path, pg_server: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "multitudes.db"
    engine = await bootstrap(settings_for(tmp_path, storage=str(db)), seed=0)
    me = await engine.person("console", "me", "Me")
    await engine.load_sample(me)
    await engine.update_settings(me, timezone="Europe/Paris", region="GB")
    picks = await engine.recommend(RecommendRequest(me, k=3))
    assert await engine.record_feedback(me, picks.items[0].event_id or 0, FeedbackKind.LIKED)
    before = await engine.personas(me)
    await engine.close()
    sqlite = await SqliteStore(db).open()
    counts = {t: await count(sqlite, t) for t in ORDER}
    await sqlite.close()
    assert counts["plays"] > 0 and counts["rec_events"] == 3 and counts["feedback"] == 1

    async with pg_database(pg_server) as url:
        monkeypatch.setenv("MULTITUDES_STORAGE__PATH", str(db))
        code = await asyncio.to_thread(main, ["db", "migrate-to", url])
        out = capsys.readouterr()
        assert code == 0, out.err
        assert "every row verified" in out.out
        pg = await PostgresStore(url).open()
        assert {t: await count(pg, t) for t in ORDER} == counts
        await pg.close()

        # the engine on PostgreSQL: the same person, personas (ids too), settings and feedback
        moved = await bootstrap(settings_for(tmp_path, storage=url), seed=0)
        try:
            assert await moved.find_person("console", "me") == me
            after = await moved.personas(me)
            assert [(p.id, p.name) for p in after.personas] == [(p.id, p.name) for p in before.personas]
            assert (await moved.person_settings(me)).region == "GB"
            again = await moved.recommend(RecommendRequest(me, k=3))
            assert not {it.show_id for it in again.items} & {it.show_id for it in picks.items}   # still resting
            newcomer = await moved.person("console", "new", "New")
            assert newcomer > me                                      # the identity moved past the copied ids
        finally:
            await moved.close()

        # a second copy into a database that has rows: refused, nothing changed
        code = await asyncio.to_thread(main, ["db", "migrate-to", url])
        assert code == 1 and "not empty" in capsys.readouterr().err
        pg = await PostgresStore(url).open()
        assert await count(pg, "people") == counts["people"] + 1
        await pg.close()


async def test_a_copy_that_cannot_finish_keeps_nothing(tmp_path: Path, pg_server: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A row PostgreSQL refuses (here: a play of a show that is not there, which SQLite let in with its foreign
    keys off) rolls the whole copy back."""
    db = tmp_path / "multitudes.db"
    store = await SqliteStore(db).open()
    async with store.unit() as uow:
        pid = await uow.people.create("console", "me", "Me", _now())
    await orphan_play(store, pid, 999)
    await store.close()
    async with pg_database(pg_server) as url:
        monkeypatch.setenv("MULTITUDES_STORAGE__PATH", str(db))
        assert await asyncio.to_thread(main, ["db", "migrate-to", url]) == 1
        pg = await PostgresStore(url).open()
        assert await count(pg, "people") == 0                          # all or nothing
        await pg.close()


def _now() -> Any:
    from datetime import UTC, datetime
    return datetime(2026, 12, 1, tzinfo=UTC)
