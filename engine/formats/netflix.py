"""Netflix viewing activity, both files people get:

* the **viewing-activity page's CSV** (netflix.com/viewingactivity → "Download all"): ``Title,Date`` — a date in
  the account's locale, no time of day (plays are marked date-only and never feed time-of-day features);
* the **full data export's** ``CONTENT_INTERACTION/ViewingActivity.csv`` ("Download your personal information"):
  ``Profile Name, Start Time, Duration, Attributes, Title, Supplemental Video Type, Device Type, Bookmark,
  Latest Bookmark, Country`` — one row per viewing session, the start time in UTC. Trailers, teasers, hooks, recaps
  and previews (a ``Supplemental Video Type``) are dropped, so are sessions under two minutes; sessions of the same
  episode within a month are one play (resuming is not rewatching); one profile is imported — the one named, the
  only one, or the file is refused with the profiles it holds.

Titles are matched to shows by exact normalised title with first-air-year disambiguation (the show must have
started by the first time it was watched); what does not match is reported, never guessed.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.formats.trakt_export import ParsedImport
from engine.plumbing.aio import run_all
from engine.values.errors import InvalidImport
from engine.values.i18n import _
from engine.values.meta import SearchHit
from engine.values.models import Play, ShowIds, ShowRef
from engine.values.vocabulary import norm_title

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
    timed: bool = False         # the full export: real start times
    extras: int = 0             # trailers, teasers, recaps… and sessions too short to count, left out


ACTIVITY = ("profile name", "start time", "duration", "title", "supplemental video type")
MIN_SESSION = timedelta(minutes=2)      # an episode left within two minutes was not watched
SAME_VIEWING = timedelta(days=30)       # sessions of one episode this close are one viewing, resumed


def _duration(raw: str) -> timedelta | None:
    parts = raw.strip().split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    h, m, sec = (int(p) for p in parts)
    return timedelta(hours=h, minutes=m, seconds=sec)


def _start(raw: str) -> datetime | None:
    try:
        at = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)    # Netflix writes UTC


def _rows(name: str, reader: Any, max_rows: int) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of every row that is not blank; at most ``max_rows``, and at least one."""
    total = 0
    try:
        for n, rec in enumerate(reader, start=2):
            if not rec or all(not c.strip() for c in rec):
                continue
            total += 1
            if total > max_rows:
                raise InvalidImport(_("the file has more than {max_rows} rows.").format(max_rows=f"{max_rows:,}"))
            yield n, rec
    except csv.Error as e:
        raise InvalidImport(_("{name} is not valid CSV ({e}).").format(name=repr(name), e=e)) from e
    if total == 0:
        raise InvalidImport(_("{name} has no viewing rows.").format(name=repr(name)))


def _csv(name: str, data: bytes) -> tuple[list[str], Any]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InvalidImport(_("{name} is not UTF-8 text.").format(name=repr(name))) from e
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","   # some locales use semicolons
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error) as e:
        raise InvalidImport(_("{name} is empty.").format(name=repr(name))) from e
    return header, reader


