"""Shows for the fakes, from the bundled real catalogue (engine/sample/catalogue.json.gz)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.values.catalogue import aired_episodes, load_catalogue


def catalogue() -> tuple[dict[str, Any], ...]:
    return load_catalogue()


def trakt_show(e: dict[str, Any]) -> dict[str, Any]:
    """A show object as Trakt embeds it in 2026 payloads (min extended, with aired_episodes)."""
    return {"title": e["title"], "year": e["year"], "aired_episodes": aired_episodes(e),
            "ids": {"trakt": e["trakt_id"], "slug": e["slug"], "tvdb": None, "imdb": e["imdb_id"],
                    "tmdb": e["tmdb_id"]}}


def history_rows(n_plays: int, n_shows: int, *, years: float = 6.0, seed: int = 7,
                 end: datetime | None = None, first_id: int = 1) -> list[dict[str, Any]]:
    """A heavy, realistic history: ``n_plays`` episode plays over ``n_shows`` real shows, spread over ``years``.

    Each show is watched in order from S01E01 (rewatching when a show runs out), in sittings of 1-6 episodes.
    Rows come back in Trakt's order: newest first.
    """
    rng = random.Random(seed)
    shows = list(catalogue())
    rng.shuffle(shows)
    shows = shows[:n_shows]
    if len(shows) < n_shows:
        raise ValueError(f"the catalogue has only {len(shows)} shows")
    end = end or datetime(2026, 11, 1, tzinfo=UTC)
    start = end - timedelta(days=365 * years)
    span = (end - start).total_seconds()
    # every show gets at least one play; the rest follow a heavy-tailed preference
    weights = [1.0 / (i + 1) ** 0.8 for i in range(n_shows)]
    counts = [1] * n_shows
    for i in rng.choices(range(n_shows), weights=weights, k=n_plays - n_shows):
        counts[i] += 1
    plays: list[tuple[datetime, dict[str, Any], int, int]] = []
    for e, c in zip(shows, counts, strict=True):
        per = e["episodes_per_season"]
        total = aired_episodes(e)
        t = start + timedelta(seconds=rng.uniform(0, span * 0.9))
        k = 0
        while k < c:
            sitting = min(c - k, rng.randint(1, 6))
            for j in range(sitting):
                idx = (k + j) % total
                plays.append((t + timedelta(minutes=50 * j), e, idx // per + 1, idx % per + 1))
            k += sitting
            t += timedelta(days=rng.choice([1, 2, 7, 7, 14]), minutes=rng.randint(0, 600))
            if t >= end:
                t = start + timedelta(seconds=rng.uniform(0, span))
    plays.sort(key=lambda p: p[0])
    rows = []
    for hid, (t, e, s, n) in enumerate(plays, start=first_id):
        rows.append(play_row(hid, t, e, s, n))
    rows.reverse()
    return rows


def play_row(hid: int, t: datetime, e: dict[str, Any], season: int, number: int) -> dict[str, Any]:
    return {
        "id": hid, "watched_at": t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"), "action": "watch",
        "type": "episode",
        "episode": {"season": season, "number": number, "title": f"Episode {number}",
                    "ids": {"trakt": e["trakt_id"] * 1000 + season * 100 + number, "tvdb": None, "imdb": None,
                            "tmdb": None}},
        "show": trakt_show(e),
    }


def export_of(plays: list[Any]) -> bytes:
    """A Trakt export (history rows) holding these ``engine.values.models.Play`` values: imported through the façade,
    it stores them and fetches their metadata, as a sync would."""
    import json
    rows = []
    for n, p in enumerate(plays, start=1):
        ids = p.show.ids
        rows.append({
            "id": p.history_id or 50_000_000 + n, "watched_at": p.watched_at.astimezone(UTC).strftime(
                "%Y-%m-%dT%H:%M:%S.000Z"), "action": "watch", "type": "episode",
            "episode": {"season": p.season, "number": p.episode, "title": p.episode_title},
            "show": {"title": p.show.title, "year": p.show.year, "aired_episodes": p.show.aired_episodes,
                     "ids": {"trakt": ids.trakt, "tmdb": ids.tmdb, "imdb": ids.imdb, "slug": ids.slug}}})
    return json.dumps({"history": rows}).encode()
