"""Where people watch: a person with only a media server (Jellyfin, Emby or Plex, no Trakt) links it, syncs, gets
personas and picks marked "in your library" / "request it", taps 📥, and Seerr holds one request from their own
Seerr user; the next sync sees them play it and the pick counts as adopted. Played episodes sync incrementally (one
request when nothing changed), an episode marked unplayed is removed, a series without ids is never guessed."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web

from bot.grammar import parse_recommend
from engine.store.testing import count
from engine.values.errors import MultitudesError
from engine.values.models import RecommendRequest
from engine.values.plans import Outcome
from tests.fakes.catalogue import catalogue
from tests.fakes.clock import FakeClock
from tests.fakes.jellyfin import FakeJellyfin
from tests.fakes.plex import FakePlex
from tests.fakes.seerr import FakeSeerr
from tests.fakes.sonarr import FakeSonarr

NOW = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)


Server = FakeJellyfin | FakePlex


@dataclass
class Home:
    server: Any                     # FakeJellyfin | FakePlex
    seerr: FakeSeerr
    engine: Any
    clock: FakeClock
    alice: Any                      # her server user (Jellyfin/Emby: an id; Plex: her plex.tv id)
    series: dict[int, str]          # tmdb id -> the server's series item id
    watched: list[dict[str, Any]]   # the catalogue entries she watched
    library: list[dict[str, Any]]   # the catalogue entries the server has


def env(server: Any, seerr: FakeSeerr, **more: str) -> dict[str, str]:
    plex = {"MULTITUDES_MEDIASERVER__PLEX_TV_URL": server.url} if server.kind == "plex" else {}
    return {**plex, "MULTITUDES_MEDIASERVER__KIND": server.kind, "MULTITUDES_MEDIASERVER__BASE_URL": server.url,
            "MULTITUDES_MEDIASERVER_API_KEY": server.api_key, "MULTITUDES_MEDIASERVER__PAGE_LIMIT": "50",
            "MULTITUDES_MEDIASERVER__HTTP__BACKOFF_BASE_S": "0.01", "MULTITUDES_MEDIASERVER__HTTP__BACKOFF_MAX_S":
            "0.02", "MULTITUDES_SEERR__BASE_URL": seerr.url, "MULTITUDES_SEERR_API_KEY": seerr.api_key, **more}


def fill(server: Any, user: Any, seed: int = 3) -> tuple[dict[int, str], list[dict[str, Any]],
                                                                  list[dict[str, Any]]]:
    """A home library of 60 real shows (half crime/drama, half comedy/animation), 16 of them watched over a year."""
    rng = random.Random(seed)
    shows = [e for e in catalogue() if e["tmdb_id"] and e["imdb_id"] and e["year"] >= 2000]
    dark = [e for e in shows if {"crime", "drama"} <= set(e["genres"])][:30]
    light = [e for e in shows if "comedy" in e["genres"] and e not in dark][:30]
    library = dark + light
    series = {e["tmdb_id"]: server.add_series(e["title"], e["year"], tmdb=e["tmdb_id"], imdb=e["imdb_id"])
              for e in library}
    watched = dark[:9] + light[:7]
    start = NOW - timedelta(days=360)
    for n, e in enumerate(watched):
        for ep in range(1, rng.randint(4, 9)):
            at = start + timedelta(days=20 * n + ep, hours=rng.randint(0, 3))
            server.play(user, series[e["tmdb_id"]], 1, ep, at)
    return series, watched, library


@pytest.fixture(params=["jellyfin", "emby", "plex"])
async def home(request: pytest.FixtureRequest, make_engine: Any) -> AsyncIterator[Home]:
    kind = request.param
    async with (FakePlex() if kind == "plex" else FakeJellyfin(kind=kind)) as server, FakeSeerr() as seerr:
        alice = server.share_with("alice") if kind == "plex" else server.add_user("alice")
        series, watched, library = fill(server, alice)
        clock = FakeClock(NOW)
        mapping = {"MULTITUDES_MEDIASERVER__PEOPLE": '{"telegram:1" = "alice"}'} if kind == "emby" else {}
        engine = await make_engine(clock=clock, **env(server, seerr, **mapping))
        yield Home(server, seerr, engine, clock, alice, series, watched, library)
        assert not server.unhandled and not seerr.unhandled, (server.unhandled, seerr.unhandled)


async def link_alice(h: Home) -> int:
    pid = await h.engine.person("telegram", "1", "Alice")
    start = await h.engine.link_server(pid, h.server.kind)
    if h.server.kind == "jellyfin":               # Quick Connect: she confirms the code in her own session
        assert start.code and start.linked_as is None
        assert await h.engine.poll_link(pid, server=True) is None
        assert h.server.authorize(start.code, h.alice)
        assert await h.engine.poll_link(pid, server=True) == "alice"
        assert not h.server.tokens                # the session Quick Connect opened is logged out at once
    elif h.server.kind == "plex":                 # plex.tv's PIN: she enters the code at plex.tv/link
        assert start.code and start.linked_as is None
        assert await h.engine.poll_link(pid, server=True) is None
        assert h.server.claim(start.code, h.alice)
        assert await h.engine.poll_link(pid, server=True) == "alice"
    else:                                         # Emby: the owner's mapping links her at once
        assert start.linked_as == "alice" and start.code is None
    return pid


async def test_a_server_only_person_gets_picks_requests_one_and_its_play_counts(home: Home) -> None:
    h = home
    pid = await link_alice(h)
    rep = await h.engine.sync(pid)
    plays = h.server.plays_now(h.alice)
    assert rep.source == h.server.kind and rep.new_plays == plays > 60
    assert await count(h.engine._s.store, "media_library") == 60
    report = await h.engine.personas(pid)
    assert len(report.personas) >= 2

    got = await h.engine.recommend(RecommendRequest(pid, k=8, use_llm=False))
    assert got.items and all(it.in_library is not None for it in got.items)
    in_lib = {e["tmdb_id"] for e in h.library}
    assert all(it.in_library == (it.tmdb_id in in_lib) for it in got.items)
    assert all(it.requestable == (not it.in_library) for it in got.items)

    only = await h.engine.recommend(parse_recommend(["library", "k:6"]).request(pid, "telegram"))
    assert only.items and all(it.in_library for it in only.items)
    watched = {e["tmdb_id"] for e in h.watched}
    assert not any(it.tmdb_id in watched for it in only.items)

    pick = next(it for it in got.items if it.requestable)
    seerr_user = (h.seerr.add_user("alice", plex_id=h.alice) if h.server.kind == "plex"
                  else h.seerr.add_user("alice", h.alice.upper() if h.server.kind == "emby" else h.alice))
    done = await h.engine.request_pick(pid, pick.event_id)
    assert done.outcome is Outcome.PENDING and done.title == pick.title
    assert len(h.seerr.requests_made) == 1
    made = h.seerr.requests_made[0]
    assert made["requestedBy"]["id"] == seerr_user and made["media"]["tmdbId"] == pick.tmdb_id
    again = await h.engine.request_pick(pid, pick.event_id)     # never twice for one person and show
    assert again.outcome is Outcome.ALREADY and len(h.seerr.requests_made) == 1

    # the show arrives on the server; she plays two episodes; the next sync sees it and the pick is adopted
    entry = next(e for e in catalogue() if e["tmdb_id"] == pick.tmdb_id)
    sid = h.server.add_series(entry["title"], entry["year"], tmdb=entry["tmdb_id"], imdb=entry["imdb_id"])
    h.clock.advance(days=2)
    h.server.play(h.alice, sid, 1, 1, h.clock.now() - timedelta(hours=2))
    h.server.play(h.alice, sid, 1, 2, h.clock.now() - timedelta(hours=1))
    rep = await h.engine.sync(pid)
    assert rep.new_plays == 2
    rates = await h.engine.success_rates(pid, by="all")
    assert sum(r.started for r in rates) >= 1


@pytest.mark.both_stores
async def test_an_unchanged_history_is_one_request_and_an_unplayed_episode_is_removed(home: Home) -> None:
    h = home
    pid = await link_alice(h)
    await h.engine.sync(pid)
    before = len(h.server.requests)
    rep = await h.engine.sync(pid)
    assert rep.unchanged and rep.requests == 1
    assert len(h.server.requests) - before == 1

    # one new play: read up to what is stored (one page here), nothing re-read
    e = h.watched[0]
    h.clock.advance(hours=3)
    h.server.play(h.alice, h.series[e["tmdb_id"]], 2, 1, h.clock.now())
    rep = await h.engine.sync(pid)
    assert rep.new_plays == 1 and rep.removed_plays == 0 and rep.requests == 1

    # a rewatch moves the episode's date: one more play, at the new time
    h.clock.advance(hours=3)
    h.server.play(h.alice, h.series[e["tmdb_id"]], 2, 1, h.clock.now())
    rep = await h.engine.sync(pid)
    assert rep.new_plays == 1 and rep.removed_plays == 0

    # marked unplayed (Plex: its views deleted from the history): its plays go, found by the count that no longer
    # adds up
    assert h.server.unplay_season(h.alice, 2) == 2
    rep = await h.engine.sync(pid)
    assert rep.removed_plays == 2 and rep.new_plays == 0
    assert await count(h.engine._s.store, "plays", person_id=pid) == h.server.plays_now(h.alice)


async def test_series_without_ids_are_skipped_and_a_taken_server_user_is_refused(home: Home) -> None:
    h = home
    bare = h.server.add_series("Home Videos", 2019)
    h.server.play(h.alice, bare, 1, 1, NOW - timedelta(days=1))
    pid = await link_alice(h)
    rep = await h.engine.sync(pid)
    assert rep.new_plays == h.server.plays_now(h.alice, but=bare)
    bob = await h.engine.person("telegram", "2", "Bob")
    if h.server.kind != "emby":
        start = await h.engine.link_server(bob, h.server.kind)
        assert start.code is not None
        if h.server.kind == "plex":
            h.server.claim(start.code, h.alice)                  # Bob enters the code signed in as Alice
        else:
            h.server.authorize(start.code, h.alice)              # Bob confirms with Alice's session
        with pytest.raises(MultitudesError) as e:
            await h.engine.poll_link(bob, server=True)
        assert "already linked to someone else" in e.value.user_message
    with pytest.raises(MultitudesError) as e:
        await h.engine.link_server(bob, "jellyfin" if h.server.kind == "plex" else "plex")
    assert f"`/link {h.server.kind}`" in e.value.user_message


async def test_seerr_refusals_leave_nothing_behind(home: Home) -> None:
    h = home
    pid = await link_alice(h)
    await h.engine.sync(pid)
    got = await h.engine.recommend(RecommendRequest(pid, k=8, use_llm=False))
    picks = [it for it in got.items if it.requestable]
    assert len(picks) >= 3
    first, second, third = picks[:3]
    no_user = await h.engine.request_pick(pid, first.event_id)       # no Seerr account for her server user yet
    assert no_user.outcome is Outcome.NO_USER
    seerr_user = (h.seerr.add_user("alice", plex_id=h.alice, quota=0) if h.server.kind == "plex"
                  else h.seerr.add_user("alice", h.alice, quota=0))
    quota = await h.engine.request_pick(pid, first.event_id)
    assert quota.outcome is Outcome.QUOTA and not h.seerr.requests_made
    h.seerr.quota[seerr_user] = 5
    h.seerr.auto_approve.add(seerr_user)
    ok = await h.engine.request_pick(pid, first.event_id)            # the refusals left no claim: asked again
    assert ok.outcome is Outcome.APPROVED and len(h.seerr.requests_made) == 1
    h.seerr.unknown.add(second.tmdb_id)
    assert (await h.engine.request_pick(pid, second.event_id)).outcome is Outcome.UNKNOWN_SHOW
    h.seerr.inject(503, count=1, path_prefix="/api/v1/request")
    with pytest.raises(MultitudesError):
        await h.engine.request_pick(pid, third.event_id)
    assert (await h.engine.request_pick(pid, third.event_id)).outcome is Outcome.APPROVED
    assert len(h.seerr.requests_made) == 2
    other = await h.engine.person("telegram", "9", "Mallory")
    with pytest.raises(MultitudesError) as e:
        await h.engine.request_pick(other, third.event_id)             # a forged button: not theirs
    assert "not yours" in e.value.user_message


async def test_without_seerr_sonarr_adds_picks_for_the_people_the_owner_allows(make_engine: Any) -> None:
    async with FakeJellyfin() as server, FakeSonarr() as sonarr:
        alice, bob_user = server.add_user("alice"), server.add_user("bob")
        fill(server, alice)
        fill(server, bob_user, seed=5)
        engine = await make_engine(clock=FakeClock(NOW), **{
            "MULTITUDES_MEDIASERVER__KIND": "jellyfin", "MULTITUDES_MEDIASERVER__BASE_URL": server.url,
            "MULTITUDES_MEDIASERVER_API_KEY": server.api_key,
            "MULTITUDES_MEDIASERVER__PEOPLE": '{"telegram:1" = "alice", "telegram:2" = "bob"}',
            "MULTITUDES_SONARR__BASE_URL": sonarr.url, "MULTITUDES_SONARR_API_KEY": sonarr.api_key,
            "MULTITUDES_SONARR__ROOT_FOLDER": "/tv", "MULTITUDES_SONARR__QUALITY_PROFILE_ID": "6",
            "MULTITUDES_SONARR__PEOPLE": '["telegram:1"]'})
        ann = await engine.person("telegram", "1", "Alice")
        bob = await engine.person("telegram", "2", "Bob")
        for pid in (ann, bob):
            await engine.link_server(pid, "jellyfin")
            await engine.sync(pid)
        mine = await engine.recommend(RecommendRequest(ann, k=8, use_llm=False))
        theirs = await engine.recommend(RecommendRequest(bob, k=8, use_llm=False))
        assert any(it.requestable for it in mine.items)
        assert not any(it.requestable for it in theirs.items)       # Bob is not allowed: no 📥 for him
        pick = next(it for it in mine.items if it.requestable)
        done = await engine.request_pick(ann, pick.event_id)
        assert done.outcome is Outcome.APPROVED
        [added] = sonarr.added.values()
        assert (added["tmdbId"], added["qualityProfileId"], added["rootFolderPath"]) == (pick.tmdb_id, 6, "/tv")
        assert added["addOptions"]["searchForMissingEpisodes"] is True
        assert (await engine.request_pick(ann, pick.event_id)).outcome is Outcome.ALREADY
        other = next(it for it in theirs.items if not it.in_library)
        assert (await engine.request_pick(bob, other.event_id)).outcome is Outcome.REFUSED
        assert len(sonarr.added) == 1
        assert not server.unhandled and not sonarr.unhandled


@pytest.mark.both_stores
async def test_forgetting_removes_the_server_link_requests_and_publishing(home: Home) -> None:
    h = home
    pid = await link_alice(h)
    await h.engine.sync(pid)
    got = await h.engine.recommend(RecommendRequest(pid, k=6, use_llm=False))
    await h.engine.attach_message([it.event_id for it in got.items], "telegram", "m1")
    if h.server.kind == "plex":
        h.seerr.add_user("alice", plex_id=h.alice)
    else:
        h.seerr.add_user("alice", h.alice)
    await h.engine.request_pick(pid, next(it for it in got.items if it.requestable).event_id)
    await h.engine.update_settings(pid, publish=True)
    await h.engine.publish()
    store = h.engine._s.store
    for table in ("media_links", "media_requests", "published", "plays"):
        assert await count(store, table, person_id=pid) > 0, table
    await h.engine.forget(pid)
    for table in ("media_links", "media_requests", "published", "plays", "rec_events", "feedback"):
        assert await count(store, table, person_id=pid) == 0, table
    again = await h.engine.person("telegram", "1", "Alice")        # her server user is free to link again
    if h.server.kind == "emby":
        assert (await h.engine.link_server(again, "emby")).linked_as == "alice"


async def test_outages_and_a_refused_key_lose_nothing_and_say_why(make_engine: Any) -> None:
    """A 5xx is retried by the shared HTTP policy; a refused API key and a server that is down are one clear
    answer each, and the plays already stored stay; the next sync after the server is back carries on."""
    server = FakeJellyfin()
    await server.start()
    port = server.port
    alice = server.add_user("alice")
    fill(server, alice)
    seerr = FakeSeerr()
    await seerr.start()
    try:
        engine = await make_engine(clock=FakeClock(NOW), **env(server, seerr, **{
            "MULTITUDES_MEDIASERVER__PEOPLE": '{"telegram:1" = "alice"}',
            "MULTITUDES_MEDIASERVER__HTTP__TIMEOUT_S": "2", "MULTITUDES_MEDIASERVER__HTTP__MAX_ATTEMPTS": "3"}))
        pid = await engine.person("telegram", "1", "Alice")
        await engine.link_server(pid, "jellyfin")
        server.inject(503, count=2, path_prefix="/Items")              # two 5xx, then the answer
        first = await engine.sync(pid)
        stored = await count(engine._s.store, "plays", person_id=pid)
        assert first.new_plays == stored > 0
        server.api_key = "rotated"                                     # the owner changed the key on the server
        server.play(alice, next(iter(server.series)), 9, 1, NOW)
        with pytest.raises(MultitudesError) as e:
            await engine.sync(pid)
        said = e.value.user_message
        assert "refused the bot's API key" in said and "MULTITUDES_MEDIASERVER_API_KEY" in said
        assert await count(engine._s.store, "plays", person_id=pid) == stored
        await server.stop()                                            # the server is down
        with pytest.raises(MultitudesError) as e:
            await engine.sync(pid)
        assert "not answering" in e.value.user_message and "Nothing was lost" in e.value.user_message
        assert await count(engine._s.store, "plays", person_id=pid) == stored
        restarted = FakeJellyfin()
        restarted.users, restarted.series, restarted.played = server.users, server.series, server.played
        runner = web.AppRunner(restarted.app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()             # back, on the same address
        try:
            again = await engine.sync(pid)
            assert again.new_plays == 1 and await count(engine._s.store, "plays", person_id=pid) == stored + 1
        finally:
            await runner.cleanup()
    finally:
        await seerr.stop()
