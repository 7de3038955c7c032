"""Imports for people without API access: a Trakt data export (JSON) and a Netflix viewing-activity CSV.

Parsing is strict and complete before anything is written: a malformed or oversized file raises InvalidImport
and the store is untouched. Netflix titles are matched to shows by exact normalised title with first-air-year
disambiguation (the show must have started by the first time it was watched); what does not match is reported,
never guessed.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import unicodedata
import zipfile
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..aio import run_all
from ..clock import parse_ts
from ..errors import InvalidImport
from ..models import Play, ShowIds, ShowRef
from ..vocabulary import norm_title
from .tmdb import SearchHit
from .trakt import parse_history_item, parse_show


@dataclass
class ParsedImport:
    kind: str
    plays: list[Play] = field(default_factory=list)
    ratings: list[tuple[ShowRef, str | None, int]] = field(default_factory=list)
    watchlist: list[tuple[ShowRef, str | None, None]] = field(default_factory=list)
    hidden: list[tuple[ShowRef, str | None, None]] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    rows: int = 0
    not_looked_up: list[str] = field(default_factory=list)     # past the look-up bound: reported, not guessed
    bad: list[str] = field(default_factory=list)               # "line N: why", rows skipped as unreadable
    rows_unmatched: int = 0                                    # episode rows of titles not matched to a show
    rows_not_looked_up: int = 0                                # episode rows of titles past the look-up bound


def detect_kind(name: str, data: bytes) -> str:
    head = data[:4096].lstrip(b"\xef\xbb\xbf").lstrip()
    if data[:2] == b"PK" or head[:1] in (b"[", b"{"):
        return "trakt"
    first = head.split(b"\n", 1)[0].decode("utf-8", "replace").lower()
    if "title" in first and "date" in first:
        return "netflix"
    raise InvalidImport(f"{name!r} is neither a Trakt export (JSON or zip) nor a Netflix CSV (Title,Date).")


def gunzip_bounded(data: bytes, limit: int) -> bytes:
    d = zlib.decompressobj(wbits=31)
    try:
        out = d.decompress(data, limit + 1)
    except zlib.error as e:
        raise InvalidImport("the file looks gzipped but does not unpack.") from e
    if len(out) > limit or d.unconsumed_tail:
        raise InvalidImport(f"the file unpacks to more than {limit:,} bytes.")
    return out


# -- Trakt export ------------------------------------------------------------------------------------------------
def _json_documents(name: str, data: bytes, max_bytes: int) -> Iterable[tuple[str, Any]]:
    if data[:2] == b"PK":
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile as e:
            raise InvalidImport(f"{name!r} is not a readable zip file.") from e
        total = sum(i.file_size for i in zf.infolist())
        if total > max_bytes:
            raise InvalidImport(f"the export unpacks to {total:,} bytes, more than the {max_bytes:,} allowed.")
        left = max_bytes
        for info in zf.infolist():
            if info.filename.endswith(".json") and not info.is_dir():
                try:                         # read bounded: a zip may understate what a member unpacks to
                    with zf.open(info) as f:
                        raw = f.read(left + 1)
                except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as e:
                    raise InvalidImport(f"{info.filename!r} in the zip does not unpack ({type(e).__name__}).") from e
                if len(raw) > left:
                    raise InvalidImport(f"the export unpacks to more than the {max_bytes:,} bytes allowed.")
                left -= len(raw)
                yield info.filename, _loads(info.filename, raw)
        return
    yield name, _loads(name, data)


def _loads(name: str, data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InvalidImport(f"{name!r} is not valid JSON ({e}).") from e
    except RecursionError as e:
        raise InvalidImport(f"{name!r} is nested too deeply to be a Trakt export.") from e


def _shape(rows: list[Any]) -> str | None:
    sample = next((r for r in rows if isinstance(r, dict)), None)
    if sample is None:
        return None
    if "watched_at" in sample and ("episode" in sample or "movie" in sample):
        return "history"
    if "rating" in sample and "rated_at" in sample:
        return "ratings"
    if "listed_at" in sample:
        return "watchlist"
    if "hidden_at" in sample:
        return "hidden"
    if "plays" in sample and "show" in sample:
        return "watched"
    return None


def parse_trakt_export(name: str, data: bytes, max_rows: int, max_bytes: int) -> ParsedImport:
    out = ParsedImport(kind="trakt")
    watched_fallback: list[Play] = []
    found = False

    def visit(doc_name: str, doc: Any) -> None:
        nonlocal found
        if isinstance(doc, dict):
            for k, v in doc.items():
                if isinstance(v, list | dict):
                    visit(f"{doc_name}:{k}", v)
            return
        if not isinstance(doc, list) or not doc:
            return
        shape = _shape(doc)
        if shape is None:
            return
        found = True
        out.rows += len(doc)
        if out.rows > max_rows:
            raise InvalidImport(f"the export has more than {max_rows:,} rows.")
        for i, row in enumerate(doc):
            if not isinstance(row, dict):
                raise InvalidImport(f"{doc_name} row {i + 1} is not an object.")
            try:
                _row(shape, row, out, watched_fallback)
            except (KeyError, TypeError, ValueError) as e:
                raise InvalidImport(f"{doc_name} row {i + 1} is malformed ({type(e).__name__}: {e}).") from e
            # what counts is what the file would store: a "watched" row holds one play per episode
            if len(out.plays) + len(watched_fallback) + len(out.ratings) + len(out.watchlist) + len(out.hidden) \
                    > max_rows:
                raise InvalidImport(f"the export has more than {max_rows:,} plays and list entries.")

    for doc_name, doc in _json_documents(name, data, max_bytes):
        visit(doc_name, doc)
    if not found:
        raise InvalidImport(f"{name!r} has no Trakt history, ratings, watchlist or watched shows in it.")
    if not out.plays:
        out.plays = watched_fallback   # only a "watched" summary: one play per episode at its last watch
    return out


def _row(shape: str, row: dict[str, Any], out: ParsedImport, watched: list[Play]) -> None:
    if shape == "history":
        if row.get("type") == "movie" or "movie" in row:
            return
        p = parse_history_item(row)
        if p is None or (p.show.ids.trakt is None and p.show.ids.tmdb is None and not p.show.ids.imdb):
            raise ValueError("history row without a show, episode or watched_at")
        out.plays.append(p)
    elif shape in ("ratings", "watchlist", "hidden"):
        if row.get("type", "show") != "show" or "show" not in row:
            return
        ref = parse_show(row["show"])
        if ref.ids.trakt is None and ref.ids.tmdb is None and not ref.ids.imdb:
            raise ValueError("show without ids")
        if shape == "ratings":
            rating = int(row["rating"])
            if not 1 <= rating <= 10:
                raise ValueError(f"rating {rating} outside 1-10")
            out.ratings.append((ref, row.get("rated_at"), rating))
        elif shape == "watchlist":
            out.watchlist.append((ref, row.get("listed_at"), None))
        else:
            out.hidden.append((ref, row.get("hidden_at"), None))
    elif shape == "watched":
        ref = parse_show(row["show"])
        for season in row.get("seasons") or []:
            for ep in season.get("episodes") or []:
                ts = parse_ts(ep.get("last_watched_at")) or parse_ts(row.get("last_watched_at"))
                if ts is None:
                    raise ValueError("watched episode without last_watched_at")
                watched.append(Play(ref, int(season["number"]), int(ep["number"]), ts))


# -- Netflix viewing activity ------------------------------------------------------------------------------------
# The season part of a Netflix title, in the words Netflix uses (English and the main locales it exports in)
SEASON_RE = re.compile(
    r"^(?:(?:season|series|part|volume|vol\.|book|collection|temporada|parte|staffel|teil|saison|partie|stagione|"
    r"seizoen|deel|sezon|säsong|sæson|sesong|kausi|temporada|시즌|シーズン|第)\s*(\w+)|"
    r"(limited series|miniseries|the complete series|mini-series|miniserie|série limitée|serie limitada))\b",
    re.IGNORECASE,
)
CHAPTER_RE = re.compile(r"^chapter\s+(\w+)\b", re.IGNORECASE)        # only when nothing better names a season
WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
         "ten": 10, "i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10}
ROMAN_OR_DIGITS = r"(\d{1,2}|[ivx]{1,4})"
SHOW_NUMBER_RE = re.compile(r"[\s:]*(?:season\s*)?" + ROMAN_OR_DIGITS + r"$", re.IGNORECASE)
MAX_TITLE = 500            # Netflix titles are short; a longer cell is read only this far
MAX_SEGMENTS = 12


def _number(tok: str) -> int:
    tok = tok.lower()
    return int(tok) if tok.isdigit() else WORDS.get(tok, 0)
DATE_RE = re.compile(r"^(\d{1,4})[./-](\d{1,2})[./-](\d{1,4})$")


@dataclass(frozen=True)
class NetflixRow:
    show: str
    season: int
    episode_title: str | None
    day: tuple[int, int, int]   # parsed later once the date order is known
    raw_date: str
    line: int = 0


def split_netflix_title(title: str) -> tuple[str, int, str | None] | None:
    """A Netflix viewing-activity title as (show, season, episode title); None for films and specials.

    'Breaking Bad: Season 1: Pilot' → ('Breaking Bad', 1, 'Pilot'); the show name repeated with a number
    ('Stranger Things: Stranger Things 4: Chapter One: The Hellfire Club') → season 4; 'Limited Series' → 1;
    'Part 2', 'Volume 1', 'Book One', 'Temporada 2', 'Staffel 3', '시즌 1' …; 'Chapter N' names a season only when
    nothing else does (House of Cards calls its episodes chapters)."""
    segs = [s.strip() for s in unicodedata.normalize("NFC", title[:MAX_TITLE]).split(": ")]
    if len(segs) > MAX_SEGMENTS:            # no show's title has that many parts: the rest is the episode's title
        segs = [*segs[:MAX_SEGMENTS - 1], ": ".join(segs[MAX_SEGMENTS - 1:])]
    show = ""
    for i in range(1, len(segs)):
        show = f"{show}: {segs[i - 1]}" if show else segs[0]
        # the show's name repeated with a number: compared as text, not as a pattern built from the title (a
        # pattern per prefix cost tens of seconds on a crafted 10 KB file)
        head = segs[i][:len(show)]
        again = SHOW_NUMBER_RE.match(segs[i][len(show):]) if head.casefold() == show.casefold() else None
        if again and _number(again.group(1)):
            return show, _number(again.group(1)), (": ".join(segs[i + 1:]) or None)
        m = SEASON_RE.match(segs[i])
        if m:
            num = _number(m.group(1)) if m.group(1) else 1
            if num == 0:
                continue
            return show, num, (": ".join(segs[i + 1:]) or None)
    for i in range(1, len(segs)):
        m = CHAPTER_RE.match(segs[i])
        if m and _number(m.group(1)):
            return ": ".join(segs[:i]), 1, segs[i] + (": " + ": ".join(segs[i + 1:]) if i + 1 < len(segs) else "")
    return None


def _date_parts(raw: str) -> tuple[int, int, int]:
    m = DATE_RE.match(raw.strip())
    if not m:
        raise ValueError(raw)
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def _resolve_dates(rows: list[NetflixRow], bad: list[str]) -> tuple[list[NetflixRow], list[datetime]]:
    """Netflix writes dates in the account's locale: decide Y-M-D, D-M-Y or M-D-Y once for the whole file. A date
    that does not exist in that order (31/02) is a bad row: reported in ``bad`` and left out."""
    parts = [r.day for r in rows]
    if not rows:
        return [], []
    if all(p[0] > 31 for p in parts):
        order = "ymd"
    elif any(p[0] > 12 for p in parts):
        order = "dmy"
    elif any(p[1] > 12 for p in parts):
        order = "mdy"
    else:
        order = "dmy" if any("." in r.raw_date for r in rows) else "mdy"
    kept, out = [], []
    for r, (a, b, c) in zip(rows, parts, strict=True):
        y, mo, d = (a, b, c) if order == "ymd" else ((c, b, a) if order == "dmy" else (c, a, b))
        if y < 100:
            y += 2000
        try:
            # Netflix gives a date only: the time is a fixed placeholder (plays keep their keys across imports);
            # the source marks these plays date-only, and nothing that needs a time of day reads them
            out.append(datetime(y, mo, d, 20, 0, tzinfo=UTC))
        except ValueError:
            bad.append(f"line {r.line}: {r.raw_date!r} is not a valid {order.upper()} date")
            continue
        kept.append(r)
    return kept, out


@dataclass
class NetflixRows:
    rows: list[NetflixRow]
    dates: list[datetime]
    skipped: list[str]          # titles that are not TV episodes
    bad: list[str]              # "line N: why"
    total: int                  # data rows read (blank lines aside)


def parse_netflix_rows(name: str, data: bytes, max_rows: int) -> NetflixRows:
    """Rows that cannot be read (no date, a date that does not exist, a missing column) are reported and skipped;
    the file is refused only when most of it is unreadable."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InvalidImport(f"{name!r} is not UTF-8 text.") from e
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","   # some locales use semicolons
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error) as e:
        raise InvalidImport(f"{name!r} is empty.") from e
    if "title" not in header or "date" not in header:
        raise InvalidImport(f"{name!r} needs a header with Title and Date (Netflix viewing activity).")
    ti, di = header.index("title"), header.index("date")
    rows: list[NetflixRow] = []
    skipped: list[str] = []
    bad: list[str] = []
    total = 0
    try:
        for n, rec in enumerate(reader, start=2):
            if not rec or all(not c.strip() for c in rec):
                continue
            total += 1
            if total > max_rows:
                raise InvalidImport(f"the file has more than {max_rows:,} rows.")
            if len(rec) <= max(ti, di):
                bad.append(f"line {n}: {len(rec)} column(s), expected Title and Date")
                continue
            title, raw_date = rec[ti].strip(), rec[di].strip()
            try:
                day = _date_parts(raw_date)
            except ValueError:
                bad.append(f"line {n}: {raw_date!r} is not a date")
                continue
            if not title:
                bad.append(f"line {n}: no title")
                continue
            parts = split_netflix_title(title)
            if parts is None:
                skipped.append(title)
                continue
            rows.append(NetflixRow(parts[0], parts[1], parts[2], day, raw_date, n))
    except csv.Error as e:
        raise InvalidImport(f"{name!r} is not valid CSV ({e}).") from e
    if total == 0:
        raise InvalidImport(f"{name!r} has no viewing rows.")
    rows, dates = _resolve_dates(rows, bad)
    if len(bad) * 2 > total:
        raise InvalidImport(f"{name!r}: {len(bad)} of {total} rows cannot be read ({bad[0]}); is it the viewing "
                            "activity CSV from netflix.com/viewingactivity?")
    return NetflixRows(rows, dates, skipped, bad, total)


