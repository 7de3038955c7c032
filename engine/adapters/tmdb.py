"""TMDB v3 client: show details with appended keywords, external ids, content ratings and watch providers;
``/find`` for shows Trakt gives no TMDB id; TV search for imports; related lists and discover for candidates.
Payloads become ``ShowMeta`` here, once; look-ups are cached in the store with a TTL (long for ended shows, short
for airing ones).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx

from engine.plumbing.caching import CachedLookups
from engine.plumbing.clock import Clock
from engine.plumbing.config import TmdbSettings
from engine.plumbing.http import HttpService
from engine.ports.tmdb import GENRE_BY_ID, GENRE_SLUGS
from engine.store import Store
from engine.values.errors import ConfigError, MultitudesError
from engine.values.i18n import _
from engine.values.meta import EpisodeAir, SearchHit, SeasonInfo, ShowMeta

log = logging.getLogger(__name__)

APPEND = "keywords,external_ids,content_ratings,watch/providers"



def _slugs(names: list[str]) -> tuple[str, ...]:
    out: list[str] = []
    for g in names:
        for s in GENRE_SLUGS.get(g, (g.lower().replace(" ", "-"),)):
            if s not in out:
                out.append(s)
    return tuple(out)


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _int(v: Any) -> int | None:
    return int(v) if isinstance(v, int) and not isinstance(v, bool) else None


def _episode(e: Any) -> EpisodeAir | None:
    if not isinstance(e, dict) or not e:
        return None
    return EpisodeAir(season=_int(e.get("season_number")), episode=_int(e.get("episode_number")),
                      air_date=_str(e.get("air_date")), name=_str(e.get("name")), type=_str(e.get("episode_type")))


def normalise_tv(raw: dict[str, Any], region: str = "US") -> ShowMeta:
    """What the engine keeps of a /tv/{id} payload (with appended sub-requests)."""
    genres = [str(g.get("name")) for g in raw.get("genres") or [] if isinstance(g, dict) and g.get("name")]
    kw = raw.get("keywords") or {}
    keywords = tuple(str(k.get("name")) for k in (kw.get("results") or kw.get("keywords") or [])
                     if isinstance(k, dict) and k.get("name"))
    ratings = {r.get("iso_3166_1"): r.get("rating") for r in (raw.get("content_ratings") or {}).get("results") or []
               if isinstance(r, dict)}
    by_country = (raw.get("watch/providers") or {}).get("results") or {}

    def flatrate(country: str) -> tuple[str, ...]:
        got = by_country.get(country) or {}
        return tuple(str(p.get("provider_name")) for p in got.get("flatrate") or []
                     if isinstance(p, dict) and p.get("provider_name"))

    def offers(country: str) -> tuple[str, ...]:
        got = by_country.get(country) or {}
        names = [str(p.get("provider_name")) for kind in ("rent", "buy") for p in got.get(kind) or []
                 if isinstance(p, dict) and p.get("provider_name")]
        return tuple(dict.fromkeys(names))

    providers = flatrate(region)
    rent_buy = tuple(sorted((str(c), offers(c)) for c in by_country if isinstance(c, str) and offers(c)))
    regional = tuple(sorted((str(c), flatrate(c)) for c in by_country
                            if isinstance(c, str) and c != region and flatrate(c)))
    ext = raw.get("external_ids") or {}
    runtime = raw.get("episode_run_time") or []
    last_ep = raw.get("last_episode_to_air") or None
    rt = runtime[0] if runtime else ((last_ep or {}).get("runtime") or None)
    first = _str(raw.get("first_air_date"))
    return ShowMeta(
        tmdb_id=_int(raw.get("id")), title=_str(raw.get("name")) or "", original_name=_str(raw.get("original_name")),
        year=int(first[:4]) if first and first[:4].isdigit() else None, overview=raw.get("overview") or "",
        genres=_slugs(genres), tmdb_genres=tuple(genres), keywords=keywords, status=_str(raw.get("status")),
        in_production=bool(raw.get("in_production")), type=_str(raw.get("type")), first_air_date=first,
        last_air_date=_str(raw.get("last_air_date")), last_episode=_episode(last_ep),
        next_episode=_episode(raw.get("next_episode_to_air")),
        number_of_seasons=_int(raw.get("number_of_seasons")), number_of_episodes=_int(raw.get("number_of_episodes")),
        seasons=tuple(SeasonInfo(_int(s.get("season_number")), _int(s.get("episode_count")), _str(s.get("air_date")))
                      for s in raw.get("seasons") or [] if isinstance(s, dict)),
        runtime=_num(rt), networks=tuple(str(n.get("name")) for n in raw.get("networks") or []
                                         if isinstance(n, dict) and n.get("name")),
        origin_country=tuple(str(c) for c in raw.get("origin_country") or []),
        original_language=_str(raw.get("original_language")),
        languages=tuple(str(c) for c in raw.get("languages") or []),
        vote_average=_num(raw.get("vote_average")), vote_count=_num(raw.get("vote_count")),
        popularity=_num(raw.get("popularity")), poster_path=_str(raw.get("poster_path")),
        certification=ratings.get(region) or next(iter(ratings.values()), None), providers=providers,
        providers_region=region, regional_providers=regional, rent_buy=rent_buy,
        imdb_id=_str(ext.get("imdb_id")), tvdb_id=_int(ext.get("tvdb_id")))


def summary_meta(r: dict[str, Any]) -> ShowMeta:
    """A show as TMDB lists summarise it (search, recommendations, similar, discover): partial metadata."""
    genres = _slugs([GENRE_BY_ID[g] for g in r.get("genre_ids") or [] if g in GENRE_BY_ID])
    first = _str(r.get("first_air_date"))
    return ShowMeta(
        tmdb_id=_int(r.get("id")), title=_str(r.get("name")) or "", original_name=_str(r.get("original_name")),
        year=int(first[:4]) if first and first[:4].isdigit() else None, overview=r.get("overview") or "",
        genres=genres, first_air_date=first, origin_country=tuple(str(c) for c in r.get("origin_country") or []),
        original_language=_str(r.get("original_language")), popularity=_num(r.get("popularity")),
        vote_average=_num(r.get("vote_average")), vote_count=_num(r.get("vote_count")),
        poster_path=_str(r.get("poster_path")), partial=True)


class TmdbClient:
    def __init__(self, settings: TmdbSettings, api_key: str, http: HttpService, store: Store, clock: Clock) -> None:
        self.settings = settings
        self.http = http
        self.clock = clock
        self._key = api_key
        self._bearer = api_key.startswith("eyJ")   # a v4 read access token (a JWT) rather than a v3 key
        self.lookups = CachedLookups(store, clock)  # the store's cache, and this process's decoded copies

    def ttl_for(self, meta: ShowMeta) -> timedelta:
        if meta.ended and not meta.next_episode:
            return timedelta(days=self.settings.ttl_ended_days)
        if meta.next_episode or meta.in_production or meta.status == "Returning Series":
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
            raise ConfigError("TMDB 401", user_message=_(
                "TMDB refused the API key (401): check MULTITUDES_TMDB_API_KEY."))
        if resp.status_code >= 400:
            raise MultitudesError(f"TMDB answered {resp.status_code} on {path}",
                                  user_message=_("TMDB refused the request ({status_code}).").format(
                                      status_code=resp.status_code))
        return resp.json()

    async def tv(self, tmdb_id: int) -> ShowMeta | None:
        raw = await self._get(f"/tv/{int(tmdb_id)}", {"append_to_response": APPEND,
                                                      "language": self.settings.language})
        return normalise_tv(raw, self.settings.region) if isinstance(raw, dict) and raw else None

    async def find(self, *, imdb_id: str | None = None, tvdb_id: int | None = None) -> int | None:
        for source, value in (("imdb_id", imdb_id), ("tvdb_id", tvdb_id)):
            if not value:
                continue
            # ids from imports are not ours: escape them as one path segment
            body = await self._cached(f"/find/{quote(str(value), safe='')}", {"external_source": source},
                                      timedelta(days=30))
            results = (body or {}).get("tv_results") or []
            if results and isinstance(results[0], dict) and _int(results[0].get("id")):
                return int(results[0]["id"])
        return None

    async def search_tv(self, query: str, year: int | None = None) -> list[SearchHit]:
        params: dict[str, Any] = {"query": query, "include_adult": "false", "language": self.settings.language}
        if year:
            params["first_air_date_year"] = year
        body = await self._cached("/search/tv", params, timedelta(days=7))
        return [SearchHit(int(r["id"]), str(r.get("name") or ""), _str(r.get("original_name")),
                          _str(r.get("first_air_date")))
                for r in (body or {}).get("results") or [] if isinstance(r, dict) and _int(r.get("id"))]

    async def related(self, tmdb_id: int, kind: str = "recommendations") -> list[ShowMeta]:
        """``/tv/{id}/recommendations`` or ``/similar``, first page, cached for a day."""
        body = await self._cached(f"/tv/{int(tmdb_id)}/{kind}", {"language": self.settings.language, "page": 1},
                                  timedelta(days=1))
        return [summary_meta(r) for r in (body or {}).get("results") or [] if isinstance(r, dict) and
                _int(r.get("id"))]

    async def discover(self, *, with_genres: list[int], without_genres: list[int] | None = None,
                       min_votes: int = 100, page: int = 1) -> list[ShowMeta]:
        params: dict[str, Any] = {"with_genres": "|".join(str(g) for g in with_genres), "sort_by": "popularity.desc",
                                  "vote_count.gte": min_votes, "page": page, "language": self.settings.language}
        if without_genres:
            params["without_genres"] = ",".join(str(g) for g in without_genres)
        body = await self._cached("/discover/tv", params, timedelta(hours=12))
        return [summary_meta(r) for r in (body or {}).get("results") or [] if isinstance(r, dict) and
                _int(r.get("id"))]

    async def providers(self, region: str) -> list[str]:
        """The streaming services TMDB knows for TV in ``region`` (``/watch/providers/tv``), by TMDB's display
        priority there; cached for a day."""
        body = await self._cached("/watch/providers/tv", {"watch_region": region.upper()[:2]}, timedelta(days=1))
        rows = [r for r in (body or {}).get("results") or [] if isinstance(r, dict) and r.get("provider_name")]
        rows.sort(key=lambda r: ((r.get("display_priorities") or {}).get(region.upper(), 999), r["provider_name"]))
        return [str(r["provider_name"]) for r in rows]

    async def translations(self, tmdb_id: int) -> dict[str, tuple[str, str]]:
        """A show's name and overview in every language TMDB holds (``/tv/{id}/translations``), by BCP 47 tag
        (``pt-BR``) and by language alone (``pt``: the first listed, or the language's own country's); empty texts
        are left out. Cached for a month: one request serves every language."""
        body = await self._cached(f"/tv/{int(tmdb_id)}/translations", {}, timedelta(days=30))
        out: dict[str, tuple[str, str]] = {}
        for t in (body or {}).get("translations") or []:
            data = t.get("data") if isinstance(t, dict) else None
            lang = _str(t.get("iso_639_1")) if isinstance(data, dict) else None
            if not isinstance(data, dict) or not lang:
                continue
            region = _str(t.get("iso_3166_1"))
            entry = (str(data.get("name") or "")[:300], str(data.get("overview") or "")[:2000])
            if region:
                out[f"{lang}-{region}"] = entry
            if lang not in out or (region or "").lower() == lang:
                out[lang] = entry
        return out

    async def _cached(self, path: str, params: dict[str, Any], ttl: timedelta) -> Any | None:
        key = "tmdb:" + path + "?" + "&".join(f"{k}={params[k]}" for k in sorted(params))

        async def fetch() -> Any:
            body = await self._get(path, params)
            # 404: TMDB does not know it — remembered as an empty answer for the lifetime, so it is not asked again
            # on every request (outages and limits raise: not cached)
            return {} if body is None else body

        return await self.lookups.get_or_fetch(key, ttl, fetch)
