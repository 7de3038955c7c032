"""TMDB v3 client: show details with appended keywords, external ids, content ratings and watch providers;
``/find`` for shows Trakt gives no TMDB id; TV search for imports. Responses are normalised into a compact
metadata dict and cached in SQLite with a TTL that is long for ended shows and short for airing ones.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import httpx

from ..clock import Clock, parse_ts
from ..config import TmdbSettings
from ..errors import ConfigError, MultitudesError
from ..http import HttpService
from ..store import Store

log = logging.getLogger(__name__)

APPEND = "keywords,external_ids,content_ratings,watch/providers"
ENDED = {"Ended", "Canceled"}

# TMDB TV genre names -> our canonical genre slugs (Trakt-style, finer than TMDB's TV list)
GENRE_SLUGS: dict[str, tuple[str, ...]] = {
    "Action & Adventure": ("action", "adventure"), "Animation": ("animation",), "Comedy": ("comedy",),
    "Crime": ("crime",), "Documentary": ("documentary",), "Drama": ("drama",), "Family": ("family",),
    "Kids": ("children",), "Mystery": ("mystery",), "News": ("news",), "Reality": ("reality",),
    "Sci-Fi & Fantasy": ("science-fiction", "fantasy"), "Soap": ("soap",), "Talk": ("talk-show",),
    "War & Politics": ("war",), "Western": ("western",),
}


def normalise_tv(raw: dict[str, Any], region: str = "US") -> dict[str, Any]:
    """Keep what the engine uses from a /tv/{id} payload (with appended sub-requests)."""
    genres = [g.get("name") for g in raw.get("genres") or [] if g.get("name")]
    slugs: list[str] = []
    for g in genres:
        for s in GENRE_SLUGS.get(g, (g.lower().replace(" ", "-"),)):
            if s not in slugs:
                slugs.append(s)
    kw = raw.get("keywords") or {}
    keywords = [k.get("name") for k in (kw.get("results") or kw.get("keywords") or []) if k.get("name")]
    ratings = {r.get("iso_3166_1"): r.get("rating") for r in (raw.get("content_ratings") or {}).get("results") or []}
    prov_region = ((raw.get("watch/providers") or {}).get("results") or {}).get(region) or {}
    providers = [p.get("provider_name") for p in prov_region.get("flatrate") or [] if p.get("provider_name")]
    ext = raw.get("external_ids") or {}
    runtime = raw.get("episode_run_time") or []
    last_ep = raw.get("last_episode_to_air") or None
    next_ep = raw.get("next_episode_to_air") or None

    def ep(e: dict[str, Any] | None) -> dict[str, Any] | None:
        if not e:
            return None
        return {"season": e.get("season_number"), "episode": e.get("episode_number"), "air_date": e.get("air_date"),
                "name": e.get("name"), "type": e.get("episode_type")}

    rt = runtime[0] if runtime else ((last_ep or {}).get("runtime") or None)
    return {
        "tmdb_id": raw.get("id"),
        "name": raw.get("name"),
        "original_name": raw.get("original_name"),
        "overview": raw.get("overview") or "",
        "genres": slugs,
        "tmdb_genres": genres,
        "keywords": keywords,
        "status": raw.get("status"),
        "in_production": bool(raw.get("in_production")),
        "type": raw.get("type"),
        "first_air_date": raw.get("first_air_date") or None,
        "last_air_date": raw.get("last_air_date") or None,
        "last_episode": ep(last_ep),
        "next_episode": ep(next_ep),
        "number_of_seasons": raw.get("number_of_seasons"),
        "number_of_episodes": raw.get("number_of_episodes"),
        "seasons": [
            {"season": s.get("season_number"), "episodes": s.get("episode_count"), "air_date": s.get("air_date")}
            for s in raw.get("seasons") or []
        ],
        "runtime": rt,
        "networks": [n.get("name") for n in raw.get("networks") or [] if n.get("name")],
        "origin_country": raw.get("origin_country") or [],
        "original_language": raw.get("original_language"),
        "languages": raw.get("languages") or [],
        "vote_average": raw.get("vote_average"),
        "vote_count": raw.get("vote_count"),
        "popularity": raw.get("popularity"),
        "poster_path": raw.get("poster_path"),
        "certification": ratings.get(region) or next(iter(ratings.values()), None),
        "providers": providers,
        "imdb_id": ext.get("imdb_id") or None,
        "tvdb_id": ext.get("tvdb_id") or None,
    }


class TmdbClient:
    def __init__(self, settings: TmdbSettings, api_key: str, http: HttpService, store: Store, clock: Clock) -> None:
        self.settings = settings
        self.http = http
        self.store = store
        self.clock = clock
        self._key = api_key
        self._bearer = api_key.startswith("eyJ")   # a v4 read access token (a JWT) rather than a v3 key

    def ttl_for(self, meta: dict[str, Any]) -> timedelta:
        if meta.get("status") in ENDED and not meta.get("next_episode"):
            return timedelta(days=self.settings.ttl_ended_days)
        if meta.get("next_episode") or meta.get("in_production") or meta.get("status") == "Returning Series":
            return timedelta(hours=self.settings.ttl_airing_hours)
        return timedelta(days=self.settings.ttl_default_days)

    async def _get(self, path: str, params: dict[str, Any] | None = None) -> Any | None:
        q: dict[str, Any] = dict(params or {})
        headers = {"Accept": "application/json"}
        if self._bearer:
            headers["Authorization"] = f"Bearer {self._key}"
        else:
            q["api_key"] = self._key
        resp: httpx.Response = await self.http.request("GET", f"{self.settings.base_url}{path}", params=q,
                                                       headers=headers)
        if resp.status_code == 404:
            return None
        if resp.status_code == 401:
            raise ConfigError("TMDB 401", user_message="TMDB refused the API key (401): check MULTITUDES_TMDB_API_KEY.")
        if resp.status_code >= 400:
            raise MultitudesError(f"TMDB answered {resp.status_code} on {path}",
                                  user_message=f"TMDB refused the request ({resp.status_code}).")
        return resp.json()

    async def tv(self, tmdb_id: int) -> dict[str, Any] | None:
        raw = await self._get(f"/tv/{tmdb_id}", {"append_to_response": APPEND, "language": self.settings.language})
        return normalise_tv(raw, self.settings.region) if raw else None

    async def find(self, *, imdb_id: str | None = None, tvdb_id: int | None = None) -> int | None:
        for source, value in (("imdb_id", imdb_id), ("tvdb_id", tvdb_id)):
            if not value:
                continue
            body = await self._cached(f"/find/{value}", {"external_source": source}, timedelta(days=30))
            results = (body or {}).get("tv_results") or []
            if results:
                return int(results[0]["id"])
        return None

    async def search_tv(self, query: str, year: int | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"query": query, "include_adult": "false", "language": self.settings.language}
        if year:
            params["first_air_date_year"] = year
        body = await self._cached("/search/tv", params, timedelta(days=7))
        return list((body or {}).get("results") or [])

    async def related(self, tmdb_id: int, kind: str = "recommendations") -> list[dict[str, Any]]:
        """``/tv/{id}/recommendations`` or ``/similar``, first page, cached for a day."""
        body = await self._cached(f"/tv/{tmdb_id}/{kind}", {"language": self.settings.language, "page": 1},
                                  timedelta(days=1))
        return list((body or {}).get("results") or [])

    async def discover(self, *, with_genres: list[int], without_genres: list[int] | None = None,
                       min_votes: int = 100, page: int = 1) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"with_genres": "|".join(str(g) for g in with_genres), "sort_by": "popularity.desc",
                                  "vote_count.gte": min_votes, "page": page, "language": self.settings.language}
        if without_genres:
            params["without_genres"] = ",".join(str(g) for g in without_genres)
        body = await self._cached("/discover/tv", params, timedelta(hours=12))
        return list((body or {}).get("results") or [])

    async def _cached(self, path: str, params: dict[str, Any], ttl: timedelta) -> Any | None:
        key = "tmdb:" + path + "?" + "&".join(f"{k}={params[k]}" for k in sorted(params))
        now = self.clock.now()
        hit = await self.store.cache_get(key, now)
        if hit is not None:
            return hit
        body = await self._get(path, params)
        await self.store.cache_put(key, body, now, now + ttl)
        return body

    def expiry(self, meta: dict[str, Any], now: datetime) -> datetime:
        return now + self.ttl_for(meta)


def air_date(meta: dict[str, Any], which: str = "next_episode") -> datetime | None:
    e = meta.get(which) or {}
    return parse_ts(e.get("air_date")) if e else None
