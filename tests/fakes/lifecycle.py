"""Where shows stand in their lifecycle, shared by the Trakt and TMDB fakes so their calendars agree.

By default a third of the catalogue's running shows (``tmdb_id % 3 == 0``) have their next season's premiere
announced for ``today + 7 + tmdb_id % 60`` days (TMDB's ``next_episode_to_air``, Trakt's premieres calendar), and a
ninth (``tmdb_id % 9 == 1``) finished a season in the last twelve days (a finale on both).
Tests pin what they need: ``premiere(entry, season, at)`` announces a season; ``finale(entry, season, episodes, at)``
says a season ended (``last_episode_to_air`` with ``episode_type`` ``finale``, Trakt's finales calendar).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from engine.values.catalogue import catalogue_meta

from .catalogue import catalogue, trakt_show


@dataclass(frozen=True)
class Airing:
    season: int
    episode: int
    at: datetime                 # UTC
    type: str                    # standard | season_premiere | series_premiere | season_finale | series_finale


@dataclass
class Lifecycle:
    today: date = field(default_factory=lambda: datetime.now(UTC).date())
    next_: dict[int, Airing | None] = field(default_factory=dict)     # tmdb id -> announced next episode
    last: dict[int, Airing] = field(default_factory=dict)             # tmdb id -> last aired episode
    status: dict[int, str] = field(default_factory=dict)

    def premiere(self, e: dict[str, Any], season: int, at: datetime) -> None:
        self.next_[e["tmdb_id"]] = Airing(season, 1, at, "season_premiere" if season > 1 else "series_premiere")
        self.status[e["tmdb_id"]] = "Returning Series"

    def finale(self, e: dict[str, Any], season: int, episodes: int, at: datetime, *, ended: bool = False) -> None:
        self.last[e["tmdb_id"]] = Airing(season, episodes, at, "series_finale" if ended else "season_finale")
        self.next_[e["tmdb_id"]] = None
        self.status[e["tmdb_id"]] = "Ended" if ended else "Returning Series"

    def next_episode(self, e: dict[str, Any], seasons: int) -> Airing | None:
        if e["tmdb_id"] in self.next_:
            return self.next_[e["tmdb_id"]]
        if e["status"] == "returning series" and e["tmdb_id"] % 3 == 0:
            day = self.today + timedelta(days=7 + e["tmdb_id"] % 60)
            return Airing(seasons + 1, 1, datetime.combine(day, time(1, 0), UTC), "season_premiere")
        return None

    def last_episode(self, e: dict[str, Any], seasons: int) -> Airing | None:
        """A pinned finale, or by default: a ninth of running shows (``tmdb_id % 9 == 1``) finished a season
        ``1 + tmdb_id % 12`` days ago (binge-ready)."""
        if e["tmdb_id"] in self.last:
            return self.last[e["tmdb_id"]]
        if e["status"] == "returning series" and e["tmdb_id"] % 9 == 1 and e["tmdb_id"] not in self.next_:
            day = self.today - timedelta(days=1 + e["tmdb_id"] % 12)
            return Airing(seasons, int(e["episodes_per_season"]), datetime.combine(day, time(2, 0), UTC),
                          "season_finale")
        return None

    def calendar(self, which: str, start: date, days: int) -> list[dict[str, Any]]:
        """Trakt's /calendars/all/shows[/premieres|/finales|/new] rows in [start, start + days)."""
        lo = datetime.combine(start, time(0), UTC)
        hi = lo + timedelta(days=days)
        rows = []
        for e in catalogue():
            if not e.get("tmdb_id"):
                continue
            seasons = int(catalogue_meta(e).number_of_seasons or 1)
            for a in (self.next_episode(e, seasons), self.last_episode(e, seasons)):
                if a is None or not lo <= a.at < hi:
                    continue
                if which == "premieres" and not a.type.endswith("premiere"):
                    continue
                if which == "finales" and not a.type.endswith("finale"):
                    continue
                if which == "new" and a.type != "series_premiere":
                    continue
                rows.append({"first_aired": a.at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                             "episode": {"season": a.season, "number": a.episode, "title": f"Episode {a.episode}",
                                         "ids": {"trakt": e["trakt_id"] * 1000 + a.season * 100 + a.episode,
                                                 "tmdb": None, "imdb": None, "tvdb": None},
                                         "episode_type": a.type},
                             "show": trakt_show(e)})
        return sorted(rows, key=lambda r: (r["first_aired"], r["show"]["ids"]["trakt"]))
