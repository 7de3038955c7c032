"""The bundled show catalogue (real shows; see engine/sample/SOURCE.md) as an offline metadata source.

It gives the demo and the tests TMDB-shaped metadata without a network: the same normalised dict that
``sources.tmdb.normalise_tv`` produces from a live ``/tv/{id}`` payload.
"""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from functools import lru_cache
from importlib import resources
from typing import Any

from .models import ShowIds, ShowRef

STATUS = {"ended": "Ended", "canceled": "Canceled", "returning series": "Returning Series"}
TMDB_GENRE = {  # our slugs -> TMDB TV genre (name, id)
    "action": ("Action & Adventure", 10759), "adventure": ("Action & Adventure", 10759),
    "animation": ("Animation", 16), "comedy": ("Comedy", 35), "crime": ("Crime", 80),
    "documentary": ("Documentary", 99), "drama": ("Drama", 18), "family": ("Family", 10751),
    "children": ("Kids", 10762), "mystery": ("Mystery", 9648), "thriller": ("Mystery", 9648),
    "horror": ("Mystery", 9648), "reality": ("Reality", 10764), "science-fiction": ("Sci-Fi & Fantasy", 10765),
    "fantasy": ("Sci-Fi & Fantasy", 10765), "war": ("War & Politics", 10768), "history": ("War & Politics", 10768),
    "western": ("Western", 37),
}


def norm_title(title: str) -> str:
    t = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    t = t.replace("&", " and ")
    return re.sub(r"[^a-z0-9]+", " ", t).strip()


@lru_cache(maxsize=1)
def load_catalogue() -> tuple[dict[str, Any], ...]:
    raw = resources.files("engine.sample").joinpath("catalogue.json.gz").read_bytes()
    return tuple(json.loads(gzip.decompress(raw)))


def show_ref(entry: dict[str, Any]) -> ShowRef:
    return ShowRef(
        ids=ShowIds(trakt=entry["trakt_id"], tmdb=entry["tmdb_id"], imdb=entry["imdb_id"], slug=entry["slug"]),
        title=entry["title"], year=entry["year"], aired_episodes=aired_episodes(entry),
    )


def aired_episodes(entry: dict[str, Any]) -> int:
    return int(entry["seasons"]) * int(entry["episodes_per_season"])


def catalogue_meta(entry: dict[str, Any]) -> dict[str, Any]:
    """TMDB-shaped normalised metadata for a catalogue entry."""
    tmdb_genres: list[str] = []
    for g in entry["genres"]:
        name = TMDB_GENRE.get(g, (None, 0))[0]
        if name and name not in tmdb_genres:
            tmdb_genres.append(name)
    seasons, per = int(entry["seasons"]), int(entry["episodes_per_season"])
    status = STATUS.get(entry["status"], "Ended")
    return {
        "tmdb_id": entry["tmdb_id"], "name": entry["title"], "original_name": entry["title"],
        "overview": entry["overview"], "genres": list(entry["genres"]), "tmdb_genres": tmdb_genres,
        "keywords": list(entry["keywords"]), "status": status, "in_production": status == "Returning Series",
        "type": "Documentary" if "documentary" in entry["genres"] else (
            "Reality" if "reality" in entry["genres"] else "Scripted"),
        "first_air_date": f"{entry['year']}-01-01", "last_air_date": None, "last_episode": None,
        "next_episode": None, "number_of_seasons": seasons, "number_of_episodes": seasons * per,
        "seasons": [{"season": n, "episodes": per, "air_date": None} for n in range(1, seasons + 1)],
        "runtime": entry["runtime"], "networks": [], "origin_country": list(entry["countries"]),
        "original_language": None, "languages": [], "vote_average": entry["tmdb_rating"],
        "vote_count": entry["imdb_votes"], "popularity": entry["tmdb_popularity"], "poster_path": None,
        "certification": entry["certification"], "providers": list(entry["providers"]),
        "imdb_id": entry["imdb_id"], "tvdb_id": None, "imdb_rating": entry["imdb_rating"],
        "imdb_votes": entry["imdb_votes"],
    }


class Catalogue:
    """Index over the bundled catalogue."""

    def __init__(self, entries: tuple[dict[str, Any], ...] | None = None) -> None:
        self.entries = entries if entries is not None else load_catalogue()
        self.by_trakt = {e["trakt_id"]: e for e in self.entries}
        self.by_tmdb = {e["tmdb_id"]: e for e in self.entries}
        self.by_imdb = {e["imdb_id"]: e for e in self.entries}
        self.by_title: dict[str, list[dict[str, Any]]] = {}
        for e in self.entries:
            self.by_title.setdefault(norm_title(e["title"]), []).append(e)

    def find(self, ids: ShowIds) -> dict[str, Any] | None:
        return (
            (self.by_trakt.get(ids.trakt) if ids.trakt else None)
            or (self.by_tmdb.get(ids.tmdb) if ids.tmdb else None)
            or (self.by_imdb.get(ids.imdb) if ids.imdb else None)
        )

    def search(self, title: str) -> list[dict[str, Any]]:
        """TMDB-search-shaped results for an exact normalised title."""
        return [
            {"id": e["tmdb_id"], "name": e["title"], "original_name": e["title"],
             "first_air_date": f"{e['year']}-01-01", "_entry": e}
            for e in self.by_title.get(norm_title(title), [])
        ]
