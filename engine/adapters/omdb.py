"""Optional OMDb client: IMDb, Rotten Tomatoes and Metacritic scores for a show (every OMDb value is a string;
missing values are "N/A"; failures come back as ``{"Response": "False"}``)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from engine.plumbing.clock import Clock
from engine.plumbing.config import OmdbSettings
from engine.plumbing.http import HttpService
from engine.store import Store


def _num(v: Any) -> float | None:
    if not isinstance(v, str) or v in ("", "N/A"):
        return None
    m = re.match(r"^\s*([\d.,]+)", v)
    if not m:
        return None
    try:
        return float(m.group(1).replace(",", ""))
    except ValueError:
        return None


def parse_scores(body: dict[str, Any]) -> dict[str, float | None] | None:
    if not body or body.get("Response") != "True":
        return None
    out: dict[str, float | None] = {
        "imdb_rating": _num(body.get("imdbRating")),
        "imdb_votes": _num(body.get("imdbVotes")),
        "metacritic": _num(body.get("Metascore")),
        "rotten_tomatoes": None,
    }
    for r in body.get("Ratings") or []:
        if r.get("Source") == "Rotten Tomatoes":
            out["rotten_tomatoes"] = _num(r.get("Value"))
        elif r.get("Source") == "Metacritic" and out["metacritic"] is None:
            out["metacritic"] = _num(r.get("Value"))
    return out


class OmdbClient:
    def __init__(self, settings: OmdbSettings, api_key: str, http: HttpService, store: Store, clock: Clock) -> None:
        self.settings = settings
        self.http = http
        self.store = store
        self.clock = clock
        self._key = api_key

    async def scores(self, imdb_id: str) -> dict[str, float | None] | None:
        key = f"omdb:{imdb_id}"
        now = self.clock.now()
        async with self.store.read() as uow:
            hit = await uow.cache.get(key, now)
        if hit is None:
            resp = await self.http.request("GET", f"{self.settings.base_url}/",
                                           params={"i": imdb_id, "apikey": self._key, "type": "series"})
            if resp.status_code >= 400:
                return None
            hit = resp.json()
            async with self.store.unit() as uow:
                await uow.cache.put(key, hit, now, now + timedelta(days=self.settings.ttl_days))
        return parse_scores(hit) if isinstance(hit, dict) else None
