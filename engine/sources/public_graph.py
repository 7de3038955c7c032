"""Trakt's public graph: the members who rated a show (found through its comments, each carrying the author's
rating) and their public show ratings — read only as far as a request budget allows, cached in the store.

Collaborative filtering for a person alone (issue 14): ``multitudes eval --strategies lone`` measures it (the members
found become a small co-watching population beside the global lists, ``engine.evaluation.lone``) and the live bot
reads it in the background (``engine.crowd``), never on a request's path. Private and deleted members are skipped
(and remembered as such); strangers are never named to anyone.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol
from urllib.parse import quote

from ..caching import CachedLookups
from ..clock import parse_ts
from ..models import ShowRef
from .trakt import Page, parse_show

log = logging.getLogger(__name__)

TTL = timedelta(days=7)            # tastes move slowly; a week-old rating list is still a good neighbour


@dataclass
class Budget:
    """Requests one refresh may put on the wire (a cached answer costs nothing)."""
    limit: int
    spent: int = 0

    @property
    def left(self) -> int:
        return max(0, self.limit - self.spent)

    def take(self) -> bool:
        if self.spent >= self.limit:
            return False
        self.spent += 1
        return True


@dataclass(frozen=True)
class Member:
    username: str
    ratings: dict[int, int] = field(default_factory=dict)      # Trakt show id -> rating 1-10
    rated_at: dict[int, float] = field(default_factory=dict)   # Trakt show id -> when (epoch seconds), if known
    shows: dict[int, ShowRef] = field(default_factory=dict)    # Trakt show id -> the show as Trakt named it


@dataclass(frozen=True)
class Rated:
    trakt_id: int
    rating: int
    at: float | None
    show: ShowRef


class PublicSource(Protocol):
    """What the graph reads: one page of a public Trakt endpoint, None when it is not public. ``TraktClient`` is
    one; the evaluation's adapter over a dataset's other people is another (the same calls, counted the same)."""

    async def public_page(self, path: str, page: int = 1, limit: int | None = None) -> Page | None: ...


class PublicGraph:
    def __init__(self, trakt: PublicSource, cache: CachedLookups | None, *, page_limit: int = 100) -> None:
        self.trakt = trakt
        self.cache = cache
        self.page_limit = page_limit

    async def _cached(self, key: str, budget: Budget, path: str) -> Any:
        """The cached body, else one request if the budget allows (None: not affordable, or not public)."""
        if self.cache is not None:
            hit = await self.cache.get(key)
            if hit is not None:
                return hit
        if not budget.take():
            return None
        page = await self.trakt.public_page(path, 1, self.page_limit)
        body: Any = {"private": True} if page is None else page.items
        if self.cache is not None:
            await self.cache.put(key, body, TTL)
        return body

    async def raters(self, trakt_id: int, budget: Budget, sort: str = "likes") -> list[tuple[str, int]]:
        """(username, their rating of the show) for public members who commented on it with a rating."""
        rows = await self._cached(f"trakt:comments:{int(trakt_id)}:{sort}:{self.page_limit}", budget,
                                  f"/shows/{int(trakt_id)}/comments/{sort}")
        out: list[tuple[str, int]] = []
        for r in rows if isinstance(rows, list) else []:
            user = r.get("user") if isinstance(r, dict) else None
            stats = r.get("user_stats") if isinstance(r, dict) else None
            if not isinstance(user, dict) or user.get("private") or user.get("deleted"):
                continue
            name = (user.get("ids") or {}).get("slug") or user.get("username")
            rating = (stats or {}).get("rating") if isinstance(stats, dict) else None
            if isinstance(name, str) and name and isinstance(rating, int) and 1 <= rating <= 10:
                out.append((name, rating))
        return out

    async def ratings(self, username: str, budget: Budget) -> list[Rated] | None:
        """A member's public show ratings (first page, the most recent); None for a private profile or when the
        budget is spent."""
        rows = await self._cached(f"trakt:user-ratings:{username}:{self.page_limit}", budget,
                                  f"/users/{quote(username, safe='')}/ratings/shows")
        if not isinstance(rows, list):
            return None
        out: list[Rated] = []
        for r in rows:
            show = r.get("show") if isinstance(r, dict) else None
            tid = ((show or {}).get("ids") or {}).get("trakt") if isinstance(show, dict) else None
            rating = r.get("rating") if isinstance(r, dict) else None
            if isinstance(show, dict) and isinstance(tid, int) and isinstance(rating, int) and 1 <= rating <= 10:
                when = r.get("rated_at")
                at = parse_ts(when) if isinstance(when, str) else None
                out.append(Rated(tid, rating, at.timestamp() if at is not None else None, parse_show(show)))
        return out

    async def around(self, seeds: Sequence[int], budget: Budget, *, people: int = 40) -> list[Member]:
        """Members near these shows: who rated several of them (and liked them) first, then their ratings, while
        the budget lasts. Half the budget at most goes to finding people, the rest to reading them."""
        finding_until = budget.spent + min(len(seeds), budget.left // 2 or 1)
        seen: dict[str, list[int]] = {}
        for tid in seeds:
            if budget.spent >= finding_until:
                break
            for name, rating in await self.raters(tid, budget):
                seen.setdefault(name, []).append(rating)
        ranked = sorted(seen, key=lambda u: (-len(seen[u]), -sum(seen[u]) / len(seen[u]), u))
        out: list[Member] = []
        for name in ranked[:people]:
            got = await self.ratings(name, budget)
            if got:
                out.append(Member(name, {r.trakt_id: r.rating for r in got},
                                  {r.trakt_id: r.at for r in got if r.at is not None},
                                  {r.trakt_id: r.show for r in got}))
            elif not budget.left:
                break
        return out
