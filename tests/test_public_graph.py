"""Issue 14 groundwork: Trakt's public graph read through the real client against the fake, within a request
budget, private members skipped, answers cached — and the evaluation's dataset adapter asked exactly the same."""

from __future__ import annotations

from typing import Any

from engine.evaluation.datasets import Interaction
from engine.evaluation.lone import DatasetPublic
from engine.evaluation.strategies import TrainData
from engine.store.testing import all_rows
from engine.usecases.public_graph import Budget, PublicGraph
from tests.conftest import trakt_client
from tests.fakes.catalogue import catalogue
from tests.fakes.trakt import FakeTrakt


def _population(fake: FakeTrakt) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Crime fans and comedy fans; crime fans also love a crime show the person has not seen."""
    cat = catalogue()
    crime = [e for e in cat if "crime" in e["genres"] and "comedy" not in e["genres"]][:12]
    comedy = [e for e in cat if "comedy" in e["genres"] and "crime" not in e["genres"]][:12]
    for i in range(25):
        fake.add_public_user(f"crimefan{i}", [(e, 9 if n % 3 else 8) for n, e in enumerate(crime)]
                             + [(e, 4) for e in comedy[:3]])
        fake.add_public_user(f"laughs{i}", [(e, 9) for e in comedy] + [(e, 3) for e in crime[:4]])
    fake.add_public_user("hidden", [(e, 10) for e in crime], private=True)
    return crime, comedy


async def test_public_graph_stays_within_budget_skips_private_members_and_caches(
        fake_trakt: FakeTrakt, make_engine: Any, probe: Any) -> None:
    crime, _ = _population(fake_trakt)
    engine = await make_engine(trakt=fake_trakt)
    async with trakt_client(engine.settings, probe) as client:
        graph = PublicGraph(client, client.cache)
        budget = Budget(60)
        before = len(fake_trakt.requests)
        members = await graph.around([e["trakt_id"] for e in crime[:6]], budget)
        made = len(fake_trakt.requests) - before
        assert made == budget.spent <= 60
        assert members and not any(r.path.startswith("/users/hidden") for r in fake_trakt.requests)  # private
        asked = [r.path.split("/")[2] for r in fake_trakt.requests if r.path.startswith("/users/")]
        assert all(a.startswith("crimefan") for a in asked[:10])                 # who rated the seeds, first
        # strangers are never kept by name: members are pseudonyms, the cache holds no username or comment
        assert not any("crimefan" in m.username for m in members)
        cached = " ".join(str(r["key"]) + str(r["body"]) for r in await all_rows(probe, "api_cache"))
        assert "crimefan" not in cached and "comment" not in cached
        # the same refresh again: every answer is cached, nothing goes on the wire
        before = len(fake_trakt.requests)
        again = await graph.around([e["trakt_id"] for e in crime[:6]], Budget(60))
        assert len(fake_trakt.requests) == before and [m.username for m in again] == [m.username for m in members]
        # a private profile asked for directly: skipped (Trakt answers 401), one request spent
        graph._names[graph.pseudonym("hidden")] = "hidden"
        assert await graph.ratings(graph.pseudonym("hidden"), Budget(1)) is None
        assert await graph.ratings(graph.pseudonym("nobody-at-all"), Budget(0)) is None   # unknown: no request


async def test_the_evaluation_adapter_makes_the_same_calls_as_the_live_client(
        fake_trakt: FakeTrakt, make_engine: Any, probe: Any) -> None:
    """`multitudes eval --strategies lone` answers the public graph from a dataset; for the same people it must be
    asked exactly what Trakt is asked, in the same order, within the same budget."""
    crime, _ = _population(fake_trakt)
    # the same people as a dataset: item ids are the shows' Trakt ids, ratings on MovieLens' 0.5-5 scale
    rows = [Interaction(u.username, str(e["trakt_id"]), float(1000 + n), r / 2)
            for u in fake_trakt.public.values() if not u.private for n, (e, r) in enumerate(u.ratings)]
    rows += [Interaction("me", str(e["trakt_id"]), 1.0, 4.5) for e in crime[:6]]
    data = TrainData.build(rows, {})
    adapter = DatasetPublic(data)
    adapter.exclude = "me"
    seeds = [e["trakt_id"] for e in crime[:6]]
    offline = await PublicGraph(adapter, None).around([data.iix[str(t)] for t in seeds], Budget(60))
    engine = await make_engine(trakt=fake_trakt)
    async with trakt_client(engine.settings, probe) as client:
        before = len(fake_trakt.requests)
        live = await PublicGraph(client, None).around(seeds, Budget(60))
        asked = [r.path for r in fake_trakt.requests[before:]]

    def as_trakt(path: str) -> str:                 # the adapter's show ids are the dataset's item positions
        parts = path.split("/")
        if parts[1] == "shows":
            parts[2] = data.item_ids[int(parts[2])]
        return "/".join(parts)

    assert [as_trakt(p) for p in adapter.calls] == asked and len(asked) <= 60
    assert len(offline) == len(live)
    assert all({data.item_ids[i] for i in o.ratings} == {str(t) for t in m.ratings}
               for o, m in zip(offline, live, strict=True))
