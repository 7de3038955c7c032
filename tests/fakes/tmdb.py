"""A loopback TMDB v3 API built from the bundled real catalogue, plus recorded real payloads.

Implements ``/tv/{id}`` (``append_to_response`` with keywords under ``results``, external_ids, content_ratings,
watch/providers), ``/find/{external_id}``, ``/search/tv``; v3 ``api_key`` and v4 Bearer auth (401 with
``status_code`` 7 otherwise); 404 with ``status_code`` 34; optional 429 (``status_code`` 25) with Retry-After.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from engine.values.catalogue import TMDB_GENRE, catalogue_meta
from engine.values.vocabulary import norm_title

from .base import FakeServer, json_response
from .catalogue import catalogue
from .lifecycle import Lifecycle

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "fixtures"


def tv_payload(e: dict[str, Any], today: date, lifecycle: Lifecycle | None = None) -> dict[str, Any]:
    """A /tv/{id} body in TMDB's shape for a catalogue entry (lifecycle synthesised, see SOURCE.md)."""
    m = catalogue_meta(e)
    genres, seen = [], set()
    for g in e["genres"]:
        name, gid = TMDB_GENRE.get(g, (None, 0))
        if name and gid not in seen:
            seen.add(gid)
            genres.append({"id": gid, "name": name})
    seasons = m.number_of_seasons or 1
    per = (m.number_of_episodes or 0) // max(1, seasons)
    lc = lifecycle or Lifecycle(today)
    status = lc.status.get(e["tmdb_id"], m.status)
    last_air = date(min(today.year, e["year"] + seasons), 6, 1)
    last_ep = {"id": e["tmdb_id"] * 10 - 1, "name": f"Episode {per}", "air_date": last_air.isoformat(),
               "episode_number": per, "season_number": seasons,
               "episode_type": "finale" if status != "Returning Series" else "standard",
               "runtime": e["runtime"], "show_id": e["tmdb_id"]}
    pinned = lc.last_episode(e, seasons)
    if pinned is not None:
        last_air = pinned.at.date()
        seasons = max(seasons, pinned.season)
        last_ep = dict(last_ep, name=f"Episode {pinned.episode}", air_date=last_air.isoformat(),
                       episode_number=pinned.episode, season_number=pinned.season, episode_type="finale")
    next_ep = None
    a = lc.next_episode(e, seasons)          # a third of running shows have a date set, unless a test pins it
    if a is not None:
        next_ep = {"id": e["tmdb_id"] * 10, "name": f"Episode {a.episode}", "air_date": a.at.date().isoformat(),
                   "episode_number": a.episode, "season_number": a.season, "episode_type": "standard",
                   "runtime": None, "show_id": e["tmdb_id"]}
    return {
        "id": e["tmdb_id"], "name": e["title"], "original_name": e["title"], "overview": e["overview"],
        "genres": genres, "status": status, "in_production": status == "Returning Series", "type": m.type,
        "first_air_date": f"{e['year']}-01-15", "last_air_date": last_air.isoformat(),
        "last_episode_to_air": last_ep,
        "next_episode_to_air": next_ep,
        "number_of_seasons": seasons, "number_of_episodes": m.number_of_episodes,
        "seasons": [{"season_number": n, "episode_count": per, "air_date": f"{e['year'] + n - 1}-01-15",
                     "name": f"Season {n}", "id": e["tmdb_id"] * 100 + n} for n in range(1, seasons + 1)],
        "episode_run_time": [e["runtime"]], "networks": [{"id": 1, "name": p} for p in e["providers"][:1]],
        "origin_country": e["countries"], "original_language": "en", "languages": ["en"],
        "vote_average": e["tmdb_rating"] or 0, "vote_count": max(1, e["imdb_votes"] // 50),
        "popularity": e["tmdb_popularity"], "poster_path": f"/p{e['tmdb_id']}.jpg",
        "_keywords": [{"id": 1000 + i, "name": k} for i, k in enumerate(e["keywords"] + [g for g in e["genres"]
                                                                                          if g in ("thriller", "horror",
                                                                                                   "romance")])],
        "_external_ids": {"imdb_id": e["imdb_id"], "tvdb_id": None},
        "_content_ratings": {"results": [{"iso_3166_1": "US", "rating": e["certification"]}]
                             if e["certification"] else []},
        "_providers": {"results": {  # per country, as TMDB answers (GB: the same shows on British services)
            "US": {"link": "https://www.themoviedb.org/", "flatrate": [
                {"provider_id": i + 1, "provider_name": p} for i, p in enumerate(e["providers"])]},
            "GB": {"link": "https://www.themoviedb.org/", "flatrate": [
                {"provider_id": 100 + i, "provider_name": GB.get(p, p)} for i, p in enumerate(e["providers"])]}}},
    }


GB = {"Hulu": "Disney Plus", "HBO Max": "Sky Go", "Peacock": "NOW", "Paramount+": "Paramount Plus"}


class FakeTmdb(FakeServer):
    name = "tmdb"

    def __init__(self, *, api_key: str = "test-tmdb-key", today: date | None = None,
                 hide_ids: set[int] | None = None, lifecycle: Lifecycle | None = None) -> None:
        super().__init__()
        self.api_key = api_key
        self.today = today or (lifecycle.today if lifecycle else datetime.now(UTC).date())
        self.lifecycle = lifecycle or Lifecycle(self.today)
        self.shows = {e["tmdb_id"]: e for e in catalogue() if not (hide_ids and e["tmdb_id"] in hide_ids)}
        self.by_imdb = {e["imdb_id"]: e for e in self.shows.values()}
        self.recorded: dict[int, dict[str, Any]] = {}
        self.translated: dict[int, list[dict[str, Any]]] = {}      # tv id -> its translations beyond English
        r = self.app.router
        r.add_get("/3/tv/{id:\\d+}", self.tv)
        r.add_get("/3/tv/{id:\\d+}/translations", self.translations)
        r.add_get("/3/find/{ext}", self.find)
        r.add_get("/3/search/tv", self.search)
        r.add_get("/3/tv/{id:\\d+}/recommendations", self.recommendations)
        r.add_get("/3/tv/{id:\\d+}/similar", self.similar)
        r.add_get("/3/discover/tv", self.discover)
        r.add_get("/3/watch/providers/tv", self.watch_providers)

    def add_recorded(self, path: Path) -> int:
        """Serve a real recorded /tv payload (with its own appended keys) for its id."""
        body = json.loads(path.read_text(encoding="utf-8"))
        self.recorded[int(body["id"])] = body
        return int(body["id"])

    @staticmethod
    def error(status: int, code: int, message: str) -> web.Response:
        return json_response({"success": False, "status_code": code, "status_message": message}, status=status)

    async def pre(self, request: web.Request) -> web.StreamResponse | None:
        auth = request.headers.get("Authorization", "")
        if request.query.get("api_key") != self.api_key and auth != f"Bearer {self.api_key}":
            return self.error(401, 7, "Invalid API key: You must be granted a valid key.")
        return None

    async def tv(self, request: web.Request) -> web.Response:
        tid = int(request.match_info["id"])
        if tid in self.recorded:
            return json_response(self.recorded[tid])
        e = self.shows.get(tid)
        if e is None:
            return self.error(404, 34, "The resource you requested could not be found.")
        body = tv_payload(e, self.today, self.lifecycle)
        extra = {k: body.pop(f"_{k}") for k in ("keywords", "external_ids", "content_ratings", "providers")}
        for part in (request.query.get("append_to_response") or "").split(","):
            if part == "keywords":
                body["keywords"] = {"results": extra["keywords"]}
            elif part == "external_ids":
                body["external_ids"] = extra["external_ids"]
            elif part == "content_ratings":
                body["content_ratings"] = extra["content_ratings"]
            elif part == "watch/providers":
                body["watch/providers"] = extra["providers"]
        return json_response(body)

    def translate(self, tid: int, lang: str, region: str, name: str, overview: str) -> None:
        """A translation of show ``tid`` as TMDB lists it (``iso_639_1``, ``iso_3166_1``, ``data``)."""
        self.translated.setdefault(tid, []).append({
            "iso_3166_1": region, "iso_639_1": lang, "name": lang, "english_name": lang,
            "data": {"name": name, "overview": overview, "homepage": "", "tagline": ""}})

    async def translations(self, request: web.Request) -> web.Response:
        """``/tv/{id}/translations``: every language TMDB holds the show's name and overview in (English too)."""
        tid = int(request.match_info["id"])
        e = self.shows.get(tid)
        if e is None:
            return self.error(404, 34, "The resource you requested could not be found.")
        english = {"iso_3166_1": "US", "iso_639_1": "en", "name": "English", "english_name": "English",
                   "data": {"name": e["title"], "overview": e.get("overview") or "", "homepage": "", "tagline": ""}}
        return json_response({"id": tid, "translations": [english, *self.translated.get(tid, [])]})

    def _summary(self, e: dict[str, Any]) -> dict[str, Any]:
        return {"id": e["tmdb_id"], "name": e["title"], "original_name": e["title"],
                "first_air_date": f"{e['year']}-01-15", "genre_ids": [], "origin_country": e["countries"],
                "original_language": "en", "overview": e["overview"], "popularity": e["tmdb_popularity"],
                "vote_average": e["tmdb_rating"] or 0, "vote_count": max(1, e["imdb_votes"] // 50),
                "poster_path": f"/p{e['tmdb_id']}.jpg", "media_type": "tv"}

    async def find(self, request: web.Request) -> web.Response:
        ext = request.match_info["ext"]
        source = request.query.get("external_source")
        if source not in ("imdb_id", "tvdb_id"):
            return self.error(400, 5, "Invalid parameters")
        e = self.by_imdb.get(ext) if source == "imdb_id" else None
        return json_response({"movie_results": [], "person_results": [], "tv_episode_results": [],
                              "tv_results": [self._summary(e)] if e else [], "tv_season_results": []})

    def _page(self, request: web.Request, rows: list[dict[str, Any]]) -> web.Response:
        page = max(1, int(request.query.get("page", 1)))
        per = 20
        total = max(1, -(-len(rows) // per))
        return json_response({"page": page, "results": [self._summary(e) for e in rows[(page - 1) * per:page * per]],
                              "total_pages": total, "total_results": len(rows)})

    def _related(self, tid: int, salt: int) -> list[dict[str, Any]] | None:
        e = self.shows.get(tid)
        if e is None:
            return None
        g = set(e["genres"])
        pool = [x for x in self.shows.values() if x["tmdb_id"] != tid and set(x["genres"]) & g]
        pool.sort(key=lambda x: (-len(g & set(x["genres"])) / len(g | set(x["genres"])),
                                 (x["tmdb_id"] * 2654435761 + salt) % 1000))
        return pool[:40]

    async def recommendations(self, request: web.Request) -> web.Response:
        rows = self._related(int(request.match_info["id"]), 1)
        return self.error(404, 34, "The resource you requested could not be found.") if rows is None \
            else self._page(request, rows)

    async def similar(self, request: web.Request) -> web.Response:
        rows = self._related(int(request.match_info["id"]), 2)
        return self.error(404, 34, "The resource you requested could not be found.") if rows is None \
            else self._page(request, rows)

    async def watch_providers(self, request: web.Request) -> web.Response:
        """/watch/providers/tv?watch_region=XX: the services of the region (as the per-show lists name them), with
        TMDB's per-country display priorities, plus one no show in the catalogue streams on."""
        region = request.query.get("watch_region", "US").upper()
        names = sorted({GB.get(p, p) if region == "GB" else p for e in self.shows.values() for p in e["providers"]})
        names.append("Mubi")
        rows = [{"provider_id": 500 + n, "provider_name": name, "logo_path": f"/logo{n}.png",
                 "display_priority": n, "display_priorities": {region: n}} for n, name in enumerate(names)]
        return json_response({"results": rows})

    async def discover(self, request: web.Request) -> web.Response:
        q = request.query

        def gids(e: dict[str, Any]) -> set[int]:
            return {TMDB_GENRE[g][1] for g in e["genres"] if g in TMDB_GENRE}

        rows = list(self.shows.values())
        if q.get("with_genres"):
            raw = q["with_genres"]
            if "|" in raw:
                want = {int(x) for x in raw.split("|")}
                rows = [e for e in rows if gids(e) & want]
            else:
                want = {int(x) for x in raw.split(",")}
                rows = [e for e in rows if want <= gids(e)]
        if q.get("without_genres"):
            bad = {int(x) for x in q["without_genres"].replace("|", ",").split(",")}
            rows = [e for e in rows if not gids(e) & bad]
        if q.get("vote_count.gte"):
            rows = [e for e in rows if max(1, e["imdb_votes"] // 50) >= int(q["vote_count.gte"])]
        if q.get("with_status"):
            codes = {"Returning Series": "0", "Ended": "3", "Canceled": "4"}
            want_s = set(q["with_status"].split("|"))
            rows = [e for e in rows if codes.get(catalogue_meta(e).status or "", "") in want_s]
        key = q.get("sort_by", "popularity.desc")
        field = {"popularity.desc": "tmdb_popularity", "vote_average.desc": "tmdb_rating"}.get(key, "tmdb_popularity")
        rows.sort(key=lambda e: (-(e.get(field) or 0), e["tmdb_id"]))
        return self._page(request, rows)

    async def search(self, request: web.Request) -> web.Response:
        q = norm_title(request.query.get("query", ""))
        if not q:
            return json_response({"page": 1, "results": [], "total_pages": 0, "total_results": 0})
        year = request.query.get("first_air_date_year")
        hits = [e for e in self.shows.values() if q in norm_title(e["title"])
                and (not year or str(e["year"]) == year)]
        hits.sort(key=lambda e: -e["tmdb_popularity"])
        return json_response({"page": 1, "results": [self._summary(e) for e in hits[:20]], "total_pages": 1,
                              "total_results": len(hits)})
