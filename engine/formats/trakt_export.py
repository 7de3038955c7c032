"""Imports for people without API access: a Trakt data export (JSON); Netflix's CSVs are read in ``netflix``.

Parsing is strict and complete before anything is written: a malformed or oversized file raises InvalidImport
and the store is untouched.
"""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from engine.formats.trakt_json import parse_history_item, parse_show
from engine.values.errors import InvalidImport
from engine.values.i18n import _
from engine.values.models import Play, ShowRef
from engine.values.times import parse_ts


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
    extras: int = 0                                            # trailers, recaps, short sessions left out


def detect_kind(name: str, data: bytes) -> str:
    head = data[:4096].lstrip(b"\xef\xbb\xbf").lstrip()
    if data[:2] == b"PK" or head[:1] in (b"[", b"{"):
        return "trakt"
    first = head.split(b"\n", 1)[0].decode("utf-8", "replace").lower()
    if "title" in first and ("date" in first or "start time" in first):
        return "netflix"
    raise InvalidImport(_(
        "{name} is neither a Trakt export (JSON or zip) nor a Netflix CSV (Title,Date, or the full export's "
        "ViewingActivity.csv).").format(name=repr(name)))


def gunzip_bounded(data: bytes, limit: int) -> bytes:
    d = zlib.decompressobj(wbits=31)
    try:
        out = d.decompress(data, limit + 1)
    except zlib.error as e:
        raise InvalidImport(_("the file looks gzipped but does not unpack.")) from e
    if len(out) > limit or d.unconsumed_tail:
        raise InvalidImport(_("the file unpacks to more than {limit} bytes.").format(limit=f"{limit:,}"))
    return out


# -- Trakt export ------------------------------------------------------------------------------------------------
def _json_documents(name: str, data: bytes, max_bytes: int) -> Iterable[tuple[str, Any]]:
    if data[:2] == b"PK":
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile as e:
            raise InvalidImport(_("{name} is not a readable zip file.").format(name=repr(name))) from e
        total = sum(i.file_size for i in zf.infolist())
        if total > max_bytes:
            raise InvalidImport(_("the export unpacks to {total} bytes, more than the {max_bytes} allowed.").format(
                total=f"{total:,}", max_bytes=f"{max_bytes:,}"))
        left = max_bytes
        for info in zf.infolist():
            if info.filename.endswith(".json") and not info.is_dir():
                try:                         # read bounded: a zip may understate what a member unpacks to
                    with zf.open(info) as f:
                        raw = f.read(left + 1)
                except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as e:
                    raise InvalidImport(_("{filename} in the zip does not unpack ({name}).").format(
                        filename=repr(info.filename), name=type(e).__name__)) from e
                if len(raw) > left:
                    raise InvalidImport(_("the export unpacks to more than the {max_bytes} bytes allowed.").format(
                        max_bytes=f"{max_bytes:,}"))
                left -= len(raw)
                yield info.filename, _loads(info.filename, raw)
        return
    yield name, _loads(name, data)


def _loads(name: str, data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InvalidImport(_("{name} is not valid JSON ({e}).").format(name=repr(name), e=e)) from e
    except RecursionError as e:
        raise InvalidImport(_("{name} is nested too deeply to be a Trakt export.").format(name=repr(name))) from e


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
            raise InvalidImport(_("the export has more than {max_rows} rows.").format(max_rows=f"{max_rows:,}"))
        for i, row in enumerate(doc):
            if not isinstance(row, dict):
                raise InvalidImport(_("{doc_name} row {value} is not an object.").format(
                    doc_name=doc_name, value=i + 1))
            try:
                _row(shape, row, out, watched_fallback)
            except (KeyError, TypeError, ValueError) as e:
                raise InvalidImport(_("{doc_name} row {value} is malformed ({name}: {e}).").format(
                    doc_name=doc_name, value=i + 1, name=type(e).__name__, e=e)) from e
            # what counts is what the file would store: a "watched" row holds one play per episode
            if len(out.plays) + len(watched_fallback) + len(out.ratings) + len(out.watchlist) + len(out.hidden) \
                    > max_rows:
                raise InvalidImport(_("the export has more than {max_rows} plays and list entries.").format(
                    max_rows=f"{max_rows:,}"))

    for doc_name, doc in _json_documents(name, data, max_bytes):
        visit(doc_name, doc)
    if not found:
        raise InvalidImport(_("{name} has no Trakt history, ratings, watchlist or watched shows in it.").format(
            name=repr(name)))
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
