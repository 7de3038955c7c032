"""Trakt's public graph: the members who rated a show (found through its comments, each carrying the author's
rating) and their public show ratings — read only as far as a request budget allows, cached in the store.

Collaborative filtering for a person alone (issue 14): ``multitudes eval --strategies lone`` measures it (the members
found become a small co-watching population beside the global lists, ``engine.evaluation.lone``) and the live bot
reads it in the background (``engine.usecases.crowd_refresh``), never on a request's path. Private and deleted
members are skipped (and remembered as such); strangers are never named to anyone. It reads through
``engine.ports.trakt.PublicSource``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from engine.formats.trakt_json import parse_show
from engine.plumbing.caching import CachedLookups
from engine.ports.trakt import PublicSource
from engine.values.models import ShowRef
from engine.values.times import parse_ts

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


class PublicGraph:
    """Strangers are known here only by a pseudonym (a keyed hash of their username); their usernames live in
    memory for the length of one refresh (to ask for their ratings), and what is cached is reduced before it is
    stored: (pseudonym, rating) pairs of a show's raters, a member's ratings by show — no name, no comment text."""

    def __init__(self, trakt: PublicSource, cache: CachedLookups | None, *, page_limit: int = 100,
                 salt: bytes = b"multitudes-public-graph") -> None:
        """``salt``: the key of the pseudonyms (the bot derives it from its secret key, so a pseudonym cannot be
        reversed by hashing known usernames; one salt gives one order, across refreshes and processes)."""
        self.trakt = trakt
        self.cache = cache
        self.page_limit = page_limit
        self.salt = salt
        self._names: dict[str, str] = {}                   # pseudonym -> username, this refresh only

    def pseudonym(self, username: str) -> str:
        return hmac.new(self.salt, username.encode(), hashlib.sha256).hexdigest()[:20]

    async def _cached(self, key: str, budget: Budget, path: str, reduce: Any) -> Any:
        """The cached (reduced) body, else one request if the budget allows (None: not affordable, or not public).
        ``reduce`` turns a page into what may be kept."""
        if self.cache is not None:
            hit = await self.cache.get(key)
            if hit is not None:
                return hit
        if not budget.take():
            return None
        page = await self.trakt.public_page(path, 1, self.page_limit)
        body: Any = {"private": True} if page is None else reduce(page.items)
        if self.cache is not None:
            await self.cache.put(key, body, TTL)
        return body

    def _raters_of(self, rows: list[Any]) -> list[list[Any]]:
        """A comment page as [pseudonym, rating] pairs; the usernames are remembered for this refresh only."""
        out: list[list[Any]] = []
        for r in rows:
            user = r.get("user") if isinstance(r, dict) else None
            stats = r.get("user_stats") if isinstance(r, dict) else None
            if not isinstance(user, dict) or user.get("private") or user.get("deleted"):
                continue
            name = (user.get("ids") or {}).get("slug") or user.get("username")
            rating = (stats or {}).get("rating") if isinstance(stats, dict) else None
            if isinstance(name, str) and name and isinstance(rating, int) and 1 <= rating <= 10:
                who = self.pseudonym(name)
                self._names[who] = name
                out.append([who, rating])
        return out

    async def raters(self, trakt_id: int, budget: Budget, sort: str = "likes") -> list[tuple[str, int]]:
        """(pseudonym, their rating of the show) for public members who commented on it with a rating."""
        rows = await self._cached(f"trakt:raters:{int(trakt_id)}:{sort}:{self.page_limit}", budget,
                                  f"/shows/{int(trakt_id)}/comments/{sort}", self._raters_of)
        return [(str(w), int(r)) for w, r in rows] if isinstance(rows, list) else []

    @staticmethod
    def _ratings_of(rows: list[Any]) -> list[dict[str, Any]]:
        """A ratings page as the shows and ratings alone."""
        out = []
        for r in rows:
            show = r.get("show") if isinstance(r, dict) else None
            tid = ((show or {}).get("ids") or {}).get("trakt") if isinstance(show, dict) else None
            rating = r.get("rating") if isinstance(r, dict) else None
            if isinstance(show, dict) and isinstance(tid, int) and isinstance(rating, int) and 1 <= rating <= 10:
                when = r.get("rated_at")
                out.append({"rating": rating, "rated_at": when if isinstance(when, str) else None,
                            "show": {k: show.get(k) for k in ("title", "year", "ids", "aired_episodes")}})
        return out

    async def ratings(self, who: str, budget: Budget) -> list[Rated] | None:
        """A member's public show ratings (first page, the most recent) by pseudonym; None for a private profile,
        when the budget is spent, or when their name is no longer known (only a cached page of raters)."""
        key = f"trakt:member-ratings:{who}:{self.page_limit}"
        name = self._names.get(who)
        if name is None:
            rows = await self.cache.get(key) if self.cache is not None else None
        else:
            rows = await self._cached(key, budget, f"/users/{quote(name, safe='')}/ratings/shows", self._ratings_of)
        if not isinstance(rows, list):
            return None
        out: list[Rated] = []
        for r in rows:
            show = r["show"]
            at = parse_ts(r["rated_at"]) if r.get("rated_at") else None
            out.append(Rated(int(show["ids"]["trakt"]), int(r["rating"]), at.timestamp() if at is not None else None,
                             parse_show(show)))
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
        self._names.clear()
        return out