def parse_activity_rows(name: str, header: list[str], reader: Any, max_rows: int,
                        profile: str | None) -> NetflixRows:
    """The full export's ViewingActivity.csv, one profile's episodes with their real start times."""
    col = {k: header.index(k) for k in ACTIVITY if k in header}
    if len(col) < len(ACTIVITY):
        missing = ", ".join(k.title() for k in ACTIVITY if k not in col)
        raise InvalidImport(_("{name} looks like Netflix's ViewingActivity.csv but lacks {missing}.").format(
            name=repr(name), missing=missing))
    records = list(_rows(name, reader, max_rows))
    total = len(records)
    profiles = Counter(rec[col["profile name"]].strip() for _, rec in records if len(rec) > col["profile name"])
    chosen = _profile(profiles, profile)
    width = max(col.values())
    bad: list[str] = []
    skipped: list[str] = []
    extras = 0
    sessions: dict[tuple[str, int, str | None], list[tuple[datetime, int]]] = {}
    for n, rec in records:
        if len(rec) <= width:
            bad.append(f"line {n}: {len(rec)} column(s), expected {width + 1}")
            continue
        if rec[col["profile name"]].strip() != chosen:
            continue
        title = rec[col["title"]].strip()
        if rec[col["supplemental video type"]].strip():     # TRAILER, TEASER_TRAILER, HOOK, RECAP, PREVIEW …
            extras += 1
            continue
        at, length = _start(rec[col["start time"]]), _duration(rec[col["duration"]])
        if at is None or length is None or not title:
            bad.append(f"line {n}: " + ("no title" if not title else f"{rec[col['start time']]!r} / "
                                        f"{rec[col['duration']]!r} is not a start time and a duration"))
            continue
        if length < MIN_SESSION:
            extras += 1
            continue
        parts = split_netflix_title(title)
        if parts is None:
            skipped.append(title)
            continue
        sessions.setdefault(parts, []).append((at, n))
    rows: list[NetflixRow] = []
    dates: list[datetime] = []
    for (show, season, episode), seen in sessions.items():
        last: datetime | None = None
        for at, n in sorted(seen):
            if last is None or at - last > SAME_VIEWING:   # a later viewing, not the same one resumed
                rows.append(NetflixRow(show, season, episode, (at.year, at.month, at.day), at.isoformat(), n))
                dates.append(at)
            last = at
    if len(bad) * 2 > total:
        raise InvalidImport(_("{name}: {n} of {total} rows cannot be read ({bad}).").format(
            name=repr(name), n=len(bad), total=total, bad=bad[0]))
    return NetflixRows(rows, dates, sorted(set(skipped)), bad, total, timed=True, extras=extras)


def _profile(profiles: Counter[str], wanted: str | None) -> str:
    names = [p for p, _ in profiles.most_common()]
    if wanted:
        for p in names:
            if p.casefold() == wanted.strip().casefold():
                return p
        raise InvalidImport(_("the file has no profile called {value}; it holds {value2}.").format(
            value=repr(wanted.strip()[:40]), value2=', '.join(repr(p[:40]) for p in names[:10])))
    if len(names) == 1:
        return names[0]
    raise MultiProfile(names)


class MultiProfile(InvalidImport):
    """A full export with several profiles and none named: the person says which."""

    def __init__(self, profiles: list[str]) -> None:
        self.profiles = profiles
        shown = ", ".join(f"“{p[:40]}”" for p in profiles[:10])
        super().__init__(f"it holds several Netflix profiles ({shown}) and I import one. Send it again naming "
                         f"yours: with the profile as the file's caption on Telegram, `/import profile:NAME` on "
                         f"Discord, `import FILE NAME` in the console.")


def parse_netflix_rows(name: str, data: bytes, max_rows: int, profile: str | None = None) -> NetflixRows:
    """Rows that cannot be read (no date, a date that does not exist, a missing column) are reported and skipped;
    the file is refused only when most of it is unreadable."""
    header, reader = _csv(name, data)
    if "start time" in header and "profile name" in header:
        return parse_activity_rows(name, header, reader, max_rows, profile)
    if "title" not in header or "date" not in header:
        raise InvalidImport(_("{name} needs a header with Title and Date (Netflix viewing activity).").format(
            name=repr(name)))
    ti, di = header.index("title"), header.index("date")
    rows: list[NetflixRow] = []
    skipped: list[str] = []
    bad: list[str] = []
    total = 0
    for n, rec in _rows(name, reader, max_rows):
        total += 1
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
    rows, dates = _resolve_dates(rows, bad)
    if len(bad) * 2 > total:
        raise InvalidImport(_(
            "{name}: {n} of {total} rows cannot be read ({bad}); is it the viewing activity CSV from "
            "netflix.com/viewingactivity?").format(name=repr(name), n=len(bad), total=total, bad=bad[0]))
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
                        concurrency: int = 4, profile: str | None = None) -> ParsedImport:
    """Rows parsed off the loop, then one title search per distinct show — a few at a time, and at most
    ``max_lookups`` of them (the shows watched most first): a 3,000-title file must not spend the bot's shared
    TMDB key on 3,000 searches. Titles past the bound are reported, not guessed."""
    parsed = await asyncio.to_thread(parse_netflix_rows, name, data, max_rows, profile)
    rows, dates = parsed.rows, parsed.dates
    out = ParsedImport(kind="netflix-activity" if parsed.timed else "netflix", skipped=parsed.skipped,
                       rows=parsed.total, bad=parsed.bad, extras=parsed.extras)
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
