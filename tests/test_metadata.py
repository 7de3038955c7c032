"""TMDB and OMDb enrichment through the real httpx client against loopback fakes; cache TTLs; real payloads."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from engine.errors import ConfigError
from engine.models import Play, ShowIds, ShowRef
from engine.sources.omdb import parse_scores
from engine.sources.tmdb import APPEND, normalise_tv
from tests.conftest import FIXTURES
from tests.fakes.catalogue import catalogue
from tests.fakes.clock import FakeClock
from tests.fakes.omdb import FakeOmdb
from tests.fakes.tmdb import FakeTmdb, tv_payload


async def metas(engine: Any) -> dict[int, dict[str, Any]]:
    rows = await engine.store.all("SELECT tmdb_id, meta FROM shows WHERE meta IS NOT NULL")
    return {r[0]: json.loads(r[1]) for r in rows}


async def test_enrichment_appends_everything_and_caches_by_lifecycle(fake_tmdb: FakeTmdb, make_engine: Any) -> None:
    clock = FakeClock()
    fake_tmdb.today = clock.now().date()
    engine = await make_engine(tmdb=fake_tmdb, clock=clock)
    pid = await engine.person("console", "u")
    rep = await engine.load_sample(pid)
    tv = [r for r in fake_tmdb.requests if r.path.startswith("/3/tv/")]
    assert len(tv) == rep.shows + len({r for r in await engine.store.all(
        "SELECT show_id FROM watchlist UNION SELECT show_id FROM ratings UNION SELECT show_id FROM hidden "
        "EXCEPT SELECT show_id FROM plays")})
    assert all(set(r.query["append_to_response"].split(",")) == set(APPEND.split(",")) for r in tv)
    m = await metas(engine)
    assert len(m) == len(tv)
    one = next(iter(m.values()))
    assert one["genres"] and one["providers"] and one["status"] in ("Ended", "Canceled", "Returning Series")
    assert any(x["keywords"] for x in m.values())

    # nothing expired: no request
    before = len(fake_tmdb.requests)
    assert await engine.enricher.enrich(pid) == 0
    assert len(fake_tmdb.requests) == before
    # two days later the airing shows (24 h TTL) are fetched again, the ended ones (30 days) are not
    clock.advance(days=2)
    airing = {k for k, v in m.items() if v["status"] == "Returning Series"}
    assert airing and len(airing) < len(m)
    await engine.enricher.enrich(pid)
    again = {int(r.path.rsplit("/", 1)[1]) for r in fake_tmdb.requests[before:]}
    assert again == airing
    clock.advance(days=31)
    before = len(fake_tmdb.requests)
    await engine.enricher.enrich(pid)
    assert len(fake_tmdb.requests) - before == len(m)


async def test_find_for_shows_without_tmdb_id_and_bounded_concurrency(make_engine: Any) -> None:
    async with FakeTmdb() as fake:
        fake.latency = 0.02
        engine = await make_engine(tmdb=fake, MULTITUDES_TMDB__CONCURRENCY="3")
        pid = await engine.person("console", "u")
        cat = catalogue()[:24]
        when = datetime(2024, 1, 1, tzinfo=UTC)
        plays = [Play(ShowRef(ShowIds(imdb=e["imdb_id"]), e["title"], e["year"]), 1, 1, when) for e in cat]
        await engine.store.import_batch(pid, "netflix", plays)
        assert await engine.enricher.enrich(pid) == 24
        assert fake.count("/3/find/") == 24
        assert fake.max_in_flight <= 3
        rows = await engine.store.all("SELECT imdb_id, tmdb_id FROM shows")
        assert {r[0]: r[1] for r in rows} == {e["imdb_id"]: e["tmdb_id"] for e in cat}


async def test_tmdb_429_is_waited_out(fake_tmdb: FakeTmdb, make_engine: Any) -> None:
    engine = await make_engine(tmdb=fake_tmdb)
    fake_tmdb.inject(429, 2, headers={"Retry-After": "0"}, path_prefix="/3/tv/")
    pid = await engine.person("console", "u")
    await engine.load_sample(pid)
    assert engine.tmdb.http.rate_limited == 2
    assert len(await metas(engine)) > 20


async def test_bad_tmdb_key_is_a_clear_config_error(make_engine: Any) -> None:
    async with FakeTmdb(api_key="right") as fake:
        engine = await make_engine(tmdb=fake, MULTITUDES_TMDB_API_KEY="wrong")
        with pytest.raises(ConfigError) as e:
            await engine.tmdb.tv(1396)
        assert "MULTITUDES_TMDB_API_KEY" in e.value.user_message


async def test_v4_bearer_token_auth(make_engine: Any) -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.test.token"
    async with FakeTmdb(api_key=token) as fake:
        engine = await make_engine(tmdb=fake, MULTITUDES_TMDB_API_KEY=token)
        assert (await engine.tmdb.tv(next(iter(fake.shows))))["name"]
        assert "api_key" not in fake.requests[-1].query
        assert fake.requests[-1].headers["Authorization"] == f"Bearer {token}"


async def test_real_recorded_payloads_parse(fake_tmdb: FakeTmdb, make_engine: Any) -> None:
    boys = fake_tmdb.add_recorded(FIXTURES / "tmdb_tv_76479_the_boys_2022.json")
    engine = await make_engine(tmdb=fake_tmdb)
    m = await engine.tmdb.tv(boys)
    assert m["name"] == "The Boys" and m["status"] == "Returning Series"
    assert m["next_episode"]["season"] == 3 and m["next_episode"]["air_date"]
    assert "superhero" in m["keywords"] and "Amazon Prime Video" in m["providers"]
    assert m["imdb_id"] == "tt1190634" and m["certification"]
    assert set(m["genres"]) >= {"science-fiction", "action"}
    assert engine.tmdb.ttl_for(m).days == 1
    got = normalise_tv(json.loads((FIXTURES / "tmdb_tv_1399_game_of_thrones_2024.json").read_text()))
    assert got["status"] == "Ended" and got["next_episode"] is None and got["last_episode"]["season"] == 8
    assert engine.tmdb.ttl_for(got).days == 30
    find = json.loads((FIXTURES / "tmdb_find_show_2025.json").read_text())
    assert find["tv_results"][0]["id"] == 1406


async def test_omdb_scores_are_added_when_enabled(fake_tmdb: FakeTmdb, fake_omdb: FakeOmdb, make_engine: Any) -> None:
    engine = await make_engine(tmdb=fake_tmdb, omdb=fake_omdb)
    pid = await engine.person("console", "u")
    await engine.load_sample(pid)
    m = await metas(engine)
    assert fake_omdb.count("/") == len(m)
    assert all(isinstance(v.get("imdb_rating"), float) for v in m.values())
    assert any(v.get("rotten_tomatoes") for v in m.values())
    assert parse_scores({"Response": "False", "Error": "Invalid API key!"}) is None
    s = parse_scores({"Response": "True", "imdbRating": "N/A", "imdbVotes": "1,234", "Metascore": "N/A",
                      "Ratings": [{"Source": "Metacritic", "Value": "78/100"}]})
    assert s == {"imdb_rating": None, "imdb_votes": 1234.0, "metacritic": 78.0, "rotten_tomatoes": None}


async def test_omdb_outage_does_not_block_enrichment(fake_tmdb: FakeTmdb, fake_omdb: FakeOmdb,
                                                     make_engine: Any) -> None:
    fake_omdb.inject(503, 10_000)
    engine = await make_engine(tmdb=fake_tmdb, omdb=fake_omdb)
    pid = await engine.person("console", "u")
    await engine.load_sample(pid)
    assert len(await metas(engine)) > 20


def test_fake_payload_dates_follow_the_clock() -> None:
    e = next(x for x in catalogue() if x["status"] == "returning series" and x["tmdb_id"] % 3 == 0)
    p = tv_payload(e, date(2026, 11, 24))
    assert p["next_episode_to_air"]["air_date"] > "2026-11-24"