SearchFn = Callable[[str], Awaitable[list[SearchHit]]]


def pick_match(title: str, first_watched_year: int, results: list[SearchHit]) -> SearchHit | None:
    """Exact normalised title only; among several, the latest show that had started by the first watch."""
    want = norm_title(title)
    exact = [r for r in results if want in (norm_title(r.name), norm_title(r.original_name or ""))]
    started = [r for r in exact if 0 < (r.year or 0) <= first_watched_year] or [r for r in exact if not r.year]
    if not started:
        return None
    return max(started, key=lambda r: (r.year or 0, -r.tmdb_id))


async def parse_netflix(name: str, data: bytes, max_rows: int, search: SearchFn, *, max_lookups: int = 300,
                        concurrency: int = 4) -> ParsedImport:
    """Rows parsed off the loop, then one title search per distinct show — a few at a time, and at most
    ``max_lookups`` of them (the shows watched most first): a 3,000-title file must not spend the bot's shared
    TMDB key on 3,000 searches. Titles past the bound are reported, not guessed."""
    parsed = await asyncio.to_thread(parse_netflix_rows, name, data, max_rows)
    rows, dates = parsed.rows, parsed.dates
    out = ParsedImport(kind="netflix", skipped=parsed.skipped, rows=parsed.total, bad=parsed.bad)
    first_seen: dict[str, int] = {}
    watched: Counter[str] = Counter()
    for r, d in zip(rows, dates, strict=True):
        first_seen[r.show] = min(first_seen.get(r.show, 9999), d.year)
        watched[r.show] += 1
    ranked = sorted(first_seen, key=lambda s: (-watched[s], s))
    looked, out.not_looked_up = ranked[:max_lookups], sorted(ranked[max_lookups:])
    matched: dict[str, ShowRef | None] = dict.fromkeys(out.not_looked_up)
    sem = asyncio.Semaphore(concurrency)

    async def one(show: str) -> None:
        async with sem:
            hits = await search(show)
        hit = pick_match(show, first_seen[show], hits)
        matched[show] = None if hit is None else ShowRef(
            ShowIds(tmdb=hit.tmdb_id, trakt=hit.trakt_id, imdb=hit.imdb_id), hit.name or show, hit.year)

    await run_all(one(s) for s in looked)
    past = set(out.not_looked_up)
    for r, d in zip(rows, dates, strict=True):
        ref = matched[r.show]
        if ref is None:
            if r.show in past:
                out.rows_not_looked_up += 1
            else:
                out.rows_unmatched += 1
            continue
        out.plays.append(Play(ref, r.season, None, d, episode_title=r.episode_title))
    out.unmatched = sorted(s for s in looked if matched[s] is None)
    return out
