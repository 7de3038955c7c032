"""TMDB and OMDb enrichment through the real httpx client against loopback fakes; cache TTLs; real payloads."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine.adapters.omdb import parse_scores
from engine.adapters.tmdb import APPEND, TmdbClient, normalise_tv
from engine.plumbing.clock import Clock, SystemClock
from engine.plumbing.http import HttpService
from engine.store import SqliteStore
from engine.usecases.enrich import Enricher, TmdbMetadata
from engine.values.errors import ConfigError
from engine.values.meta import ShowMeta
from engine.values.models import Play, ShowIds, ShowRef
from tests.conftest import FIXTURES, settings_for
from tests.fakes.catalogue import catalogue
from tests.fakes.clock import FakeClock
from tests.fakes.omdb import FakeOmdb
from tests.fakes.tmdb import FakeTmdb, tv_payload


async def metas(probe: SqliteStore) -> dict[int, ShowMeta]:
    async with probe.read() as uow:
        return {r.ids.tmdb: r.meta for r in await uow.shows.all() if r.has_meta and r.ids.tmdb}


@asynccontextmanager
async def tmdb_client(tmp_path: Path, fake: FakeTmdb, clock: Clock | None = None,
                      **env: str) -> AsyncIterator[tuple[SqliteStore, TmdbClient, Enricher]]:
    """The TMDB client and the enricher on their own store (a component test: no engine around them)."""
    s = settings_for(tmp_path, tmdb=fake, **env)
    clock = clock or SystemClock()
    store = await SqliteStore(tmp_path / "meta.db").open()
    async with httpx.AsyncClient() as client:
        tmdb = TmdbClient(s.tmdb, s.secrets.tmdb_api_key or "", HttpService("TMDB", client, s.tmdb.http, clock,
                                                                            concurrency=s.tmdb.concurrency),
                          store, clock)
        try:
            yield store, tmdb, Enricher(store, TmdbMetadata(tmdb), clock, concurrency=s.tmdb.concurrency)
        finally:
            await store.close()


async def test_enrichment_appends_everything_and_caches_by_lifecycle(fake_tmdb: FakeTmdb, make_engine: Any,
                                                                    probe: SqliteStore) -> None:
    clock = FakeClock()
    fake_tmdb.today = clock.now().date()
    engine = await make_engine(tmdb=fake_tmdb, clock=clock)
    pid = await engine.person("console", "u")
    rep = await engine.load_sample(pid)
    tv = [r for r in fake_tmdb.requests if r.path.startswith("/3/tv/")]
    async with probe.read() as uow:
        listed_only = set(await uow.history.watchlist(pid)) | set(await uow.history.ratings(pid)) | \
            await uow.history.hidden(pid)
        listed_only -= await uow.history.played_shows(pid)
    assert len(tv) == rep.shows + len(listed_only)
    assert all(set(r.query["append_to_response"].split(",")) == set(APPEND.split(",")) for r in tv)
    m = await metas(probe)
    assert len(m) == len(tv)
    one = next(iter(m.values()))
    assert one.genres and one.providers and one.status in ("Ended", "Canceled", "Returning Series")
    assert any(x.keywords for x in m.values())

    # nothing expired: a sync's enrichment asks nothing
    before = len(fake_tmdb.requests)
    await engine.load_sample(pid)
    assert len(fake_tmdb.requests) == before
    # two days later the airing shows (24 h TTL) are fetched again, the ended ones (30 days) are not
    clock.advance(days=2)
    airing = {k for k, v in m.items() if v.status == "Returning Series"}
    assert airing and len(airing) < len(m)
    await engine.load_sample(pid)
    again = {int(r.path.rsplit("/", 1)[1]) for r in fake_tmdb.requests[before:]}
    assert again == airing
    clock.advance(days=31)
    before = len(fake_tmdb.requests)
    await engine.load_sample(pid)
    assert len(fake_tmdb.requests) - before == len(m)


async def test_find_for_shows_without_tmdb_id_and_bounded_concurrency(tmp_path: Path) -> None:
    async with FakeTmdb() as fake, tmdb_client(tmp_path, fake, MULTITUDES_TMDB__CONCURRENCY="3") as (store, _, enr):
        fake.latency = 0.02
        cat = catalogue()[:24]
        when = datetime(2024, 1, 1, tzinfo=UTC)
        plays = [Play(ShowRef(ShowIds(imdb=e["imdb_id"]), e["title"], e["year"]), 1, 1, when) for e in cat]
        async with store.unit() as uow:
            pid = await uow.people.create("console", "u", None, when)
            await uow.history.add_plays(pid, plays, "netflix")
        assert await enr.enrich(pid) == 24
        assert fake.count("/3/find/") == 24
        assert fake.max_in_flight <= 3
        async with store.read() as uow:
            got = {r.ids.imdb: r.ids.tmdb for r in await uow.shows.all()}
        assert got == {e["imdb_id"]: e["tmdb_id"] for e in cat}


async def test_tmdb_429_is_waited_out(fake_tmdb: FakeTmdb, make_engine: Any, probe: SqliteStore) -> None:
    engine = await make_engine(tmdb=fake_tmdb)
    fake_tmdb.inject(429, 2, headers={"Retry-After": "0"}, path_prefix="/3/tv/")
    pid = await engine.person("console", "u")
    await engine.load_sample(pid)
    assert sum(1 for r in fake_tmdb.requests if r.status == 429) == 2
    assert len(await metas(probe)) > 20


async def test_bad_tmdb_key_is_a_clear_config_error(tmp_path: Path) -> None:
    async with FakeTmdb(api_key="right") as fake, tmdb_client(tmp_path, fake,
                                                               MULTITUDES_TMDB_API_KEY="wrong") as (_, tmdb, _e):
        with pytest.raises(ConfigError) as e:
            await tmdb.tv(1396)
        assert "MULTITUDES_TMDB_API_KEY" in e.value.user_message


async def test_v4_bearer_token_auth(tmp_path: Path) -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.test.token"
    async with FakeTmdb(api_key=token) as fake, tmdb_client(tmp_path, fake,
                                                             MULTITUDES_TMDB_API_KEY=token) as (_, tmdb, _e):
        got = await tmdb.tv(next(iter(fake.shows)))
        assert got is not None and got.title
        assert "api_key" not in fake.requests[-1].query
        assert fake.requests[-1].headers["Authorization"] == f"Bearer {token}"


async def test_real_recorded_payloads_parse(fake_tmdb: FakeTmdb, tmp_path: Path) -> None:
    boys = fake_tmdb.add_recorded(FIXTURES / "tmdb_tv_76479_the_boys_2022.json")
    async with tmdb_client(tmp_path, fake_tmdb) as (_, tmdb, _e):
        m = await tmdb.tv(boys)
        assert m is not None and m.title == "The Boys" and m.status == "Returning Series"
        assert m.next_episode is not None and m.next_episode.season == 3 and m.next_episode.air_date
        assert "superhero" in m.keywords and "Amazon Prime Video" in m.providers
        assert m.imdb_id == "tt1190634" and m.certification
        assert set(m.genres) >= {"science-fiction", "action"}
        assert tmdb.ttl_for(m).days == 1
        got = normalise_tv(json.loads((FIXTURES / "tmdb_tv_1399_game_of_thrones_2024.json").read_text()))
        assert got.status == "Ended" and got.next_episode is None
        assert got.last_episode is not None and got.last_episode.season == 8
        assert tmdb.ttl_for(got).days == 30
    find = json.loads((FIXTURES / "tmdb_find_show_2025.json").read_text())
    assert find["tv_results"][0]["id"] == 1406


async def test_omdb_scores_are_added_when_enabled(fake_tmdb: FakeTmdb, fake_omdb: FakeOmdb, make_engine: Any,
                                                  probe: SqliteStore) -> None:
    engine = await make_engine(tmdb=fake_tmdb, omdb=fake_omdb)
    pid = await engine.person("console", "u")
    await engine.load_sample(pid)
    m = await metas(probe)
    assert fake_omdb.count("/") == len(m)
    assert all(isinstance(v.imdb_rating, float) for v in m.values())
    assert any(v.rotten_tomatoes for v in m.values())
    assert parse_scores({"Response": "False", "Error": "Invalid API key!"}) is None
    s = parse_scores({"Response": "True", "imdbRating": "N/A", "imdbVotes": "1,234", "Metascore": "N/A",
                      "Ratings": [{"Source": "Metacritic", "Value": "78/100"}]})
    assert s == {"imdb_rating": None, "imdb_votes": 1234.0, "metacritic": 78.0, "rotten_tomatoes": None}


async def test_omdb_outage_does_not_block_enrichment(fake_tmdb: FakeTmdb, fake_omdb: FakeOmdb,
                                                     make_engine: Any, probe: SqliteStore) -> None:
    fake_omdb.inject(503, 10_000)
    engine = await make_engine(tmdb=fake_tmdb, omdb=fake_omdb)
    pid = await engine.person("console", "u")
    await engine.load_sample(pid)
    assert len(await metas(probe)) > 20


def test_fake_payload_dates_follow_the_clock() -> None:
    e = next(x for x in catalogue() if x["status"] == "returning series" and x["tmdb_id"] % 3 == 0)
    p = tv_payload(e, date(2026, 11, 24))
    assert p["next_episode_to_air"]["air_date"] > "2026-11-24"


async def test_a_show_tmdb_and_trakt_do_not_know_is_asked_once_a_lifetime(
        tmp_path: Path, fake_tmdb: FakeTmdb, fake_trakt: Any, make_engine: Any, probe: SqliteStore) -> None:
    """A 404 on a shared look-up (related, recommendations, similar) is remembered like an answer: before, every
    request holding such a show asked again (20 outside calls per warm list in bench/recommend.py; now 1)."""
    from tests.conftest import trakt_client
    async with tmdb_client(tmp_path, fake_tmdb) as (_, tmdb, _e):
        for _ in range(3):
            assert await tmdb.related(987_654_321) == [] and await tmdb.related(987_654_321, "similar") == []
        asked = [r.path for r in fake_tmdb.requests if "987654321" in r.path]
        assert sorted(asked) == ["/3/tv/987654321/recommendations", "/3/tv/987654321/similar"]
    engine = await make_engine(trakt=fake_trakt)
    async with trakt_client(engine.settings, probe) as client:
        for _ in range(3):
            assert await client.related(987_654_321) == []
        assert [r.status for r in fake_trakt.requests if "987654321" in r.path] == [404]
