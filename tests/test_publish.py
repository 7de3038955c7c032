"""Out of the bot: `multitudes publish` writes the current picks of everyone who opted in as a private Trakt list
and as a collection on the media server — exactly the current picks each time (a 👎 takes one out, nothing is added
twice), the same list or collection updated, made again when deleted there, one person's full account reported
while the others go on, and nothing written for anyone who did not opt in."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main as cli_main
from engine.values.models import FeedbackKind, RecommendRequest
from tests.conftest import link_person
from tests.fakes.catalogue import history_rows
from tests.fakes.clock import FakeClock
from tests.fakes.jellyfin import FakeJellyfin
from tests.fakes.plex import FakePlex
from tests.fakes.tmdb import FakeTmdb
from tests.fakes.trakt import FakeTrakt
from tests.test_media_server import NOW, fill

pytestmark = pytest.mark.both_stores


def listed(fake: FakeTrakt, user: str) -> list[int]:
    [lst] = [x for x in fake.users[user].lists.values() if x["name"] == "Multitudes picks"]
    assert lst["privacy"] == "private"
    return [s["ids"]["trakt"] for s in lst["items"]]


async def shown_picks(engine: Any, pid: int, k: int = 5) -> list[Any]:
    got = await engine.recommend(RecommendRequest(pid, k=k, use_llm=False))
    await engine.attach_message([it.event_id for it in got.items], "console", f"m{pid}")
    return list(got.items)


async def test_picks_become_a_private_trakt_list_kept_exact(make_engine: Any, fake_trakt: FakeTrakt,
                                                            fake_tmdb: FakeTmdb) -> None:
    for name in ("ann", "ben", "cid"):
        fake_trakt.add_user(name, history=history_rows(300, 14, seed=len(name) * 7 + ord(name[0])))
    engine = await make_engine(trakt=fake_trakt, tmdb=fake_tmdb)
    people = {name: await link_person(engine, fake_trakt, name) for name in ("ann", "ben", "cid")}
    picks = {}
    for name, pid in people.items():
        await engine.sync(pid)
        picks[name] = await shown_picks(engine, pid)
    for name in ("ann", "ben"):
        await engine.update_settings(people[name], publish=True)
    fake_trakt.users["ben"].lists = {i: {"name": f"mine {i}", "ids": {"trakt": i, "slug": f"m{i}"}, "items": []}
                                     for i in (1, 2)}                  # a free account with no room left

    rep = await engine.publish()
    assert (rep.people, rep.lists) == (2, 1) and len(rep.failed) == 1 and "TraktAccountLimit" in rep.failed[0]
    assert listed(fake_trakt, "ann") == [it.trakt_id for it in picks["ann"]]
    assert not fake_trakt.users["cid"].lists                           # did not opt in: nothing written

    await engine.record_feedback(people["ann"], picks["ann"][1].event_id, FeedbackKind.NOT_FOR_ME)
    await engine.publish([people["ann"]])
    assert listed(fake_trakt, "ann") == [it.trakt_id for n, it in enumerate(picks["ann"]) if n != 1]
    assert len(fake_trakt.users["ann"].lists) == 1                     # the same list, updated

    fake_trakt.users["ann"].lists.clear()                              # deleted on Trakt: made again
    await engine.publish([people["ann"]])
    assert len(listed(fake_trakt, "ann")) == 4


@pytest.mark.parametrize("kind", ["jellyfin", "plex"])
async def test_picks_the_server_has_become_a_collection_there(kind: str, make_engine: Any, engine_db: str,
                                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    async with (FakePlex() if kind == "plex" else FakeJellyfin()) as server:
        alice = server.share_with("alice") if kind == "plex" else server.add_user("alice")
        series, _, _ = fill(server, alice)
        env = {"MULTITUDES_MEDIASERVER__KIND": kind, "MULTITUDES_MEDIASERVER__BASE_URL": server.url,
               "MULTITUDES_MEDIASERVER_API_KEY": server.api_key, "MULTITUDES_MEDIASERVER__PLEX_TV_URL": server.url,
               "MULTITUDES_MEDIASERVER__PEOPLE": '{"console:alice" = "alice"}'}
        engine = await make_engine(clock=FakeClock(NOW), **env)
        pid = await engine.person("console", "alice", "Alice")
        await engine.link_server(pid, kind)
        await engine.sync(pid)
        got = await shown_picks(engine, pid, k=8)
        there = [it for it in got if it.in_library]
        assert len(there) >= 2
        await engine.update_settings(pid, publish=True)
        rep = await engine.publish()
        assert (rep.people, rep.collections, rep.failed) == (1, 1, [])
        [box] = server.collections.values()
        assert (box.get("name") or box.get("title")) == "Multitudes for alice"
        assert box["items"] == [series[it.tmdb_id] for it in there]
        await engine.record_feedback(pid, there[0].event_id, FeedbackKind.SEEN)
        await engine.publish()
        [box] = server.collections.values()                                # the same collection, one fewer
        assert box["items"] == [series[it.tmdb_id] for it in there[1:]]
        server.collections.clear()                          # deleted on the server: `multitudes publish` makes it again
        where = "MULTITUDES_STORAGE__URL" if "://" in engine_db else "MULTITUDES_STORAGE__PATH"
        for k, v in {**env, "MULTITUDES_LOGGING__FILE": str(tmp_path / "cli.log"), where: engine_db}.items():
            monkeypatch.setenv(k, v)
        assert await asyncio.to_thread(cli_main, ["publish", "--user", "alice"]) == 0
        assert "1 media-server collections" in capsys.readouterr().out
        [box] = server.collections.values()
        assert box["items"] == [series[it.tmdb_id] for it in there[1:]]
        assert not server.unhandled
