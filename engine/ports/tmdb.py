"""The metadata ports: TMDB (a show's details, ids found from IMDb or TVDB, title search) and OMDb (critic scores),
as enrichment needs them; and TMDB's genre ids, which its discover lists are asked by."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from engine.values.meta import SearchHit, ShowMeta

# TMDB TV genre names -> our canonical genre slugs (Trakt-style, finer than TMDB's TV list)
GENRE_SLUGS: dict[str, tuple[str, ...]] = {
    "Action & Adventure": ("action", "adventure"), "Animation": ("animation",), "Comedy": ("comedy",),
    "Crime": ("crime",), "Documentary": ("documentary",), "Drama": ("drama",), "Family": ("family",),
    "Kids": ("children",), "Mystery": ("mystery",), "News": ("news",), "Reality": ("reality",),
    "Sci-Fi & Fantasy": ("science-fiction", "fantasy"), "Soap": ("soap",), "Talk": ("talk-show",),
    "War & Politics": ("war",), "Western": ("western",),
}
GENRE_BY_ID = {10759: "Action & Adventure", 16: "Animation", 35: "Comedy", 80: "Crime", 99: "Documentary",
               18: "Drama", 10751: "Family", 10762: "Kids", 9648: "Mystery", 10763: "News", 10764: "Reality",
               10765: "Sci-Fi & Fantasy", 10766: "Soap", 10767: "Talk", 10768: "War & Politics", 37: "Western"}
SLUG_TO_TMDB = {slug: gid for gid, name in GENRE_BY_ID.items() for slug in GENRE_SLUGS.get(name, ())}


class TmdbPort(Protocol):
    async def tv(self, tmdb_id: int) -> ShowMeta | None: ...
    async def find(self, *, imdb_id: str | None = None, tvdb_id: int | None = None) -> int | None: ...
    async def search_tv(self, query: str, year: int | None = None) -> list[SearchHit]: ...

    def ttl_for(self, meta: ShowMeta) -> timedelta:
        """How long these details stay fresh (an airing show's sooner than an ended one's)."""
        ...


class OmdbPort(Protocol):
    async def scores(self, imdb_id: str) -> dict[str, float | None] | None:
        """Critic scores by source (IMDb, Rotten Tomatoes, Metacritic), None when OMDb knows nothing."""
        ...
