"""Trakt's payloads decoded once, at this edge: typed rows (msgspec) for history pages, lenient parsing for the rest,
ids and titles bounded before anything is stored."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import msgspec

from engine.ports.trakt import Listed
from engine.values.models import IMDB_RE, SLUG_RE, Play, ShowIds, ShowRef
from engine.values.times import iso, parse_ts


# -- the wire, decoded -------------------------------------------------------------------------------------------
class _Ids(msgspec.Struct):
    trakt: int | None = None
    tmdb: int | None = None
    imdb: str | None = None
    tvdb: int | None = None
    slug: str | None = None


class _Show(msgspec.Struct):
    title: str | None = None
    year: int | None = None
    ids: _Ids | None = None
    aired_episodes: int | None = None


class _Episode(msgspec.Struct):
    season: int | None = None
    number: int | None = None
    title: str | None = None


class _HistoryRow(msgspec.Struct):
    id: int | None = None
    watched_at: str | None = None
    action: str | None = None
    type: str = "episode"
    episode: _Episode | None = None
    show: _Show | None = None


_history_page = msgspec.json.Decoder(list[_HistoryRow])


def _clean_int(v: Any) -> int | None:
    try:
        return int(v) if v not in (None, "", 0, "0") and not isinstance(v, bool) else None
    except (TypeError, ValueError):
        return None


MAX_ID = 2**31 - 1
MAX_TITLE = 300


def _id(v: Any) -> int | None:
    n = _clean_int(v)
    return n if n is not None and 0 < n <= MAX_ID else None


def clean_title(v: Any) -> str:
    """A title as text people can be shown: no control characters, no line breaks, at most ``MAX_TITLE``."""
    text = "".join(ch if ch.isprintable() else " " for ch in str(v)) if v else ""
    return " ".join(text.split())[:MAX_TITLE] or "?"


def parse_ids(raw: Mapping[str, Any] | None) -> ShowIds:
    """Ids as they must look (a positive integer, ``tt1234567``, a lower-case slug of at most 100 characters);
    anything else is no id — a file or a payload never puts a link or a markup string into a shared show row."""
    raw = raw or {}
    imdb = raw.get("imdb")
    slug = raw.get("slug")
    return ShowIds(trakt=_id(raw.get("trakt")), tmdb=_id(raw.get("tmdb")),
                   imdb=imdb if isinstance(imdb, str) and IMDB_RE.fullmatch(imdb) else None,
                   tvdb=_id(raw.get("tvdb")),
                   slug=slug if isinstance(slug, str) and len(slug) <= 100 and SLUG_RE.fullmatch(slug) else None)


def parse_show(raw: Mapping[str, Any]) -> ShowRef:
    aired = raw.get("aired_episodes")
    year = raw.get("year")
    return ShowRef(ids=parse_ids(raw.get("ids")), title=clean_title(raw.get("title")),
                   year=year if isinstance(year, int) and not isinstance(year, bool) and 1870 < year < 2200 else None,
                   aired_episodes=aired if isinstance(aired, int) and not isinstance(aired, bool) and 0 <= aired
                   < 100_000 else None)


def parse_history_item(item: Mapping[str, Any]) -> Play | None:
    """One row of /sync/history/shows (or an export's history); None for rows that are not episodes of a show."""
    if item.get("type", "episode") != "episode" or not isinstance(item.get("show"), dict) \
            or not isinstance(item.get("episode"), dict):
        return None
    ep = item["episode"]
    watched = parse_ts(item.get("watched_at")) if isinstance(item.get("watched_at"), str) else None
    season = _clean_int(ep.get("season")) if ep.get("season") != 0 else 0
    if watched is None or season is None:
        return None
    hid = item.get("id")
    return Play(show=parse_show(item["show"]), season=season, episode=_clean_int(ep.get("number")),
                watched_at=watched, history_id=hid if isinstance(hid, int) else None,
                action=item.get("action") if isinstance(item.get("action"), str) else None,
                episode_title=ep.get("title") if isinstance(ep.get("title"), str) else None)


_CANONICAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\Z").match    # what ``iso`` writes


def parse_history_page(raw: bytes) -> list[Play]:
    """A page of /sync/history/shows: typed decoding, each show's ids turned into a ShowRef once."""
    try:
        rows = _history_page.decode(raw)
    except msgspec.ValidationError:
        data = msgspec.json.decode(raw)
        return [p for item in data if isinstance(item, dict) and (p := parse_history_item(item)) is not None]
    shows: dict[tuple[Any, ...], ShowRef] = {}
    out: list[Play] = []
    for r in rows:
        if r.type != "episode" or r.show is None or r.episode is None or r.episode.season is None:
            continue
        stamp = r.watched_at
        if stamp is None:
            continue
        if _CANONICAL(stamp):                         # Trakt's own form: parsed once, stored as sent
            watched = datetime.fromisoformat(stamp)
        else:
            parsed = parse_ts(stamp)
            if parsed is None:
                continue
            watched, stamp = parsed, iso(parsed)
        s = r.show
        ids = s.ids or _Ids()
        key = (ids.trakt, ids.tmdb, ids.imdb, ids.tvdb, ids.slug, s.title, s.year, s.aired_episodes)
        ref = shows.get(key)
        if ref is None:
            ref = shows[key] = ShowRef(
                ShowIds(trakt=ids.trakt or None, tmdb=ids.tmdb or None, imdb=ids.imdb or None, tvdb=ids.tvdb or None,
                        slug=ids.slug or None), s.title or "?", s.year, s.aired_episodes)
        out.append(Play(ref, r.episode.season, r.episode.number, watched, r.id, r.action, r.episode.title, stamp))
    return out


def _listed(rows: list[Any], when: str, value: str | None = None) -> list[Listed]:
    out: list[Listed] = []
    for r in rows:
        if not isinstance(r, dict) or not isinstance(r.get("show"), dict):
            continue
        v: Any = None
        if value is not None:
            v = r.get(value)
            if not isinstance(v, int) or not 1 <= v <= 10:
                continue
        out.append((parse_show(r["show"]), r.get(when) if isinstance(r.get(when), str) else None, v))
    return out


def _shows(rows: Any) -> list[ShowRef]:
    """Trakt lists come as shows, or as rows that embed one (trending: {watchers, show})."""
    out = []
    for row in rows or []:
        show = row.get("show", row) if isinstance(row, dict) else None
        if isinstance(show, dict) and show.get("ids"):
            ref = parse_show(show)
            if ref.ids.trakt or ref.ids.tmdb:
                out.append(ref)
    return out


def wire_ids(ids: ShowIds) -> dict[str, Any]:
    return {k: v for k, v in (("trakt", ids.trakt), ("tmdb", ids.tmdb), ("imdb", ids.imdb), ("slug", ids.slug)) if v}


def refs_by_trakt(refs: Sequence[ShowRef]) -> dict[int, ShowRef]:
    return {r.ids.trakt: r for r in refs if r.ids.trakt is not None}
