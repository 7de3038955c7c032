"""The bundled show catalogue (real shows; see engine/sample/SOURCE.md) as an offline metadata source.

It gives the demo and the tests TMDB-shaped metadata without a network: the same ``ShowMeta`` that
``sources.tmdb.normalise_tv`` makes of a live ``/tv/{id}`` payload. Entries are parsed once, when the catalogue
is built.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from engine.values.meta import SearchHit, SeasonInfo, ShowMeta
from engine.values.models import ShowIds, ShowRef
from engine.values.vocabulary import norm_title

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


def catalogue_meta(entry: dict[str, Any]) -> ShowMeta:
    """TMDB-shaped metadata for a catalogue entry."""
    tmdb_genres: list[str] = []
    for g in entry["genres"]:
        name = TMDB_GENRE.get(g, (None, 0))[0]
        if name and name not in tmdb_genres:
            tmdb_genres.append(name)
    seasons, per = int(entry["seasons"]), int(entry["episodes_per_season"])
    status = STATUS.get(entry["status"], "Ended")
    genres = tuple(entry["genres"])
    return ShowMeta(
        tmdb_id=entry["tmdb_id"], title=entry["title"], original_name=entry["title"], year=entry["year"],
        overview=entry["overview"], genres=genres, tmdb_genres=tuple(tmdb_genres), keywords=tuple(entry["keywords"]),
        status=status, in_production=status == "Returning Series",
        type="Documentary" if "documentary" in genres else ("Reality" if "reality" in genres else "Scripted"),
        first_air_date=f"{entry['year']}-01-01", number_of_seasons=seasons, number_of_episodes=seasons * per,
        seasons=tuple(SeasonInfo(n, per, None) for n in range(1, seasons + 1)), runtime=entry["runtime"],
        origin_country=tuple(entry["countries"]), vote_average=entry["tmdb_rating"], vote_count=entry["imdb_votes"],
        popularity=entry["tmdb_popularity"], certification=entry["certification"],
        providers=tuple(entry["providers"]), providers_region="US", imdb_id=entry["imdb_id"],
        imdb_rating=entry["imdb_rating"],
        imdb_votes=entry["imdb_votes"], synthesised=tuple(entry.get("synthesised", ())))


@dataclass(frozen=True, slots=True)
class CatalogueShow:
    ref: ShowRef
    meta: ShowMeta
    entry: dict[str, Any]

    @property
    def ids(self) -> ShowIds:
        return self.ref.ids


class Catalogue:
    """Index over the bundled catalogue, built once."""

    def __init__(self, entries: tuple[dict[str, Any], ...] | None = None) -> None:
        self.entries = entries if entries is not None else load_catalogue()
        self.shows = tuple(CatalogueShow(show_ref(e), catalogue_meta(e), e) for e in self.entries)
        self.by_trakt = {s.ids.trakt: s for s in self.shows}
        self.by_tmdb = {s.ids.tmdb: s for s in self.shows}
        self.by_imdb = {s.ids.imdb: s for s in self.shows}
        self.by_title: dict[str, list[CatalogueShow]] = {}
        for s in self.shows:
            self.by_title.setdefault(norm_title(s.ref.title), []).append(s)

    def find(self, ids: ShowIds) -> CatalogueShow | None:
        return (
            (self.by_trakt.get(ids.trakt) if ids.trakt else None)
            or (self.by_tmdb.get(ids.tmdb) if ids.tmdb else None)
            or (self.by_imdb.get(ids.imdb) if ids.imdb else None)
        )

    def search(self, title: str) -> list[SearchHit]:
        """TMDB-search-shaped results for an exact normalised title."""
        return [SearchHit(s.ids.tmdb or 0, s.ref.title, s.ref.title, f"{s.ref.year}-01-01" if s.ref.year else None,
                          trakt_id=s.ids.trakt, imdb_id=s.ids.imdb)
                for s in self.by_title.get(norm_title(title), []) if s.ids.tmdb]

    def titles_like(self, text: str, limit: int = 25) -> list[str]:
        """Titles containing ``text`` (case-insensitive), for autocomplete."""
        want = text.lower()
        return [s.ref.title for s in self.shows if want in s.ref.title.lower()][:limit]
