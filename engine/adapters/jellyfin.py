"""The owner's media server as a history source: Jellyfin and Emby (one REST family, two dialects).

What the bot reads, with the owner's API key, for one server user at a time:
- ``GET /Users`` — the server's users (the owner's mapping names them; a Quick Connect names one by id);
- played episodes, newest first: ``/Items?userId=…`` (Jellyfin; Emby keeps ``/Users/{id}/Items``) with
  ``IncludeItemTypes=Episode&Recursive=true&Filters=IsPlayed&SortBy=DatePlayed&SortOrder=Descending``, paged by
  ``StartIndex``/``Limit``; each page carries ``TotalRecordCount`` — so one request says whether anything changed;
- the server's shows (``IncludeItemTypes=Series``, ``Fields=ProviderIds``): TMDB, TVDB and IMDb ids, what matches a
  series to a show; a series without any of them is skipped and counted, never guessed by title;
- Jellyfin's Quick Connect: ``POST /QuickConnect/Initiate`` gives a code the person enters in their own server
  session; ``GET /QuickConnect/Connect?secret=`` says when they did; ``POST /Users/AuthenticateWithQuickConnect``
  names the user (the session it opens is logged out at once: the bot keeps the user id, never a user token).

Jellyfin and Emby keep one play date per episode and user (``UserData.LastPlayedDate``, with ``PlayCount``): a
rewatch moves that date, so it is one more play at the new time; an episode marked unplayed leaves the list.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Literal

from engine.adapters.server_ids import as_int, server_ref
from engine.plumbing.http import HttpService
from engine.ports.mediaserver import NAMES, PlayedPage, QuickCode, ServerPlay, ServerShow, ServerUser
from engine.values.errors import MultitudesError, NotLinked, ServiceUnavailable
from engine.values.i18n import _
from engine.values.models import ShowRef

log = logging.getLogger(__name__)

CLIENT = 'Client="Multitudes", Device="Multitudes bot", DeviceId="multitudes-bot", Version="0.1"'


def parse_time(raw: Any) -> datetime | None:
    """.NET writes seven fractional digits (``2024-03-01T21:14:05.1234567Z``); Python reads six."""
    if not isinstance(raw, str) or not raw:
        return None
    text = raw.strip().replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:
        digits = "".join(c for c in rest if c.isdigit())
        zone = rest[len(digits):]
        text = f"{head}.{digits[:6]}{zone}"
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        return None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def show_ref(item: dict[str, Any]) -> ShowRef | None:
    """A Jellyfin/Emby series item as a show (``ProviderIds`` keys are spelled ``Tmdb``/``Tvdb``/``Imdb``, any case)."""
    ids = {str(k).lower(): v for k, v in (item.get("ProviderIds") or {}).items()}
    return server_ref(ids, item.get("Name"), item.get("ProductionYear"))


def server_play(item: dict[str, Any]) -> ServerPlay | None:
    data = item.get("UserData") or {}
    at = parse_time(data.get("LastPlayedDate"))
    season = as_int(item.get("ParentIndexNumber"))
    if not item.get("Id") or not item.get("SeriesId") or at is None or season is None:
        return None                 # a played episode without a date, a series or a season: nothing to place
    return ServerPlay(item_id=str(item["Id"]), series_id=str(item["SeriesId"]),
                      series_title=str(item.get("SeriesName") or "")[:300], season=season,
                      episode=as_int(item.get("IndexNumber")), title=(str(item.get("Name"))[:300] or None)
                      if item.get("Name") else None, played_at=at)


class JellyfinClient:
    """Jellyfin (``kind="jellyfin"``) or Emby (``kind="emby"``) over the shared HTTP policy."""

    def __init__(self, kind: Literal["jellyfin", "emby"], base_url: str, api_key: str, http: HttpService) -> None:
        self.kind = kind
        self.base = base_url.rstrip("/")
        self.http = http
        self._key = api_key

    @property
    def name(self) -> str:
        return NAMES[self.kind]

    def _headers(self, token: str | None = "") -> dict[str, str]:
        key = self._key if token == "" else token
        if self.kind == "emby":
            return {"X-Emby-Token": key} if key else {"X-Emby-Authorization": f"MediaBrowser {CLIENT}"}
        return {"Authorization": f'MediaBrowser {CLIENT}' + (f', Token="{key}"' if key else "")}

    async def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        resp = await self.http.request("GET", self.base + path, params=params, headers=self._headers())
        return self._body(resp.status_code, resp, path)

    def _body(self, status: int, resp: Any, path: str) -> Any:
        self._check(status, path)
        try:
            return resp.json()
        except ValueError as e:
            raise ServiceUnavailable(self.name, f"{self.name}: not JSON on {path}") from e

    def _check(self, status: int, path: str) -> None:
        if status in (401, 403):
            raise MultitudesError(f"{self.name}: {status} on {path}", user_message=(
                _(
                    "{name} refused the bot's API key: its owner needs to check MULTITUDES_MEDIASERVER_API_KEY. "
                    "Nothing was lost.").format(name=self.name)))
        if status >= 400:
            raise ServiceUnavailable(self.name, f"{self.name}: {status} on {path}")

    async def users(self) -> list[ServerUser]:
        body = await self._get("/Users")
        return [ServerUser(str(u["Id"]), str(u.get("Name") or "")) for u in body or []
                if isinstance(u, dict) and u.get("Id")]

    def _items(self, user_id: str | None) -> tuple[str, dict[str, Any]]:
        if user_id is None:
            return "/Items", {}
        if self.kind == "emby":
            return f"/Users/{user_id}/Items", {}
        return "/Items", {"userId": user_id}

    async def played(self, user_id: str, start: int, limit: int) -> PlayedPage:
        path, params = self._items(user_id)
        body = await self._get(path, {
            **params, "IncludeItemTypes": "Episode", "Recursive": "true", "Filters": "IsPlayed",
            "SortBy": "DatePlayed", "SortOrder": "Descending", "Fields": "ProviderIds", "EnableUserData": "true",
            "StartIndex": start, "Limit": limit})
        items = body.get("Items") or [] if isinstance(body, dict) else []
        plays = [p for it in items if isinstance(it, dict) and (p := server_play(it)) is not None]
        skipped = len(items) - len(plays)
        if skipped:
            log.info("%s: %d played items without a date, series or season skipped", self.name, skipped)
        return PlayedPage(plays, int(body.get("TotalRecordCount") or 0) if isinstance(body, dict) else 0,
                          len(items))

    async def shows(self, user_id: str | None, start: int, limit: int,
                    ids: list[str] | None = None) -> tuple[list[ServerShow], int]:
        path, params = self._items(user_id)
        query = {**params, "IncludeItemTypes": "Series", "Recursive": "true", "Fields": "ProviderIds,ProductionYear",
                 "SortBy": "SortName", "StartIndex": start, "Limit": limit}
        if ids:
            query["Ids"] = ",".join(ids)
        body = await self._get(path, query)
        items = body.get("Items") or [] if isinstance(body, dict) else []
        out = [ServerShow(str(it["Id"]), show_ref(it)) for it in items if isinstance(it, dict) and it.get("Id")]
        return out, int(body.get("TotalRecordCount") or 0) if isinstance(body, dict) else 0

    # -- a person's picks as a collection (``multitudes publish``) ------------------------------------------------
    async def publish_collection(self, name: str, ref: str | None, items: list[str]) -> str | None:
        """Make collection ``ref`` (made here, named ``name``, when there is none yet or it was deleted) hold
        exactly these series; its id. Collections are seen by everyone on the server: the person opted in."""
        if ref is not None:
            resp = await self.http.request("GET", self.base + "/Items", params={"ParentId": ref},
                                           headers=self._headers())
            if resp.status_code != 404:
                body = self._body(resp.status_code, resp, "/Items")
                have = [str(i["Id"]) for i in body.get("Items") or [] if isinstance(i, dict) and i.get("Id")]
                add, gone = [i for i in items if i not in have], [i for i in have if i not in items]
                for method, ids in (("POST", add), ("DELETE", gone)):
                    if ids:
                        r = await self.http.request(method, f"{self.base}/Collections/{ref}/Items",
                                                    params={"Ids": ",".join(ids)}, headers=self._headers())
                        self._check(r.status_code, "/Collections/{id}/Items")
                return ref
        resp = await self.http.request("POST", self.base + "/Collections", headers=self._headers(),
                                       params={"Name": name, "Ids": ",".join(items), "IsLocked": "true"})
        made = self._body(resp.status_code, resp, "/Collections")
        return str(made["Id"]) if isinstance(made, dict) and made.get("Id") else None

    # -- Quick Connect (Jellyfin) ----------------------------------------------------------------------------------
    async def start_code(self) -> QuickCode:
        if self.kind != "jellyfin":
            raise NotLinked("no quick connect", user_message=(
                _(
                    "{name} has no sign-in code I can use: ask the bot's owner to map your chat account to your "
                    "{name2} user (the `mediaserver.people` setting).").format(name=self.name, name2=self.name)))
        resp = await self.http.request("POST", self.base + "/QuickConnect/Initiate", headers=self._headers(None))
        if resp.status_code == 401:
            raise MultitudesError("quick connect disabled", user_message=(
                _("Quick Connect is turned off on this Jellyfin server: ask its owner to turn it on (Dashboard → "
                "General → Quick Connect), or to map your chat account to your Jellyfin user.")))
        body = self._body(resp.status_code, resp, "/QuickConnect/Initiate")
        if not isinstance(body, dict) or not body.get("Code") or not body.get("Secret"):
            raise ServiceUnavailable(self.name, "Jellyfin: a Quick Connect answer without a code")
        return QuickCode(str(body["Code"]), str(body["Secret"]))

    async def code_user(self, secret: str) -> ServerUser | None:
        """The user who confirmed the code; None while they have not; NotLinked once the code expired."""
        resp = await self.http.request("GET", self.base + "/QuickConnect/Connect", params={"secret": secret},
                                       headers=self._headers(None))
        if resp.status_code in (404, 401):
            raise NotLinked("quick connect expired", user_message=(
                _("That Jellyfin code expired before it was confirmed. Run `/link jellyfin` again for a new one.")))
        body = self._body(resp.status_code, resp, "/QuickConnect/Connect")
        if not isinstance(body, dict) or not body.get("Authenticated"):
            return None
        resp = await self.http.request("POST", self.base + "/Users/AuthenticateWithQuickConnect",
                                       json={"Secret": secret}, headers=self._headers(None))
        auth = self._body(resp.status_code, resp, "/Users/AuthenticateWithQuickConnect")
        user = auth.get("User") if isinstance(auth, dict) else None
        if not isinstance(user, dict) or not user.get("Id"):
            raise ServiceUnavailable(self.name, "Jellyfin: a Quick Connect sign-in without a user")
        token = auth.get("AccessToken")
        if isinstance(token, str) and token:     # the bot keeps the user id only: end the session it was given
            try:
                await self.http.request("POST", self.base + "/Sessions/Logout", headers=self._headers(token))
            except ServiceUnavailable as e:
                log.info("Jellyfin: the Quick Connect session was not logged out: %s", e)
        return ServerUser(str(user["Id"]), str(user.get("Name") or ""))
