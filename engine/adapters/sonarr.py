"""Sonarr (``/api/v3``, ``X-Api-Key``): a pick the owner's server lacks is added to Sonarr, which then searches for
it — for the owner and the people the owner allows (``sonarr.people``), with the root folder and quality profile of
the configuration.

``GET /series/lookup?term=tvdb:…`` (or ``tmdb:…`` where no TVDB id is known) finds the series (an ``id`` above 0
means Sonarr has it already); ``POST /series`` with the lookup's series plus ``qualityProfileId``,
``rootFolderPath``, ``monitored`` and ``addOptions`` adds it (201), or answers 400 with ``SeriesExistsValidator``
when it was added meanwhile.
"""

from __future__ import annotations

from typing import Any

from engine.plumbing.http import HttpService
from engine.values.errors import MultitudesError, ServiceUnavailable
from engine.values.i18n import _
from engine.values.plans import Outcome


class SonarrClient:
    def __init__(self, base_url: str, api_key: str, http: HttpService, *, root_folder: str,
                 quality_profile_id: int) -> None:
        self.base = base_url.rstrip("/") + "/api/v3"
        self.http = http
        self.root_folder = root_folder
        self.quality_profile_id = quality_profile_id
        self._key = api_key

    def _check(self, status: int, path: str) -> None:
        if status == 401:
            raise MultitudesError(f"Sonarr: 401 on {path}", user_message=(
                _("Sonarr refused the bot's API key: its owner needs to check MULTITUDES_SONARR_API_KEY. Nothing was "
                "added.")))
        if status >= 500:
            raise ServiceUnavailable("Sonarr", f"Sonarr: {status} on {path}")

    async def add(self, tvdb_id: int | None, tmdb_id: int | None) -> Outcome:
        term = f"tvdb:{tvdb_id}" if tvdb_id else f"tmdb:{tmdb_id}"
        resp = await self.http.request("GET", self.base + "/series/lookup", params={"term": term},
                                       headers={"X-Api-Key": self._key})
        self._check(resp.status_code, "/series/lookup")
        found = resp.json() if resp.status_code == 200 else []
        series: dict[str, Any] | None = found[0] if isinstance(found, list) and found and isinstance(
            found[0], dict) else None
        if series is None or not series.get("tvdbId"):
            return Outcome.UNKNOWN_SHOW
        if int(series.get("id") or 0) > 0:
            return Outcome.ALREADY
        body = {**series, "qualityProfileId": self.quality_profile_id, "rootFolderPath": self.root_folder,
                "monitored": True, "seasonFolder": True,
                "addOptions": {"monitor": "all", "searchForMissingEpisodes": True}}
        resp = await self.http.request("POST", self.base + "/series", json=body, headers={"X-Api-Key": self._key},
                                       once=True, retry_on=frozenset())
        self._check(resp.status_code, "/series")
        if resp.status_code in (200, 201):
            return Outcome.APPROVED
        errors = resp.json() if resp.content else []
        codes = {str(e.get("errorCode")) for e in errors if isinstance(e, dict)} if isinstance(errors, list) else set()
        if "SeriesExistsValidator" in codes:
            return Outcome.ALREADY
        raise ServiceUnavailable("Sonarr", f"Sonarr: {resp.status_code} on /series ({', '.join(sorted(codes))})")
