"""Issue 14 groundwork: Trakt's public graph read through the real client against the fake, within a request
budget, private members skipped, answers cached; and taste neighbours per persona from those ratings."""

from __future__ import annotations

from typing import Any

from engine.recommend.neighbours import neighbour_scores, taste_neighbours
from engine.sources.public_graph import Budget, Member, PublicGraph
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
        assert members and all(m.username != "hidden" for m in members)          # private: never read
        assert not any(r.path.startswith("/users/hidden") for r in fake_trakt.requests)
        assert all(m.username.startswith("crimefan") for m in members[:10])     # who rated the seeds, first
        # the same refresh again: every answer is cached, nothing goes on the wire
        before = len(fake_trakt.requests)
        again = await graph.around([e["trakt_id"] for e in crime[:6]], Budget(60))
        assert len(fake_trakt.requests) == before and [m.username for m in again] == [m.username for m in members]
        # a private profile asked for directly: skipped (Trakt answers 401), one request spent
        assert await graph.ratings("hidden", Budget(1)) is None
        assert await graph.ratings("nobody-at-all", Budget(0)) is None           # no budget: no request


def test_taste_neighbours_agree_with_the_persona_and_surface_its_unseen_favourites() -> None:
    crime_seen = {1: 1.0, 2: 0.8, 3: 0.6}
    fans = [Member(f"fan{i}", {1: 9, 2: 9, 3: 8, 50: 10, 60: 4}) for i in range(5)]
    haters = [Member(f"hater{i}", {1: 2, 2: 3, 70: 10, 71: 9}) for i in range(5)]
    one_show = [Member("tourist", {1: 10, 80: 10, 81: 2})]
    near = taste_neighbours(crime_seen, fans + haters + one_show)
    names = [m.username for m, _ in near]
    assert names[:5] == [f"fan{i}" for i in range(5)] and not any(n.startswith("hater") for n in names)
    sims = dict((m.username, s) for m, s in near)
    assert sims["tourist"] < sims["fan0"]                     # one shared show counts for less (shrinkage)
    scores = neighbour_scores(near, exclude=set(crime_seen))
    assert max(scores, key=lambda s: scores[s]) == 50         # what the persona's neighbours love
    assert 60 not in scores and 70 not in scores              # disliked by the neighbours; the haters' taste
