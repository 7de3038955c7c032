"""The generic evaluation format (see README "Evaluation") and converters from public datasets.

- ``interactions.csv``: ``user_id,item_id,timestamp[,rating]`` (timestamp: any sortable number)
- ``items.csv``: ``item_id,title[,genres][,keywords][,year][,overview]…``, multi-valued fields separated by ``|``
- optional ``test.csv``: ``user_id,item_id[,timestamp]``: held-out pairs; then all interactions are training data
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.values.errors import InvalidImport

# MovieLens / generic genre labels -> our canonical slugs
GENRE_MAP = {
    "action": "action", "adventure": "adventure", "animation": "animation", "children": "children",
    "comedy": "comedy", "crime": "crime", "documentary": "documentary", "drama": "drama", "fantasy": "fantasy",
    "film-noir": "crime", "horror": "horror", "musical": "musical", "mystery": "mystery", "romance": "romance",
    "sci-fi": "science-fiction", "thriller": "thriller", "war": "war", "western": "western",
}


@dataclass(frozen=True, slots=True)
class Interaction:
    user: str
    item: str
    ts: float
    rating: float | None = None


@dataclass
class Dataset:
    interactions: list[Interaction]
    items: dict[str, dict[str, Any]]
    test: list[Interaction] | None = None
    name: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def by_user(self) -> dict[str, list[Interaction]]:
        out: dict[str, list[Interaction]] = defaultdict(list)
        for it in self.interactions:
            out[it.user].append(it)
        for v in out.values():
            v.sort(key=lambda x: (x.ts, x.item))
        return dict(out)


def _split(v: str | None) -> list[str]:
    return [x.strip() for x in (v or "").split("|") if x.strip()]


def _read_csv(path: Path, required: Iterable[str]) -> Iterable[dict[str, str]]:
    if not path.is_file():
        raise InvalidImport(f"{path} does not exist.")
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise InvalidImport(f"{path.name} lacks the column(s) {', '.join(missing)}.")
        yield from reader


def load(interactions: str | Path, items: str | Path, test: str | Path | None = None) -> Dataset:
    inter = []
    for n, r in enumerate(_read_csv(Path(interactions), ("user_id", "item_id", "timestamp")), start=2):
        try:
            rating = float(r["rating"]) if r.get("rating") not in (None, "") else None
            inter.append(Interaction(r["user_id"], r["item_id"], float(r["timestamp"]), rating))
        except ValueError as e:
            raise InvalidImport(f"{Path(interactions).name} line {n}: {e}.") from e
    its: dict[str, dict[str, Any]] = {}
    for r in _read_csv(Path(items), ("item_id", "title")):
        year = r.get("year") or ""
        its[r["item_id"]] = {
            "title": r["title"], "genres": [GENRE_MAP.get(g.lower(), g.lower()) for g in _split(r.get("genres"))],
            "keywords": _split(r.get("keywords")), "year": int(year) if year.isdigit() else None,
            "overview": r.get("overview") or "",
        }
    tst = None
    if test is not None:
        tst = [Interaction(r["user_id"], r["item_id"], float(r.get("timestamp") or 0))
               for r in _read_csv(Path(test), ("user_id", "item_id"))]
    return Dataset(inter, its, tst, name=Path(interactions).parent.name)


def write(ds: Dataset, dest: str | Path) -> None:
    d = Path(dest)
    d.mkdir(parents=True, exist_ok=True)
    with (d / "interactions.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "item_id", "timestamp", "rating"])
        for it in ds.interactions:
            w.writerow([it.user, it.item, f"{it.ts:.15g}", "" if it.rating is None else f"{it.rating:g}"])
    with (d / "items.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["item_id", "title", "genres", "keywords", "year"])
        for iid, m in ds.items.items():
            w.writerow([iid, m["title"], "|".join(m.get("genres") or []), "|".join(m.get("keywords") or []),
                        m.get("year") or ""])
    if ds.test is not None:
        with (d / "test.csv").open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["user_id", "item_id", "timestamp"])
            for it in ds.test:
                w.writerow([it.user, it.item, f"{it.ts:.15g}"])


def convert_movielens(src: str | Path) -> Dataset:
    """MovieLens ml-latest-small: ratings as interactions, genres, user tags as keywords, year from the title."""
    s = Path(src)
    items: dict[str, dict[str, Any]] = {}
    for r in _read_csv(s / "movies.csv", ("movieId", "title", "genres")):
        m = re.search(r"\((\d{4})\)\s*$", r["title"])
        genres = [GENRE_MAP[g.lower()] for g in r["genres"].split("|") if g.lower() in GENRE_MAP]
        items[r["movieId"]] = {"title": r["title"], "genres": genres, "keywords": [],
                               "year": int(m.group(1)) if m else None}
    tags: dict[str, Counter[str]] = defaultdict(Counter)
    if (s / "tags.csv").is_file():
        for r in _read_csv(s / "tags.csv", ("movieId", "tag")):
            tags[r["movieId"]][r["tag"].strip().lower()] += 1
    for mid, c in tags.items():
        if mid in items:
            items[mid]["keywords"] = [t for t, _ in c.most_common(10)]
    inter = [Interaction(r["userId"], r["movieId"], float(r["timestamp"]), float(r["rating"]))
             for r in _read_csv(s / "ratings.csv", ("userId", "movieId", "rating", "timestamp"))]
    return Dataset(inter, items, name="movielens")


ANNICT_RATING = {"great": 5.0, "good": 4.0, "average": 3.0, "bad": 1.0}


def convert_annict(src: str | Path) -> Dataset:
    """Annict records (tab-separated, no header, chronological rows): each record is one episode log; the row
    number is the timestamp. Titles from the works file; no genres (co-watching only)."""
    s = Path(src)
    rec = next(iter(sorted(s.glob("records_*.tsv"))), None)
    if rec is None:
        raise InvalidImport(f"no records_*.tsv in {s}")
    inter = []
    with rec.open(encoding="utf-8") as f:
        for n, line in enumerate(f):
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 2:
                continue
            inter.append(Interaction(parts[1], parts[0], float(n), ANNICT_RATING.get(parts[2] if len(parts) > 2
                                                                                       else "")))
    items: dict[str, dict[str, Any]] = {}
    works = next(iter(sorted(s.glob("works_*.tsv"))), None)
    if works is not None:
        with works.open(encoding="utf-8") as f:
            for line in f:
                parts = line.rstrip("\n").split("\t", 2)
                if len(parts) == 3:
                    items[parts[0]] = {"title": parts[2], "genres": [], "keywords": [], "year": None}
    for it in inter:
        items.setdefault(it.item, {"title": f"work {it.item}", "genres": [], "keywords": [], "year": None})
    return Dataset(inter, items, name="annict")


CONVERTERS = {"movielens": convert_movielens, "annict": convert_annict}


# A dataset with row ordinals for time (Annict) is read as real time at the rate its records arrive: between the
# Annict snapshots of 2020-07-27 and 2021-06-22 (331 days) 38,198 records were added (see its SOURCE.md), one
# record every ~749 s. Half-lives and windows are then days, as they are live (a row is not an hour).
ORDINAL_SECONDS = 331 * 86400 / 38_198
ORDINAL_EPOCH = 946_684_800.0            # row 0 at 2000-01-01 (only the differences mean anything)


def ts_seconds(ts: float, ordinal: bool) -> float:
    """Dataset time in epoch seconds: seconds as they are, row ordinals at ``ORDINAL_SECONDS`` each."""
    return ORDINAL_EPOCH + ts * ORDINAL_SECONDS if ordinal else ts


def ts_to_datetime(ts: float, ordinal: bool) -> datetime:
    return datetime.fromtimestamp(ts_seconds(ts, ordinal), UTC)
