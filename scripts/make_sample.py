"""Generate the bundled sample history (engine/sample/sample_history.json.gz), in Trakt export shape.

`python scripts/make_sample.py` — deterministic (seeded). The shows are real (the bundled catalogue); the person
is constructed: a weekly viewer of crime dramas, a weekend binger of science fiction, an occasional comedy
binge, Sunday-morning documentaries and a little anime, with two dropped shows, spread over 2019–2026.
"""

from __future__ import annotations

import gzip
import json
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.values.catalogue import aired_episodes, load_catalogue  # noqa: E402

TZ = ZoneInfo("Europe/London")
rng = random.Random(20261124)


def pick(entries, want, avoid, n, max_runtime=999, countries=None):
    pool = [
        e for e in entries
        if set(want) <= set(e["genres"]) and not (set(avoid) & set(e["genres"])) and e["runtime"] <= max_runtime
        and (countries is None or set(countries) & set(e["countries"]))
        and e["seasons"] <= 6
    ]
    pool.sort(key=lambda e: -e["imdb_votes"])
    top = pool[: n * 3]
    rng.shuffle(top)
    return top[:n]


def show_obj(e):
    return {"title": e["title"], "year": e["year"], "aired_episodes": aired_episodes(e),
            "ids": {"trakt": e["trakt_id"], "slug": e["slug"], "tmdb": e["tmdb_id"], "imdb": e["imdb_id"]}}


