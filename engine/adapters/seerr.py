"""Overseerr / Jellyseerr (``/api/v1``, ``X-Api-Key``): a pick becomes a request by the person's own Seerr user.

The owner's API key acts as a user named by ``X-API-User`` (Seerr's own header), so that user's permissions, quotas
and auto-approval apply — never the owner's. The person's Seerr user is found by the server user they linked
(``jellyfinUserId`` on Jellyfin and Emby, ``plexId`` on Plex), read from ``GET /api/v1/user`` (paged by
``take``/``skip``) — never by a name. ``POST /api/v1/request`` answers 201 (status 1 pending, 2 approved), 409
(already requested), 403 (quota exceeded, not allowed, blacklisted), 202 (no season left to request: it is all
there), 500 with TMDB's message for a show TMDB does not know.
"""

from __future__ import annotations

from typing import Any

from engine.plumbing.http import HttpService
from engine.ports.requests import SeerrAnswer
from engine.values.errors import MultitudesError, ServiceUnavailable
from engine.values.i18n import _
from engine.values.plans import Outcome

PAGE = 100


def _norm(user_id: Any) -> str:
    return str(user_id or "").replace("-", "").lower()


class SeerrClient:
    def __init__(self, base_url: str, api_key: str, http: HttpService) -> None:
        self.base = base_url.rstrip("/") + "/api/v1"
        self.http = http
        self._key = api_key

    def _check(self, status: int, path: str) -> None:
        if status == 401:
            raise MultitudesError(f"Seerr: 401 on {path}", user_message=(
                _("Seerr refused the bot's API key: its owner needs to check MULTITUDES_SEERR_API_KEY. Nothing was "
                "requested.")))

    async def user_for(self, server: str, server_user_id: str) -> int | None:
        """The Seerr user whose Jellyfin/Emby user id (``jellyfinUserId``) or plex.tv id (``plexId``) is this one
        (None: they have no Seerr account). A Plex server's owner is account 1 there, and Seerr's user 1 (the
        Plex owner who set Seerr up)."""
        field = "plexId" if server == "plex" else "jellyfinUserId"
        if server == "plex" and server_user_id == "1":
            return 1
        want, skip = _norm(server_user_id), 0
        while True:
            resp = await self.http.request("GET", self.base + "/user", params={"take": PAGE, "skip": skip},
                                           headers={"X-Api-Key": self._key})
            self._check(resp.status_code, "/user")
            if resp.status_code >= 400:
                raise ServiceUnavailable("Seerr", f"Seerr: {resp.status_code} on /user")
            body = resp.json()
            users = body.get("results") or [] if isinstance(body, dict) else []
            for u in users:
                if isinstance(u, dict) and want and _norm(u.get(field)) == want:
                    return int(u["id"])
            pages = (body.get("pageInfo") or {}).get("pages") if isinstance(body, dict) else None
            skip += PAGE
            if not users or not isinstance(pages, int) or skip >= pages * PAGE:
                return None

    async def request(self, seerr_user: int, tmdb_id: int, tvdb_id: int | None) -> SeerrAnswer:
        body: dict[str, Any] = {"mediaType": "tv", "mediaId": tmdb_id, "seasons": "all"}
        if tvdb_id:
            body["tvdbId"] = tvdb_id
        # sent once: a timeout may have created it (Seerr's 409 would answer a second try anyway); a 5xx is read,
        # not retried — Seerr says "TMDB does not know it" with a 500
        resp = await self.http.request("POST", self.base + "/request", json=body, once=True, retry_on=frozenset(),
                                       headers={"X-Api-Key": self._key, "X-API-User": str(seerr_user)})
        self._check(resp.status_code, "/request")
        try:
            answer = resp.json() if resp.content else {}
        except ValueError:
            answer = {}
        message = str(answer.get("message") or "")[:200] if isinstance(answer, dict) else ""
        if resp.status_code == 201 and isinstance(answer, dict):
            rid = answer.get("id") if isinstance(answer.get("id"), int) else None
            return SeerrAnswer(Outcome.APPROVED if answer.get("status") == 2 else Outcome.PENDING, rid)
        if resp.status_code == 202:
            return SeerrAnswer(Outcome.AVAILABLE, message=message)
        if resp.status_code == 409:
            return SeerrAnswer(Outcome.ALREADY, message=message)
        if resp.status_code == 403:
            quota = "quota" in message.lower()
            return SeerrAnswer(Outcome.QUOTA if quota else Outcome.REFUSED, message=message)
        if resp.status_code in (404, 400) or (resp.status_code == 500 and ("not found" in message.lower()
                                                                          or "failed to fetch" in message.lower())):
            return SeerrAnswer(Outcome.UNKNOWN_SHOW, message=message)
        raise ServiceUnavailable("Seerr", f"Seerr: {resp.status_code} on /request")
