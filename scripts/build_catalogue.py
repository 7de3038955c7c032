"""Build the bundled show catalogue (engine/sample/catalogue.json.gz) from ../shared/data.

Reproducible: `python scripts/build_catalogue.py [--shared ../shared] [--size 1500]`.

Inputs (see engine/sample/SOURCE.md for licences):
- JustWatch streaming titles (Victor Soeiro, MIT): titles, first-air year, genres, countries, runtime, seasons,
  IMDb id/score/votes, TMDB score/popularity, age certification, synopsis, streaming platform.
- TMDB top-rated TV (TMDB API terms, attribution): real TMDB ids, joined on normalised title + first-air year.

Synthesised (deterministic, documented as such): Trakt ids (no source has them), TMDB ids for shows not in the
TMDB file, episode counts per season, lifecycle status and keyword tags.
"""

from __future__ import annotations

import argparse
import ast
import csv
import gzip
import hashlib
import json
import re
import unicodedata
from pathlib import Path

PLATFORMS = {
    "netflix": "Netflix", "hbo": "HBO Max", "hulu": "Hulu", "paramount": "Paramount+",
    "disney": "Disney+", "appletv": "Apple TV+", "starz": "Starz",
}
GENRES = {  # JustWatch label -> our canonical (Trakt-style) genre slugs
    "drama": ["drama"], "comedy": ["comedy"], "animation": ["animation"], "action": ["action", "adventure"],
    "scifi": ["science-fiction"], "fantasy": ["fantasy"], "documentation": ["documentary"],
    "family": ["family"], "crime": ["crime"], "thriller": ["thriller"], "reality": ["reality"],
    "romance": ["romance"], "horror": ["horror"], "history": ["history"], "music": ["music"],
    "sport": ["sporting-event"], "war": ["war"], "western": ["western"],
}
STOP = set(
    "a an the and or of to in on for with by from at as is are was were be been his her their its this that these "
    "those who whom which what when where while after before into about over under between through during "
    "he she they it them him we you your our one two three new life world series show must lives find finds "
    "takes take set up out get gets back more most than then also but not no only own other each all "
    "season story stories young man woman men women family friends friend group help make makes way being "
    "can will would just every first last year years old time day days become becomes has have had".split()
)


def norm(title: str) -> str:
    t = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", " ", t).strip()


def h(s: str, mod: int) -> int:
    return int(hashlib.sha256(s.encode()).hexdigest()[:12], 16) % mod


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    ap.add_argument("--size", type=int, default=1500)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "engine/sample/catalogue.json.gz"))
    a = ap.parse_args()
    data = Path(a.shared) / "data"

    shows: dict[str, dict[str, str]] = {}
    platforms: dict[str, set[str]] = {}
    for key, name in PLATFORMS.items():
        with open(data / "justwatch-streaming-titles" / f"{key}_titles.csv", encoding="utf-8", newline="") as f:
            for r in csv.DictReader(f):
                if r["type"] != "SHOW" or not r["imdb_id"] or not r["imdb_votes"]:
                    continue
                shows[r["id"]] = r
                platforms.setdefault(r["id"], set()).add(name)

    tmdb: dict[tuple[str, int], dict[str, str]] = {}
    with open(data / "tmdb-top-rated-tv" / "tvshows.csv", encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            tmdb.setdefault((norm(r["name"]), int(r["first_air_date"][:4])), r)

    ranked = sorted(shows.values(), key=lambda r: -float(r["imdb_votes"]))
    # document frequency of description words, to pick distinctive keywords
    df: dict[str, int] = {}
    for r in ranked[: a.size]:
        for w in set(re.findall(r"[a-z][a-z'-]{3,}", r["description"].lower())):
            df[w] = df.get(w, 0) + 1

    out = []
    used_tmdb: set[int] = set()
    used_trakt: set[int] = set()
    for r in ranked:
        if len(out) >= a.size:
            break
        genres: list[str] = []
        for g in ast.literal_eval(r["genres"]):
            for s in GENRES.get(g, []):
                if s not in genres:
                    genres.append(s)
        if not genres:
            continue
        year = int(r["release_year"])
        t = tmdb.get((norm(r["title"]), year))
        tmdb_id = int(t["id"]) if t else 900000 + h(r["id"], 99999)
        if tmdb_id in used_tmdb:
            continue
        used_tmdb.add(tmdb_id)
        trakt_id = 100000 + h(r["id"], 800000)
        while trakt_id in used_trakt:
            trakt_id += 1
        used_trakt.add(trakt_id)
        seasons = max(1, int(float(r["seasons"] or 1)))
        runtime = int(float(r["runtime"] or 0)) or 45
        per_season = 20 if runtime <= 30 and "comedy" in genres else (13 if runtime <= 30 else 10)
        per_season = max(6, per_season - h(r["id"] + "e", 5))
        # lifecycle: old shows have mostly ended; recent ones are often still running
        roll = h(r["id"] + "s", 100)
        if year <= 2012:
            status = "ended" if roll < 85 else ("canceled" if roll < 95 else "returning series")
        else:
            status = "returning series" if roll < 45 else ("ended" if roll < 80 else "canceled")
        words = re.findall(r"[a-z][a-z'-]{3,}", r["description"].lower())
        kws: list[str] = []
        for w in sorted(set(words), key=lambda w: (df.get(w, 0), w)):
            if w not in STOP and 2 <= df.get(w, 0) <= 60 and len(kws) < 6:
                kws.append(w)
        out.append({
            "jw_id": r["id"],
            "trakt_id": trakt_id,
            "slug": norm(r["title"]).replace(" ", "-") + f"-{year}",
            "tmdb_id": tmdb_id,
            "tmdb_id_real": bool(t),
            "imdb_id": r["imdb_id"],
            "title": r["title"],
            "year": year,
            "overview": r["description"].replace("\n", " ").strip(),
            "genres": genres,
            "countries": ast.literal_eval(r["production_countries"]),
            "runtime": runtime,
            "seasons": seasons,
            "episodes_per_season": per_season,
            "certification": r["age_certification"] or None,
            "imdb_rating": float(r["imdb_score"]) if r["imdb_score"] else None,
            "imdb_votes": int(float(r["imdb_votes"])),
            "tmdb_rating": float(r["tmdb_score"]) if r["tmdb_score"] else None,
            "tmdb_popularity": float(r["tmdb_popularity"] or 0),
            "providers": sorted(platforms[r["id"]]),
            "status": status,
            "keywords": kws,
            # what no source gave: made up (deterministically) for the fakes and the demo, never shown as fact
            "synthesised": ["trakt_id", "slug", "episodes_per_season", "status", "keywords"]
            + ([] if t else ["tmdb_id"]),
        })
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_bytes(gzip.compress(json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode(),
                                          mtime=0))      # byte-for-byte reproducible
    real = sum(1 for s in out if s["tmdb_id_real"])
    print(f"wrote {len(out)} shows ({real} with real TMDB ids) to {a.out}")


if __name__ == "__main__":
    main()
