"""What Jellyfin, Emby and Plex share when they name a show: ids as loose JSON, and a series matched to a show by
its TMDB, TVDB or IMDb id only (never guessed by title)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.values.models import ShowIds, ShowRef


def as_int(v: Any) -> int | None:
    """A whole number a server sent as a number or as digits (ids, years, counts); None for anything else."""
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if isinstance(v, str) and v.isascii() and v.isdigit() and len(v) < 12:
        return int(v)
    return None


def server_ref(ids: Mapping[str, Any], title: Any, year: Any) -> ShowRef | None:
    """A server's series as a show, by the ids it carries (keys ``tmdb``/``tvdb``/``imdb``); None without any —
    a series is never matched by its title."""
    imdb = ids.get("imdb") if isinstance(ids.get("imdb"), str) and str(ids.get("imdb")).startswith("tt") else None
    ref_ids = ShowIds(tmdb=as_int(ids.get("tmdb")), tvdb=as_int(ids.get("tvdb")), imdb=imdb)
    if ref_ids.tmdb is None and ref_ids.tvdb is None and ref_ids.imdb is None:
        return None
    return ShowRef(ids=ref_ids, title=str(title or "").strip()[:300] or "?", year=as_int(year))
