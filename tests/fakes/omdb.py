"""A loopback OMDb API: string values, "N/A" for missing ones, ``{"Response": "False"}`` on failure."""

from __future__ import annotations

from aiohttp import web

from .base import FakeServer, json_response
from .catalogue import catalogue


class FakeOmdb(FakeServer):
    name = "omdb"

    def __init__(self, *, api_key: str = "test-omdb-key") -> None:
        super().__init__()
        self.api_key = api_key
        self.by_imdb = {e["imdb_id"]: e for e in catalogue()}
        self.app.router.add_get("/", self.root)

    async def root(self, request: web.Request) -> web.Response:
        if request.query.get("apikey") != self.api_key:
            return json_response({"Response": "False", "Error": "Invalid API key!"}, status=401)
        e = self.by_imdb.get(request.query.get("i", ""))
        if e is None:
            return json_response({"Response": "False", "Error": "Incorrect IMDb ID."})
        rating = f"{e['imdb_rating']:.1f}" if e["imdb_rating"] else "N/A"
        ratings = [{"Source": "Internet Movie Database", "Value": f"{rating}/10"}] if e["imdb_rating"] else []
        if e["tmdb_id"] % 2 == 0:   # Rotten Tomatoes is often absent for series
            ratings.append({"Source": "Rotten Tomatoes", "Value": f"{min(100, int((e['imdb_rating'] or 5) * 11))}%"})
        return json_response({
            "Title": e["title"], "Year": f"{e['year']}–", "Genre": ", ".join(e["genres"]).title(),
            "Ratings": ratings, "Metascore": "N/A", "imdbRating": rating, "imdbVotes": f"{e['imdb_votes']:,}",
            "imdbID": e["imdb_id"], "Type": "series", "totalSeasons": str(e["seasons"]), "Response": "True",
        })