def main() -> None:
    cat = load_catalogue()
    used: set[int] = set()

    def fresh(shows):
        out = [s for s in shows if s["trakt_id"] not in used]
        used.update(s["trakt_id"] for s in out)
        return out

    crime = fresh(pick(cat, ["crime", "drama"], ["comedy", "animation", "documentary", "fantasy"], 8))
    scifi = fresh(pick(cat, ["science-fiction"], ["comedy", "animation", "documentary", "crime", "horror"], 6))
    comedy = fresh(pick(cat, ["comedy"], ["animation", "crime", "drama", "documentary"], 6, max_runtime=35))
    docs = fresh(pick(cat, ["documentary"], ["crime", "comedy", "drama", "action", "science-fiction"], 4))
    anime = fresh(pick(cat, ["animation"], ["comedy", "documentary", "family"], 3, countries=["JP"]))
    dropped = fresh(pick(cat, ["reality"], ["documentary", "animation"], 2))

    plays = []  # (local datetime, show, season, episode)
    start = datetime(2019, 2, 1, tzinfo=TZ)
    end = datetime(2026, 10, 31, tzinfo=TZ)
    span = (end - start).days

    def episodes(e, max_seasons):
        per = e["episodes_per_season"]
        for s in range(1, min(e["seasons"], max_seasons) + 1):
            for n in range(1, per + 1):
                yield s, n

    # weekly crime: one episode on Tuesday/Thursday evenings, shows spread over the years
    for i, e in enumerate(crime):
        t = start + timedelta(days=int(span * i / len(crime)))
        for s, n in list(episodes(e, 4))[: rng.randint(24, 40)]:
            while t.weekday() not in (1, 3):
                t += timedelta(days=1)
            plays.append((t.replace(hour=21, minute=rng.choice([0, 5, 15])), e, s, n))
            t += timedelta(days=rng.choice([5, 7, 7, 7, 9]))
    # sci-fi binges: a season over a weekend afternoon and evening
    for i, e in enumerate(scifi):
        t = start + timedelta(days=int(span * (i + 0.4) / len(scifi)))
        for s in range(1, min(e["seasons"], 3) + 1):
            while t.weekday() != 5:
                t += timedelta(days=1)
            slot = t.replace(hour=14, minute=0)
            for n in range(1, min(e["episodes_per_season"], 10) + 1):
                plays.append((slot, e, s, n))
                slot += timedelta(minutes=e["runtime"] + 5)
                if slot.hour >= 23:
                    slot = (slot + timedelta(days=1)).replace(hour=13, minute=0)
            t += timedelta(days=rng.randint(60, 200))
    # occasional comedy binges: 3-4 short episodes late in the evening
    for i, e in enumerate(comedy):
        t = start + timedelta(days=int(span * (i + 0.7) / len(comedy)))
        eps = list(episodes(e, 2))[: rng.randint(12, 20)]
        for k in range(0, len(eps), 4):
            slot = t.replace(hour=22, minute=30)
            for s, n in eps[k : k + 4]:
                plays.append((slot, e, s, n))
                slot += timedelta(minutes=e["runtime"] + 2)
            t += timedelta(days=rng.randint(1, 3))
    # Sunday-morning documentaries
    for i, e in enumerate(docs):
        t = start + timedelta(days=int(span * (i + 0.2) / len(docs)))
        for s, n in list(episodes(e, 1))[: rng.randint(6, 10)]:
            while t.weekday() != 6:
                t += timedelta(days=1)
            plays.append((t.replace(hour=10, minute=30), e, s, n))
            t += timedelta(days=7)
    # a little anime, late at night
    for i, e in enumerate(anime):
        t = start + timedelta(days=int(span * (0.5 + 0.2 * i)))
        for s, n in list(episodes(e, 1))[:10]:
            plays.append((t.replace(hour=23, minute=40), e, s, n))
            t += timedelta(days=rng.choice([1, 2, 3]))
    # two shows tried and dropped
    for i, e in enumerate(dropped):
        t = start + timedelta(days=int(span * (0.3 + 0.4 * i)))
        for n in (1, 2):
            plays.append((t.replace(hour=20, minute=0) + timedelta(days=n), e, 1, n))

    plays.sort(key=lambda p: p[0])
    history = []
    for hid, (t, e, s, n) in enumerate(plays, start=7_000_000_001):
        utc = t.astimezone(UTC)
        history.append({
            "id": hid, "watched_at": utc.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "action": "watch", "type": "episode",
            "episode": {"season": s, "number": n, "title": None, "ids": {}},
            "show": show_obj(e),
        })
    history.reverse()  # Trakt lists newest first
    ratings = []
    for e, r in [(crime[0], 9), (crime[1], 8), (scifi[0], 10), (scifi[1], 8), (comedy[0], 7), (dropped[0], 3)]:
        ratings.append({"rated_at": "2025-06-01T20:00:00.000Z", "rating": r, "type": "show", "show": show_obj(e)})
    wl_pool = [x for x in pick(cat, ["crime"], ["comedy", "animation"], 12) if x["trakt_id"] not in used][:3]
    wl_pool += [x for x in pick(cat, ["science-fiction"], ["comedy"], 12) if x["trakt_id"] not in used][:2]
    watchlist = [{"listed_at": "2026-09-01T18:00:00.000Z", "type": "show", "show": show_obj(e)} for e in wl_pool]
    hidden = [{"hidden_at": "2025-01-10T12:00:00.000Z", "type": "show", "show": show_obj(e)} for e in dropped]
    doc = {
        "about": "Multitudes sample history: real shows (see SOURCE.md), a constructed viewer.",
        "settings": {"user": {"username": "sample"}, "account": {"timezone": "Europe/London"}},
        "history": history, "ratings": ratings, "watchlist": watchlist, "hidden": hidden,
    }
    out = ROOT / "engine/sample/sample_history.json.gz"
    with gzip.open(out, "wt", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=0)
    print(f"{len(history)} plays over {len({p[1]['trakt_id'] for p in plays})} shows, "
          f"{plays[0][0].date()}..{plays[-1][0].date()} -> {out}")
    for name, group in [("crime", crime), ("scifi", scifi), ("comedy", comedy), ("docs", docs), ("anime", anime),
                        ("dropped", dropped)]:
        print(f"  {name}: " + ", ".join(e["title"] for e in group))


if __name__ == "__main__":
    main()
