"""Plex Media Server as a history source (JSON with ``Accept: application/json``, the owner's ``X-Plex-Token``).

What the bot reads:
- ``GET /status/sessions/history/all?accountID=…&sort=viewedAt:desc`` — every view of the account with its real
  time (``viewedAt``, epoch seconds), paged by ``X-Plex-Container-Start``/``-Size`` (``totalSize`` says how many);
  each view is one play, keyed by its ``historyKey``; a view deleted from the history leaves the list;
- ``GET /library/sections`` then ``/library/sections/{key}/all?type=2&includeGuids=1`` — the server's shows with
  their ``Guid`` list (``tmdb://…``, ``tvdb://…``, ``imdb://…``); ``/library/metadata/{keys}`` for shows a view
  names that the last library read did not have;
- ``GET /accounts`` and ``GET /`` (``myPlexUsername``) — the server's accounts: a shared user's account id is their
  plex.tv id, the owner's is 1.
Linking is plex.tv's PIN flow (``POST /api/v2/pins`` on plex.tv gives a code the person enters at plex.tv/link;
``GET /api/v2/pins/{id}`` returns their token once they did; ``GET /api/v2/user`` names them). The bot keeps the
account id, never the person's token.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from engine.adapters.server_ids import as_int, server_ref
from engine.plumbing.http import HttpService
from engine.ports.mediaserver import PlayedPage, QuickCode, ServerPlay, ServerShow, ServerUser
from engine.values.errors import MultitudesError, NotLinked, ServiceUnavailable
from engine.values.i18n import _
from engine.values.models import ShowRef

log = logging.getLogger(__name__)

PRODUCT = "Multitudes"
CLIENT_ID = "multitudes-bot"


def _key_id(key: Any) -> str | None:
    """``/library/metadata/123`` → ``123``."""
    tail = str(key or "").rstrip("/").rsplit("/", 1)[-1]
    return tail if tail.isascii() and tail.isdigit() else None


def show_ref(item: dict[str, Any]) -> ShowRef | None:
    """A show item as a show: its ``Guid`` list (the agent's own ``guid`` is no id of ours)."""
    ids: dict[str, str] = {}
    for g in item.get("Guid") or []:
        scheme, sep, value = str(g.get("id") if isinstance(g, dict) else "").partition("://")
        if sep and value:
            ids.setdefault(scheme.lower(), value)
    return server_ref(ids, item.get("title"), item.get("year"))


def history_play(item: dict[str, Any]) -> ServerPlay | None:
    view = _key_id(item.get("historyKey"))
    series = _key_id(item.get("grandparentKey"))
    season = as_int(item.get("parentIndex"))
    at = item.get("viewedAt")
    if item.get("type") != "episode" or view is None or series is None or season is None or not isinstance(at, int):
        return None
    return ServerPlay(item_id=view, series_id=series, series_title=str(item.get("grandparentTitle") or "")[:300],
                      season=season, episode=as_int(item.get("index")),
                      title=str(item.get("title"))[:300] if item.get("title") else None,
                      played_at=datetime.fromtimestamp(at, UTC))


class PlexClient:
    kind = "plex"
    name = "Plex"

    def __init__(self, base_url: str, token: str, http: HttpService, plex_tv_url: str = "https://plex.tv") -> None:
        self.base = base_url.rstrip("/")
        self.plex_tv = plex_tv_url.rstrip("/")
        self.http = http
        self._token = token
        self._sections: list[tuple[str, int]] = []
        self._item_section: dict[str, str] = {}            # show ratingKey -> its library section

    def _headers(self, token: str | None = "", start: int | None = None, size: int | None = None) -> dict[str, str]:
        h = {"Accept": "application/json", "X-Plex-Product": PRODUCT, "X-Plex-Client-Identifier": CLIENT_ID}
        key = self._token if token == "" else token
        if key:
            h["X-Plex-Token"] = key
        if start is not None and size is not None:
            h["X-Plex-Container-Start"], h["X-Plex-Container-Size"] = str(start), str(size)
        return h

    async def _get(self, url: str, params: dict[str, Any] | None = None, **headers: Any) -> dict[str, Any]:
        resp = await self.http.request("GET", url, params=params, headers=self._headers(**headers))
        if resp.status_code in (401, 403) and url.startswith(self.base):
            raise MultitudesError(f"Plex: {resp.status_code}", user_message=(
                _("Plex refused the bot's token: its owner needs to check MULTITUDES_MEDIASERVER_API_KEY. Nothing was "
                "lost.")))
        if resp.status_code >= 400:
            raise ServiceUnavailable("Plex", f"Plex: {resp.status_code} on {httpx_path(url)}")
        try:
            body = resp.json()
        except ValueError as e:
            raise ServiceUnavailable("Plex", "Plex: not JSON") from e
        return body.get("MediaContainer") or {} if isinstance(body, dict) else {}

    async def users(self) -> list[ServerUser]:
        box = await self._get(self.base + "/accounts")
        return [ServerUser(str(a["id"]), str(a.get("name") or "")) for a in box.get("Account") or []
                if isinstance(a, dict) and as_int(a.get("id"))]

    async def played(self, user_id: str, start: int, limit: int) -> PlayedPage:
        box = await self._get(self.base + "/status/sessions/history/all",
                              {"accountID": user_id, "sort": "viewedAt:desc"}, start=start, size=limit)
        items = [m for m in box.get("Metadata") or [] if isinstance(m, dict)]
        plays = [p for m in items if (p := history_play(m)) is not None]
        total = as_int(box.get("totalSize"))
        return PlayedPage(plays, total if total is not None else start + len(items), len(items))

    async def shows(self, user_id: str | None, start: int, limit: int,
                    ids: list[str] | None = None) -> tuple[list[ServerShow], int]:
        if ids:
            box = await self._get(self.base + "/library/metadata/" + ",".join(ids), {"includeGuids": 1})
            return self._shows(box), len(ids)
        if start == 0 or not self._sections:          # a full read starts by counting each show library
            self._sections = []
            lib = await self._get(self.base + "/library/sections")
            for d in lib.get("Directory") or []:
                if isinstance(d, dict) and d.get("type") == "show" and d.get("key") is not None:
                    head = await self._get(f"{self.base}/library/sections/{d['key']}/all", {"type": 2},
                                           start=0, size=0)
                    self._sections.append((str(d["key"]), as_int(head.get("totalSize")) or 0))
        total = sum(n for _, n in self._sections)
        offset = start
        for key, n in self._sections:                   # the global offset falls in one section
            if offset < n:
                box = await self._get(f"{self.base}/library/sections/{key}/all", {"type": 2, "includeGuids": 1},
                                      start=offset, size=min(limit, n - offset))
                return self._shows(box), total
            offset -= n
        return [], total

    @staticmethod
    def _shows(box: dict[str, Any]) -> list[ServerShow]:
        return [ServerShow(str(m["ratingKey"]), show_ref(m)) for m in box.get("Metadata") or []
                if isinstance(m, dict) and m.get("ratingKey") is not None and m.get("type", "show") == "show"]

    async def publish_collection(self, name: str, ref: str | None, items: list[str]) -> str | None:
        """A collection in the TV library that holds most of these shows (a Plex collection lives in one library
        section; shows of another TV library are left out of it). ``ref`` is the collection's ratingKey."""
        if not items and ref is None:
            return None
        ident = await self._get(self.base + "/")
        machine = str(ident.get("machineIdentifier") or "")
        uri = f"server://{machine}/com.plexapp.plugins.library/library/metadata/"
        section = await self._section_of(items)
        items = [i for i in items if section is None or self._item_section.get(i) == section]
        if ref is not None:
            resp = await self.http.request("GET", f"{self.base}/library/collections/{ref}/children",
                                           headers=self._headers())
            if resp.status_code != 404:
                box = self._box(resp, "/library/collections/{key}/children")
                have = [str(m["ratingKey"]) for m in box.get("Metadata") or [] if isinstance(m, dict)]
                add = [i for i in items if i not in have]
                if add:
                    await self._write("PUT", f"{self.base}/library/collections/{ref}/items",
                                      {"uri": uri + ",".join(add)})
                for gone in (i for i in have if i not in items):
                    await self._write("DELETE", f"{self.base}/library/collections/{ref}/items/{gone}", None)
                return ref
        if not items or section is None:
            return None
        resp = await self.http.request("POST", self.base + "/library/collections", headers=self._headers(),
                                       params={"type": 2, "title": name, "smart": 0, "sectionId": section,
                                               "uri": uri + ",".join(items)})
        made = self._box(resp, "/library/collections").get("Metadata") or []
        return str(made[0]["ratingKey"]) if made and isinstance(made[0], dict) else None

    async def _section_of(self, items: list[str]) -> str | None:
        """The TV library most of these shows are in (read from their metadata)."""
        if not items:
            return None
        box = await self._get(self.base + "/library/metadata/" + ",".join(items))
        for m in box.get("Metadata") or []:
            if isinstance(m, dict) and m.get("ratingKey") is not None:
                self._item_section[str(m["ratingKey"])] = str(m.get("librarySectionID"))
        counts: dict[str, int] = {}
        for i in items:
            if (s := self._item_section.get(i)) is not None:
                counts[s] = counts.get(s, 0) + 1
        return max(counts, key=lambda s: (counts[s], s)) if counts else None

    def _box(self, resp: Any, path: str) -> dict[str, Any]:
        if resp.status_code >= 400:
            raise ServiceUnavailable("Plex", f"Plex: {resp.status_code} on {path}")
        body = resp.json() if resp.content else {}
        return body.get("MediaContainer") or {} if isinstance(body, dict) else {}

    async def _write(self, method: str, url: str, params: dict[str, Any] | None) -> None:
        resp = await self.http.request(method, url, params=params, headers=self._headers())
        if resp.status_code >= 400:
            raise ServiceUnavailable("Plex", f"Plex: {resp.status_code} on {method} {httpx_path(url)}")

    # -- plex.tv PIN linking ------------------------------------------------------------------------------------
    async def start_code(self) -> QuickCode:
        resp = await self.http.request("POST", self.plex_tv + "/api/v2/pins", params={"strong": "false"},
                                       headers=self._headers(None))
        if resp.status_code >= 400:
            raise ServiceUnavailable("plex.tv", f"plex.tv: {resp.status_code} on /api/v2/pins")
        body = resp.json()
        if not isinstance(body, dict) or not body.get("code") or body.get("id") is None:
            raise ServiceUnavailable("plex.tv", "plex.tv: a PIN without a code")
        return QuickCode(str(body["code"]), str(body["id"]))

    async def code_user(self, secret: str) -> ServerUser | None:
        resp = await self.http.request("GET", f"{self.plex_tv}/api/v2/pins/{secret}", headers=self._headers(None))
        if resp.status_code == 404:
            raise NotLinked("plex pin expired", user_message=(
                _("That Plex code expired before it was entered. Run `/link plex` again for a new one.")))
        if resp.status_code >= 400:
            raise ServiceUnavailable("plex.tv", f"plex.tv: {resp.status_code} on /api/v2/pins")
        token = (resp.json() or {}).get("authToken")
        if not token:
            return None
        who = await self.http.request("GET", self.plex_tv + "/api/v2/user", headers=self._headers(str(token)))
        if who.status_code >= 400:
            raise ServiceUnavailable("plex.tv", f"plex.tv: {who.status_code} on /api/v2/user")
        me = who.json() or {}
        plex_id, name = str(me.get("id") or ""), str(me.get("username") or me.get("title") or "")
        accounts = await self.users()
        mine = next((a for a in accounts if a.id == plex_id), None)
        if mine is None:
            server = await self._get(self.base + "/")
            if name and name == server.get("myPlexUsername"):
                mine = next((a for a in accounts if a.id == "1"), ServerUser("1", name))
        if mine is None:
            raise MultitudesError("plex user not on this server", user_message=(
                _(
                    "Your Plex account ({value}) has no access to this bot's Plex server: ask its owner to share a "
                    "library with you, then run `/link plex` again.").format(value=name or plex_id)))
        return ServerUser(mine.id, name or mine.name)


def httpx_path(url: str) -> str:
    return "/" + url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
