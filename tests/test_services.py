"""My services: `/settings services:netflix,max` (names matched to the services the shows' metadata names), picks
on them ranked first, `provider:mine` keeping to them, and cards that say "on your Netflix" — on the demo data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot import render
from bot.grammar import parse_recommend, parse_settings
from engine.plumbing.clock import StoppedClock
from engine.values.errors import MultitudesError
from engine.values.models import RecommendRequest

NOW = datetime(2026, 7, 6, 19, 0, tzinfo=UTC)


@pytest.fixture
async def demo(make_engine: Any) -> tuple[Any, int]:
    engine = await make_engine(clock=StoppedClock(NOW))
    pid = await engine.person("console", "you")
    await engine.load_sample(pid)
    return engine, pid


async def test_services_are_named_as_people_type_them_and_unknown_ones_are_refused(demo: tuple[Any, int]) -> None:
    engine, pid = demo
    got = await engine.update_settings(pid, **parse_settings(['services:netflix,hbo,"disney+"']))
    assert got.services == ("Netflix", "HBO Max", "Disney+")      # as the metadata names them
    with pytest.raises(MultitudesError) as e:
        await engine.update_settings(pid, **parse_settings(["services:netflx"]))
    assert "Did you mean Netflix?" in e.value.user_message
    assert (await engine.person_settings(pid)).services == ("Netflix", "HBO Max", "Disney+")   # unchanged
    assert (await engine.update_settings(pid, **parse_settings(["services:none"]))).services == ()


async def test_provider_mine_keeps_to_their_services_and_asks_for_them_first(demo: tuple[Any, int]) -> None:
    engine, pid = demo
    with pytest.raises(MultitudesError) as e:
        await engine.recommend(parse_recommend(["provider:mine", "k:5"]).request(pid, "console"))
    assert "services:netflix" in e.value.user_message
    await engine.update_settings(pid, services=("hulu",))
    got = await engine.recommend(parse_recommend(["provider:mine", "k:5"]).request(pid, "console"))
    assert len(got.items) == 5 and all(it.yours == ("Hulu",) for it in got.items)
    assert all(render.where(it) == "on your Hulu" for it in got.items)


async def test_picks_on_their_services_rank_first_without_excluding_the_rest(demo: tuple[Any, int]) -> None:
    engine, pid = demo
    before = await engine.recommend(RecommendRequest(pid, k=12, use_llm=False))
    share = sum("Hulu" in it.providers for it in before.items)
    await engine.update_settings(pid, services=("hulu",))
    after = await engine.recommend(RecommendRequest(pid, k=12, use_llm=False))
    mine = sum(bool(it.yours) for it in after.items)
    assert mine > share and mine < len(after.items)       # preferred, not the only thing shown


async def test_a_card_says_when_a_show_streams_nowhere_in_their_country(demo: tuple[Any, int]) -> None:
    engine, pid = demo
    await engine.update_settings(pid, region="US")
    got = await engine.recommend(RecommendRequest(pid, k=20, use_llm=False))
    nowhere = [it for it in got.items if not it.providers]
    assert all(render.where(it).startswith("not streaming in US") for it in nowhere)


async def test_group_picks_prefer_the_services_everyone_has(make_engine: Any) -> None:
    engine = await make_engine(clock=StoppedClock(NOW))
    ann, ben = await engine.person("memory", "a", "Ann"), await engine.person("memory", "b", "Ben")
    for p in (ann, ben):
        await engine.load_sample(p)
        await engine.update_settings(p, region="US")
        await engine.set_group_opt_in("memory", "g", p, True)
    await engine.update_settings(ann, services=("netflix", "hulu"))
    await engine.update_settings(ben, services=("hulu", "hbo"))
    got = await engine.group_recommend([ann, ben], ("memory", "g"), k=3)
    assert not got.note and any(it.yours == ("Hulu",) for it in got.items)
    await engine.update_settings(ben, services=("hbo",))
    apart = await engine.group_recommend([ann, ben], ("memory", "g"), k=3)
    assert "no streaming service in common" in apart.note


async def test_with_tmdb_the_names_are_tmdbs_for_their_country(make_engine: Any, fake_tmdb: Any) -> None:
    engine = await make_engine(tmdb=fake_tmdb, clock=StoppedClock(NOW))
    pid = await engine.person("console", "you")
    got = await engine.update_settings(pid, **parse_settings(["services:mubi"]))     # no indexed show is on it
    assert got.services == ("Mubi",)
    gb = await engine.update_settings(pid, **parse_settings(["region:GB", "services:sky go,netflix"]))
    assert gb.services == ("Sky Go", "Netflix")
    assert fake_tmdb.count("/3/watch/providers/tv") == 2                   # once per country, then cached
    await engine.update_settings(pid, **parse_settings(["services:netflix"]))
    assert fake_tmdb.count("/3/watch/providers/tv") == 2


def test_a_card_says_rent_or_buy_when_a_show_streams_nowhere_but_is_sold() -> None:
    """TMDB's real watch-provider payload (The Boys): on a flat-rate service in the US; taken off it, the card
    names who rents or sells it instead of "not streaming"."""
    import json
    from pathlib import Path

    from engine.adapters.tmdb import normalise_tv
    from engine.recommend.cards import card

    raw = json.loads((Path(__file__).parent / "data" / "fixtures" / "tmdb_tv_76479_the_boys_2022.json").read_text())
    streaming = card(1, normalise_tv(raw, "US"), None, "US", persona_id=None, persona_name=None, reason="", score=0,
                     sources=(), rank=1, lifecycle=None, strategy="blend")
    assert render.where(streaming) == "Amazon Prime Video" and streaming.rent_buy == ()
    raw["watch/providers"]["results"]["US"].pop("flatrate")
    sold = card(1, normalise_tv(raw, "US"), None, "US", persona_id=None, persona_name=None, reason="", score=0,
                sources=(), rank=1, lifecycle=None, strategy="blend")
    assert render.where(sold).startswith("rent or buy: Apple iTunes, Vudu")
    gb = card(1, normalise_tv(raw, "US"), None, "GB", persona_id=None, persona_name=None, reason="", score=0,
              sources=(), rank=1, lifecycle=None, strategy="blend")
    assert not gb.rent_buy                                  # never another country's shops as if they were yours
