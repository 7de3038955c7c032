"""Each scorer of the pipeline moves a list the way it should (``engine.recommend.pipeline``).

Pure functions on real catalogue shows: a person with a comedy and a crime persona, candidates from the
catalogue, and one signal changed at a time — with the signal, the list moves; without it, it does not.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from engine.recommend.pipeline import CatalogueIndex, PersonaVec, PersonView, Pool, score, select
from engine.recommend.population import EMPTY, Event, build_population
from engine.recommend.weights import Profile, shipped
from engine.taste.features import encode, rows_with
from engine.values.catalogue import Catalogue
from engine.values.meta import EpisodeAir, ShowMeta
from engine.values.models import Mode

NOW = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def shows() -> list[ShowMeta]:
    cat = Catalogue()
    return [s.meta for s in sorted(cat.shows, key=lambda s: -(s.meta.vote_count or 0))[:400]]


def index(metas: list[ShowMeta]) -> CatalogueIndex:
    rows = rows_with(encode(metas), None)
    return CatalogueIndex(np.arange(len(metas), dtype=np.int64), metas, rows,
                          np.array([np.log1p(m.vote_count or 0) for m in metas]))


def persona(cat: CatalogueIndex, pid: int, name: str, members: list[int], weight: float, **kw: object) -> PersonaVec:
    c = np.asarray(cat.rows[members].sum(axis=0)).ravel()
    return PersonaVec(pid, name, weight, c / np.linalg.norm(c), members, **kw)  # type: ignore[arg-type]


def of_genre(metas: list[ShowMeta], genre: str, n: int, skip: int = 0) -> list[int]:
    return [i for i, m in enumerate(metas) if genre in m.genres][skip:skip + n]


def person_for(cat: CatalogueIndex, metas: list[ShowMeta], **kw: object) -> PersonView:
    comedy, crime = of_genre(metas, "comedy", 12), of_genre(metas, "crime", 12)
    ps = [persona(cat, 1, "Comedies", comedy, 0.5, **kw.get("comedy", {})),     # type: ignore[arg-type]
          persona(cat, 2, "Crime", crime, 0.5, **kw.get("crime", {}))]          # type: ignore[arg-type]
    seen = set(comedy) | set(crime)
    return PersonView(ps, seen, {s: NOW.timestamp() - 86400 * k for k, s in enumerate(sorted(seen))},
                      NOW.timestamp(), kw.get("local_time"), [], {})  # type: ignore[arg-type]


def pool_of(cat: CatalogueIndex, ids: list[int], sources: dict[int, dict[str, int]] | None = None) -> Pool:
    pool = Pool()
    for i in ids:
        for src, r in (sources or {}).get(i, {"persona": 0}).items():
            pool.add(i, cat.metas[i], src, r)
    return pool


def ranked(cat: CatalogueIndex, person: PersonView, pool: Pool, profile: Profile | None = None,
           population: object = EMPTY, mode: Mode = Mode.AUTO, k: int = 10) -> list[int]:
    sc = score(pool, person, lambda ids: cat.rows[list(ids)], population, profile or shipped().profile(),  # type: ignore[arg-type]
               now=NOW, now_ts=NOW.timestamp(), catalogue=cat)
    return [sc.pool.ids[p.index] for p in select(sc, mode, k, profile or shipped().profile())]


def rank_of(ids: list[int], sid: int) -> int:
    return ids.index(sid) if sid in ids else len(ids) + 1


def test_a_new_season_lifts_a_show(shows: list[ShowMeta]) -> None:
    cat0 = index(shows)
    person = person_for(cat0, shows)
    cands = [i for i in of_genre(shows, "comedy", 40, skip=12) if i not in person.seen]
    before = ranked(cat0, person, pool_of(cat0, cands), k=40)
    target = before[len(before) // 2]                          # a show mid-list gets a premiere in 9 days
    metas = list(shows)
    metas[target] = metas[target].with_(next_episode=EpisodeAir(
        season=4, episode=1, air_date=(NOW + timedelta(days=9)).strftime("%Y-%m-%d")), status="Returning Series")
    cat1 = index(metas)
    after = ranked(cat1, person, pool_of(cat1, cands), k=40)
    assert rank_of(after, target) < rank_of(before, target) - 5


def test_an_evening_request_favours_the_evening_persona(shows: list[ShowMeta]) -> None:
    cat = index(shows)
    evening = tuple(1.0 if h == 21 else 0.0 for h in range(24))
    morning = tuple(1.0 if h == 8 else 0.0 for h in range(24))
    cands = [i for i in of_genre(shows, "comedy", 30, skip=12) + of_genre(shows, "crime", 30, skip=12)]

    def comedies_at(hour: int) -> int:
        p = person_for(cat, shows, comedy={"hours": evening}, crime={"hours": morning},
                       local_time=NOW.replace(hour=hour))
        pool = pool_of(cat, [i for i in dict.fromkeys(cands) if i not in p.seen])
        return sum("comedy" in cat.metas[i].genres and "crime" not in cat.metas[i].genres
                   for i in ranked(cat, p, pool))
    assert comedies_at(21) > comedies_at(8)


def test_an_emerging_persona_gains_slots(shows: list[ShowMeta]) -> None:
    cat = index(shows)
    cands = of_genre(shows, "comedy", 30, skip=12) + of_genre(shows, "crime", 30, skip=12)

    def crime_picks(trend: str) -> int:
        p = person_for(cat, shows, crime={"trend": trend})
        pool = pool_of(cat, [i for i in dict.fromkeys(cands) if i not in p.seen])
        follow = shipped().profile().model_copy(update={"quota": 1.0})     # slots follow the persona weights
        return sum("crime" in cat.metas[i].genres for i in ranked(cat, p, pool, follow))
    assert crime_picks("emerging") > crime_picks("steady") > crime_picks("fading")


def test_quality_puts_the_better_rated_of_two_twins_first(shows: list[ShowMeta]) -> None:
    base = shows[of_genre(shows, "comedy", 1, skip=20)[0]]
    metas = [*shows, base.with_(title="Twin A", vote_average=8.9, imdb_rating=8.9, tmdb_id=None),
             base.with_(title="Twin B", vote_average=6.1, imdb_rating=6.0, tmdb_id=None)]
    cat = index(metas)
    person = person_for(cat, metas)
    a, b = len(metas) - 2, len(metas) - 1
    rated = shipped().profile().model_copy(update={"signals": {**shipped().profile().signals, "quality": 1.0}})
    out = ranked(cat, person, pool_of(cat, [b, a, *of_genre(metas, "comedy", 20, skip=12)]), rated, k=20)
    flat = shipped().profile().model_copy(update={"signals": {**shipped().profile().signals, "quality": 0.0}})
    out0 = ranked(cat, person, pool_of(cat, [b, a, *of_genre(metas, "comedy", 20, skip=12)]), flat, k=20)
    assert rank_of(out, b) - rank_of(out, a) > rank_of(out0, b) - rank_of(out0, a) + 3   # quality set them apart


def test_popularity_now_follows_recent_plays_with_its_half_life(shows: list[ShowMeta]) -> None:
    cat = index(shows)
    person = person_for(cat, shows)
    recent, old = of_genre(shows, "comedy", 2, skip=14)
    t = NOW.timestamp()
    events = [Event(p, recent, t - 3 * 86400 - p) for p in range(200)]           # 200 people, this week
    events += [Event(p, old, t - 400 * 86400 - p) for p in range(200, 500)]     # 300 people, last year
    events += [Event(p, s, t - 30 * 86400) for p in range(500) for s in of_genre(shows, "drama", 3, skip=50)]
    population = build_population(events)
    profile = shipped().profile().model_copy(update={"signals": {"popular_now": 1.0}, "half_life_days": 14.0})
    pool = pool_of(cat, [old, recent, *of_genre(shows, "comedy", 10, skip=20)])
    out = ranked(cat, person, pool, profile, population, k=12)
    assert rank_of(out, recent) < rank_of(out, old)
    slow = profile.model_copy(update={"half_life_days": 3650.0})             # a decade: all-time popularity
    assert rank_of(ranked(cat, person, pool, slow, population, k=12), old) < rank_of(
        ranked(cat, person, pool, slow, population, k=12), recent)


def test_co_watching_lifts_what_people_like_them_watched(shows: list[ShowMeta]) -> None:
    cat = index(shows)
    person = person_for(cat, shows)
    mine = sorted(person.seen)[:5]
    hidden_gem = of_genre(shows, "documentary", 1, skip=5)[0]                 # far from both personas
    t = NOW.timestamp()
    events = [Event(p, s, t - 86400 * (p % 90)) for p in range(300) for s in [*mine, hidden_gem]]
    events += [Event(p, s, t - 86400 * (p % 90)) for p in range(300, 600)
               for s in of_genre(shows, "drama", 6, skip=60 + p % 20)]
    population = build_population(events)
    assert population.confidence > 0.9
    cands = [hidden_gem, *[i for i in of_genre(shows, "comedy", 25, skip=12) if i not in person.seen]]
    with_collab = ranked(cat, person, pool_of(cat, cands), population=population, k=25)
    without = ranked(cat, person, pool_of(cat, cands), k=25)
    assert rank_of(with_collab, hidden_gem) < rank_of(without, hidden_gem) - 5


def test_being_on_an_outside_list_is_evidence(shows: list[ShowMeta]) -> None:
    cat = index(shows)
    person = person_for(cat, shows)
    cands = [i for i in of_genre(shows, "comedy", 30, skip=12) if i not in person.seen]
    p = shipped().profile().model_copy(update={"signals": {**shipped().profile().signals, "evidence": 1.0}})
    plain = ranked(cat, person, pool_of(cat, cands), p, k=30)
    target = plain[len(plain) // 2]
    listed = ranked(cat, person, pool_of(cat, cands, {target: {"trakt_recommendations": 0, "persona": 5}}), p, k=30)
    assert rank_of(listed, target) < rank_of(plain, target) - 5


def test_shared_tone_tags_lift_a_show(shows: list[ShowMeta]) -> None:
    metas = [m.with_(tone=("dark", "tense")) if "crime" in m.genres else m.with_(tone=("light", "funny"))
             for m in shows]
    twin = metas[of_genre(metas, "comedy", 1, skip=25)[0]]
    metas += [twin.with_(title="Light twin", tone=("light", "funny"), tmdb_id=None),
              twin.with_(title="Dark twin", tone=("dark", "tense"), tmdb_id=None)]
    cat = index(metas)
    person = person_for(cat, metas)
    person = replace(person, personas=[person.personas[1]])             # a crime-only viewer
    light, dark = len(metas) - 2, len(metas) - 1
    out = ranked(cat, person, pool_of(cat, [light, dark, *of_genre(metas, "comedy", 15, skip=30)]), k=17)
    assert rank_of(out, dark) < rank_of(out, light)


def test_lifecycle_labels_only_what_is_true_now() -> None:
    """'binge-ready' means a season finished lately — never a show that ended decades ago (Knight Rider, 1986)."""
    from engine.recommend.pipeline import lifecycle
    now = datetime(2026, 12, 1, tzinfo=UTC)
    ended_long_ago = ShowMeta(title="Knight Rider", status="Ended",
                              last_episode=EpisodeAir(season=4, episode=21, air_date="1986-04-04", type="finale"))
    assert lifecycle(ended_long_ago, now) == (0.0, None)
    fresh = ShowMeta(title="Slow Horses", status="Returning Series",
                     last_episode=EpisodeAir(season=5, episode=6, air_date="2026-10-29", type="finale"))
    value, words = lifecycle(fresh, now)
    assert value > 0 and words == "season 5 finished Oct 29: binge-ready"
    soon = ShowMeta(title="Severance", status="Returning Series",
                    next_episode=EpisodeAir(season=3, episode=1, air_date="2026-12-12"))
    assert lifecycle(soon, now)[1] == "season 3 starts Dec 12"
    assert lifecycle(soon, now - timedelta(days=60))[1] is None      # too far ahead to say yet


def test_genre_calibration_reorders_the_best_candidates_and_reaches_no_further(shows: list[ShowMeta]) -> None:
    """Steck's calibration over the whole pool put a show with eleven genres first (Gargoyles led the sample's
    list): alone it is closest to a broad genre mix. With ``calibration_reach`` it only re-orders the best
    reach x k candidates by relevance; every pick comes from there."""
    cat = index(shows)
    person = person_for(cat, shows)
    pool = pool_of(cat, [i for i in range(len(shows)) if i not in person.seen])
    live = shipped().profile("live")
    assert live.calibration > 0 and live.calibration_reach == 2.0
    k = 10
    sc = score(pool, person, lambda ids: cat.rows[list(ids)], EMPTY, live, now=NOW,  # type: ignore[arg-type]
               now_ts=NOW.timestamp(), catalogue=cat)
    from engine.recommend.selection import genre_distribution
    mix = genre_distribution([shows[m] for p in person.personas for m in p.members])
    rel = sc.relevance(live)
    best = set(np.argsort(-rel, kind="stable")[: int(live.calibration_reach * k)].tolist())
    picks = [p.index for p in select(sc, Mode.AUTO, k, live, genres=mix)]
    assert len(picks) == k and set(picks) <= best
    assert picks != [p.index for p in select(sc, Mode.AUTO, k, live.model_copy(update={"calibration": 0.0}))]
    broad = [p.index for p in select(sc, Mode.AUTO, k, live.model_copy(update={"calibration_reach": 0.0}),
                                     genres=mix)]
    assert set(broad) - best, "over the whole pool, calibration reaches far down (the failure this guards)"
    genres = {i: len(shows[sc.pool.ids[i]].genres) for i in set(broad) - best}
    assert max(genres.values()) >= 5, genres          # ... for shows of many genres
