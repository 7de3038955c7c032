"""The Trakt client: the port's reads (history pages fetched concurrently, lists, calendars, the public graph's
pages) and writes (watchlist, lists, marking watched, ratings, hiding), over the session in ``auth.py``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import httpx
import msgspec

from engine.adapters.trakt.auth import TraktSession
from engine.formats.trakt_json import _listed, _shows, parse_history_page, parse_show, wire_ids
from engine.plumbing.aio import run_all
from engine.ports.trakt import CalendarEntry, Listed, Page, PublicList, TraktAccount, WatchedShow
from engine.values.models import Play, ShowIds, ShowRef
from engine.values.times import parse_ts

log = logging.getLogger(__name__)
PERSONAL_TTL = timedelta(minutes=30)     # Trakt's recommendations for one person, reused across their lists
PERSONAL_MAX = 2048                      # people whose list is kept (oldest dropped first)


class TraktClient(TraktSession):
    """Everything the engine asks of Trakt (``TraktPort``)."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._personal: dict[tuple[int, int], tuple[datetime, tuple[ShowRef, ...]]] = {}

    async def _page(self, path: str, page: int, *, person_id: int | None = None,
                    params: dict[str, Any] | None = None, limit: int | None = None) -> tuple[httpx.Response, Page]:
        q = dict(params or {})
        q["page"] = page
        q["limit"] = limit or self.settings.page_limit
        resp = await self.request("GET", path, person_id=person_id, params=q)
        h = resp.headers
        count = int(h.get("X-Pagination-Page-Count") or 1)
        total = h.get("X-Pagination-Item-Count")
        return resp, Page(items=[], page=page, page_count=count, item_count=int(total) if total else None)

    async def page(self, path: str, page: int, *, person_id: int | None = None,
                   params: dict[str, Any] | None = None, limit: int | None = None) -> Page:
        resp, pg = await self._page(path, page, person_id=person_id, params=params, limit=limit)
        return Page(resp.json() if resp.content else [], pg.page, pg.page_count, pg.item_count)

    async def _pages(self, path: str, *, person_id: int | None = None, params: dict[str, Any] | None = None,
                     on_page: Callable[[int, bytes], Awaitable[None]],
                     skip_pages: frozenset[int] = frozenset()) -> None:
        """Read every page: page 1 first (it tells the page count), then the rest with bounded concurrency."""
        resp, first = await self._page(path, 1, person_id=person_id, params=params)
        await on_page(1, resp.content)
        sem = asyncio.Semaphore(self.settings.page_concurrency)

        async def one(n: int) -> None:
            async with sem:
                r, _ = await self._page(path, n, person_id=person_id, params=params)
            await on_page(n, r.content)

        await run_all(one(n) for n in range(2, first.page_count + 1) if n not in skip_pages)

    async def _all_items(self, path: str, *, person_id: int | None = None,
                         params: dict[str, Any] | None = None) -> list[Any]:
        pages: dict[int, list[Any]] = {}

        async def keep(n: int, raw: bytes) -> None:
            data = msgspec.json.decode(raw) if raw else []
            pages[n] = data if isinstance(data, list) else []

        await self._pages(path, person_id=person_id, params=params, on_page=keep)
        return [x for n in sorted(pages) for x in pages[n]]

    async def _optional_pages(self, path: str, *, person_id: int) -> list[Any]:
        """Endpoints with optional pagination return everything without page/limit; still follow page headers."""
        resp = await self.request("GET", path, person_id=person_id)
        items: list[Any] = resp.json() if resp.content else []
        count = int(resp.headers.get("X-Pagination-Page-Count") or 1)
        if count > 1:
            limit = int(resp.headers.get("X-Pagination-Limit") or len(items) or self.settings.page_limit)
            for n in range(2, count + 1):
                pg = await self.page(path, n, person_id=person_id, limit=limit)
                items.extend(pg.items)
        return items

    # -- the port ----------------------------------------------------------------------------------------------
    async def account(self, person_id: int) -> TraktAccount:
        body = await self.get("/users/settings", person_id=person_id) or {}
        user = body.get("user") or {}
        account = body.get("account") or {}
        limits = body.get("limits") or {}
        wl = (limits.get("watchlist") or {}).get("item_count")
        name = (user.get("ids") or {}).get("slug") or user.get("username")
        tz = account.get("timezone")
        return TraktAccount(str(name) if name else None, bool(user.get("vip") or user.get("vip_ep")),
                            tz if isinstance(tz, str) and tz else None, wl if isinstance(wl, int) else None)

    async def last_activities(self, person_id: int) -> dict[str, Any]:
        body = await self.get("/sync/last_activities", person_id=person_id)
        return body if isinstance(body, dict) else {}

    async def history(self, person_id: int, *, start_at: str | None, end_at: str | None,
                      on_page: Callable[[int, list[Play]], Awaitable[None]],
                      skip_pages: frozenset[int] = frozenset()) -> None:
        params = {k: v for k, v in (("start_at", start_at), ("end_at", end_at)) if v}

        async def parsed(n: int, raw: bytes) -> None:
            await on_page(n, parse_history_page(raw) if raw else [])

        await self._pages("/sync/history/shows", person_id=person_id, params=params, on_page=parsed,
                          skip_pages=skip_pages)

    async def show_history(self, person_id: int, trakt_id: int) -> list[Play]:
        plays: dict[int, list[Play]] = {}

        async def keep(n: int, raw: bytes) -> None:
            plays[n] = parse_history_page(raw) if raw else []

        await self._pages(f"/sync/history/shows/{int(trakt_id)}", person_id=person_id, on_page=keep)
        return [p for n in sorted(plays) for p in plays[n]]

    async def watched_shows(self, person_id: int) -> list[WatchedShow]:
        rows = await self.get("/sync/watched/shows", person_id=person_id, params={"extended": "noseasons"}) or []
        out = []
        for r in rows:
            if isinstance(r, dict) and isinstance(r.get("show"), dict):
                ref = parse_show(r["show"])
                if ref.ids.trakt is not None:
                    lu = r.get("last_updated_at")
                    out.append(WatchedShow(ref, int(r.get("plays") or 0), lu if isinstance(lu, str) else None))
        return out

    async def ratings(self, person_id: int) -> list[Listed]:
        return _listed(await self._optional_pages("/sync/ratings/shows", person_id=person_id), "rated_at", "rating")

    async def watchlist(self, person_id: int) -> list[Listed]:
        return _listed(await self._optional_pages("/sync/watchlist/shows", person_id=person_id), "listed_at")

    async def hidden(self, person_id: int, section: Literal["progress_watched", "dropped"]) -> list[Listed]:
        rows = await self._all_items(f"/users/hidden/{section}", person_id=person_id, params={"type": "show"})
        return _listed(rows, "hidden_at")

    async def recommendations(self, person_id: int, limit: int = 50) -> list[ShowRef]:
        """Trakt's own picks for the person, kept in this process for ``PERSONAL_TTL`` (a list gathers them on every
        request; Trakt recomputes them far less often). Hiding a show, unlinking or forgetting drops them; nothing of
        it is written anywhere."""
        now = self.clock.now()
        got = self._personal.get((person_id, limit))
        if got is not None and now - got[0] < PERSONAL_TTL:
            return list(got[1])
        refs = _shows(await self.get("/recommendations/shows", person_id=person_id,
                                     params={"limit": limit, "ignore_collected": "true"}))
        self._personal[(person_id, limit)] = (now, tuple(refs))
        while len(self._personal) > PERSONAL_MAX:
            self._personal.pop(next(iter(self._personal)))
        return refs

    def _drop_personal(self, person_id: int) -> None:
        for key in [k for k in self._personal if k[0] == person_id]:
            del self._personal[key]

    async def forget_tokens(self, person_id: int) -> None:
        self._drop_personal(person_id)
        await super().forget_tokens(person_id)

    async def _shared(self, key: str, ttl: timedelta, fetch: Callable[[], Awaitable[Any]]) -> Any:
        if self.cache is None:
            return await fetch()
        return await self.cache.get_or_fetch(key, ttl, fetch)

    async def public_shows(self, which: PublicList, limit: int = 40) -> list[ShowRef]:
        """Trending, popular or anticipated shows (everyone's, cached for an hour)."""
        async def fetch() -> Any:
            return (await self.page(f"/shows/{which}", 1, limit=limit)).items
        return _shows(await self._shared(f"trakt:/shows/{which}?limit={limit}", timedelta(hours=1), fetch))

    async def related(self, trakt_id: int, limit: int = 30) -> list[ShowRef]:
        """Shows Trakt relates to this one (cached for a day)."""
        async def fetch() -> Any:
            resp = await self.request("GET", f"/shows/{int(trakt_id)}/related", params={"limit": limit},
                                      accept=(404,))
            # a show Trakt does not know answers 404: remembered as "nothing related" for the day like any answer,
            # so it is not asked again on every request that holds it (outages and limits are not cached)
            return [] if resp.status_code == 404 or not resp.content else resp.json()
        return _shows(await self._shared(f"trakt:related:{int(trakt_id)}?limit={limit}", timedelta(days=1), fetch))

    async def calendar(self, which: Literal["premieres", "finales"], start: date, days: int,
                       ttl: timedelta = timedelta(hours=6)) -> list[CalendarEntry]:
        """Trakt's public premieres or finales calendar (at most 33 days), cached for ``ttl``."""
        async def fetch() -> Any:
            return await self.get(f"/calendars/all/shows/{which}/{start.isoformat()}/{days}",
                                  params={"extended": "full"}) or []
        rows = await self._shared(f"trakt:calendar:{which}:{start.isoformat()}:{days}", ttl, fetch)
        out = []
        for r in rows or []:
            if not isinstance(r, dict):
                continue
            ep, show = r.get("episode") or {}, r.get("show") or {}
            at = parse_ts(r.get("first_aired")) if isinstance(r.get("first_aired"), str) else None
            if isinstance(show, dict) and (show.get("ids") or {}).get("trakt") and at and ep.get("season"):
                out.append(CalendarEntry(parse_show(show), int(ep["season"]), int(ep.get("number") or 0), at))
        return out

    async def my_calendar(self, person_id: int, start: date, days: int) -> list[CalendarEntry]:
        """Episodes of the shows the person watches airing in [start, start + days) with their exact times
        (``/calendars/my/shows``, at most 33 days a request; not cached: it follows what they watch)."""
        out = []
        for r in await self.get(f"/calendars/my/shows/{start.isoformat()}/{min(days, 33)}", person_id=person_id,
                                params={"extended": "full"}) or []:
            if not isinstance(r, dict):
                continue
            ep, show = r.get("episode") or {}, r.get("show") or {}
            at = parse_ts(r.get("first_aired")) if isinstance(r.get("first_aired"), str) else None
            if isinstance(show, dict) and isinstance(ep, dict) and at and ep.get("season") and ep.get("number"):
                rt = ep.get("runtime")
                out.append(CalendarEntry(parse_show(show), int(ep["season"]), int(ep["number"]), at,
                                         ep.get("title") if isinstance(ep.get("title"), str) else None,
                                         int(rt) if isinstance(rt, int | float) and rt > 0 else None))
        return out

    async def public_page(self, path: str, page: int = 1, limit: int | None = None) -> Page | None:
        """One page of a public endpoint (no person's token); None when Trakt will not show it to us: a private
        or deleted member (401, 403, 404). Rate limits and outages go through the shared HTTP policy."""
        url = f"{self.base}{path}"
        resp = await self.http.request("GET", url, params={"page": page, "limit": limit or self.settings.page_limit},
                                       headers=self._headers())
        if resp.status_code in (401, 403, 404):
            return None
        self._raise_for_status(resp)
        h = resp.headers
        total = h.get("X-Pagination-Item-Count")
        items = msgspec.json.decode(resp.content) if resp.content else []
        return Page(items if isinstance(items, list) else [], page, int(h.get("X-Pagination-Page-Count") or 1),
                    int(total) if total else None)

    async def add_to_watchlist(self, person_id: int, ids: ShowIds) -> None:
        await self.request("POST", "/sync/watchlist", person_id=person_id, json={"shows": [{"ids": wire_ids(ids)}]})

    async def publish_list(self, person_id: int, name: str, description: str,
                           shows: Sequence[ShowIds]) -> tuple[int, int]:
        """Make the person's personal list ``name`` hold exactly these shows, in this order of adding (created
        private on first use; found again by its name). Returns (added, removed). A free account with no room for
        another list raises ``TraktAccountLimit``."""
        lists = await self.get("/users/me/lists", person_id=person_id) or []
        found = next((x for x in lists if isinstance(x, dict) and x.get("name") == name), None)
        if found is None:
            resp = await self.request("POST", "/users/me/lists", person_id=person_id, json={
                "name": name, "description": description, "privacy": "private", "display_numbers": True,
                "allow_comments": False, "sort_by": "rank", "sort_how": "asc"})
            found = resp.json()
        key = (found.get("ids") or {}).get("trakt")
        items = await self.get(f"/users/me/lists/{key}/items/shows", person_id=person_id) or []
        have = {int(t) for r in items if isinstance(r, dict) and (t := ((r.get("show") or {}).get("ids") or {}).get(
            "trakt")) is not None}
        want = {i.trakt for i in shows if i.trakt is not None}
        add = [i for i in shows if i.trakt is not None and i.trakt not in have]     # the list speaks Trakt ids
        gone = sorted(have - want)
        if add:
            await self.request("POST", f"/users/me/lists/{key}/items", person_id=person_id,
                               json={"shows": [{"ids": wire_ids(i)} for i in add]})
        if gone:
            await self.request("POST", f"/users/me/lists/{key}/items/remove", person_id=person_id,
                               json={"shows": [{"ids": {"trakt": t}} for t in gone]})
        return len(add), len(gone)

    # -- writing back (``/settings trakt:write``): each idempotent on Trakt's side ----------------------------------
    async def mark_watched(self, person_id: int, ids: ShowIds, upto: tuple[int, int] | None = None) -> int:
        """Every aired episode of the show — or, with ``upto`` (season, episode), the seasons before it and that
        season up to that episode — marked watched at its air date (``watched_at: released``: the history keeps
        when it aired, not a made-up evening); the number of episodes Trakt added."""
        show: dict[str, Any] = {"ids": wire_ids(ids), "watched_at": "released"}
        if upto is not None:
            season, episode = upto
            show["seasons"] = [{"number": n, "watched_at": "released"} for n in range(1, season)] + [
                {"number": season, "episodes": [{"number": n, "watched_at": "released"}
                                                 for n in range(1, episode + 1)]}]
        resp = await self.request("POST", "/sync/history", person_id=person_id, once=True,   # adds every time
                                  json={"shows": [show]})
        added = (resp.json() or {}).get("added") or {} if resp.content else {}
        return int(added.get("episodes") or 0)

    async def rate(self, person_id: int, ids: ShowIds, rating: int | None, at: datetime) -> None:
        """A 1–10 rating of the show on Trakt, or (``None``) its rating removed."""
        if rating is None:
            await self.request("POST", "/sync/ratings/remove", person_id=person_id,
                               json={"shows": [{"ids": wire_ids(ids)}]})
            return
        stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        await self.request("POST", "/sync/ratings", person_id=person_id,
                           json={"shows": [{"ids": wire_ids(ids), "rating": int(rating), "rated_at": stamp}]})

    async def hide_recommendation(self, person_id: int, ids: ShowIds, hidden: bool) -> None:
        """Keep the show out of Trakt's own recommendations for the person (and let it back)."""
        self._drop_personal(person_id)
        if hidden:
            key = ids.trakt or ids.slug or ids.imdb
            if key is None:
                return
            await self.request("DELETE", f"/recommendations/shows/{key}", person_id=person_id, accept=(404,))
            return
        await self.request("POST", "/users/hidden/recommendations/remove", person_id=person_id,
                           json={"shows": [{"ids": wire_ids(ids)}]})
