"""Imports for people without API access: Trakt exports and Netflix viewing activity. All or nothing."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from typing import Any

import pytest

from bot import render
from engine.formats.netflix import pick_match, split_netflix_title
from engine.store.testing import count as count_rows
from engine.values.errors import InvalidImport
from engine.values.meta import SearchHit
from tests.conftest import FIXTURES
from tests.fakes.catalogue import catalogue, history_rows
from tests.fakes.tmdb import FakeTmdb
from tests.fakes.trakt import list_row, rating_row

pytestmark = pytest.mark.both_stores        # the engine on SQLite and on PostgreSQL


async def count(probe: Any, pid: int, table: str = "plays") -> int:
    return await count_rows(probe, table, person_id=pid)


def export_doc() -> dict[str, Any]:
    cat = catalogue()
    return {"history": history_rows(400, 15, seed=21), "ratings": [rating_row(e, 8) for e in cat[:5]],
            "watchlist": [list_row(e) for e in cat[100:103]], "settings": {"account": {"timezone": "Asia/Tokyo"}}}


async def test_trakt_export_json_imports_once(make_engine: Any, probe: Any) -> None:
    engine = await make_engine()
    pid = await engine.person("console", "u")
    data = json.dumps(export_doc()).encode()
    rep = await engine.import_history(pid, "export.json", data)
    assert (rep.kind, rep.plays_added, rep.ratings, rep.watchlist) == ("trakt", 400, 5, 3)
    assert await count(probe, pid) == 400 and await count(probe, pid, "ratings") == 5
    assert (await engine.person_settings(pid)).timezone == "Asia/Tokyo"
    again = await engine.import_history(pid, "export.json", data)
    assert again.plays_added == 0 and await count(probe, pid) == 400        # idempotent


async def test_trakt_export_zip_of_files_with_real_payloads(make_engine: Any) -> None:
    engine = await make_engine()
    pid = await engine.person("console", "u")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("watched-history.json", (FIXTURES / "trakt_history_2026.json").read_text())
        z.writestr("ratings-shows.json", (FIXTURES / "trakt_ratings_shows_2026.json").read_text())
        z.writestr("watchlist-shows.json", (FIXTURES / "trakt_watchlist_shows_2026.json").read_text())
        z.writestr("notes.txt", "ignored")
    rep = await engine.import_history(pid, "trakt.zip", buf.getvalue())
    episodes = [h for h in json.loads((FIXTURES / "trakt_history_2026.json").read_text()) if h["type"] == "episode"]
    assert rep.plays_added == len(episodes) and rep.ratings > 0 and rep.watchlist > 0


async def test_watched_only_export_falls_back_to_one_play_per_episode(make_engine: Any) -> None:
    engine = await make_engine()
    pid = await engine.person("console", "u")
    watched = [{"plays": 2, "last_watched_at": "2024-01-02T20:00:00.000Z", "show": {"title": "X", "year": 2020,
                "ids": {"trakt": 999001}}, "seasons": [{"number": 1, "episodes": [
                    {"number": 1, "plays": 1, "last_watched_at": "2024-01-01T20:00:00.000Z"},
                    {"number": 2, "plays": 1, "last_watched_at": "2024-01-02T20:00:00.000Z"}]}]}]
    rep = await engine.import_history(pid, "watched.json", json.dumps(watched).encode())
    assert rep.plays_added == 2


@pytest.mark.parametrize(("name", "data", "words"), [
    ("bad.json", b"[{\"watched_at\": ", "not valid JSON"),
    ("empty.json", b"{}", "no Trakt history"),
    ("bad.zip", b"PK\x03\x04garbage", "not a readable zip"),
    ("bad.csv", b"Name,When\nx,y\n", "neither a Trakt export"),
    ("gz.json.gz", b"\x1f\x8bnot really gzip", "does not unpack"),
])
async def test_malformed_files_get_clear_errors(make_engine: Any, name: str, data: bytes, words: str) -> None:
    engine = await make_engine()
    pid = await engine.person("console", "u")
    with pytest.raises(InvalidImport) as e:
        await engine.import_history(pid, name, data)
    assert words in e.value.user_message and "Nothing was imported" in e.value.user_message


async def test_a_bad_row_deep_in_the_file_writes_nothing(make_engine: Any, probe: Any) -> None:
    engine = await make_engine()
    pid = await engine.person("console", "u")
    doc = export_doc()
    doc["history"][350]["watched_at"] = None
    with pytest.raises(InvalidImport) as e:
        await engine.import_history(pid, "export.json", json.dumps(doc).encode())
    assert "row 351" in e.value.user_message
    assert await count(probe, pid) == 0 and await count(probe, pid, "ratings") == 0


async def test_oversized_files_and_zip_bombs_are_refused(make_engine: Any, probe: Any) -> None:
    engine = await make_engine(MULTITUDES_IMPORTS__MAX_BYTES="20000")
    pid = await engine.person("console", "u")
    with pytest.raises(InvalidImport, match="limit"):
        await engine.import_history(pid, "big.json", b" " * 20001)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("history.json", "[" + " " * 100_000 + "]")
    assert len(buf.getvalue()) < 20000
    with pytest.raises(InvalidImport, match="unpacks"):
        await engine.import_history(pid, "bomb.zip", buf.getvalue())
    with pytest.raises(InvalidImport, match="unpacks"):
        await engine.import_history(pid, "bomb.json.gz", gzip.compress(b" " * 100_000))
    assert await count(probe, pid) == 0


def netflix_csv(rows: list[tuple[str, str]]) -> bytes:
    out = io.StringIO()
    out.write("Title,Date\n")
    for t, d in rows:
        out.write('"' + t.replace('"', '""') + '",' + d + "\n")
    return out.getvalue().encode()


async def test_netflix_csv_matches_titles_and_reports_the_rest(make_engine: Any) -> None:
    engine = await make_engine()   # no TMDB configured: matched against the bundled catalogue
    pid = await engine.person("console", "u")
    data = netflix_csv([
        ("Ozark: Season 1: Sugarwood", "1/5/22"),
        ("Ozark: Season 1: Blue Cat", "1/5/22"),
        ("Ozark: Season 2: Reparations", "1/20/22"),
        ("Gossip Girl: Season 1: Pilot", "3/2/09"),          # 2007 show: the 2021 one had not started
        ("Gossip Girl: Season 1: Just Another Manic Monday", "10/2/21"),   # same title, first seen 2009
        ("Cowboy Bebop: Season 1: Cowboy Gospel", "12/1/21"),  # 2021 remake by then
        ("Baby Reindeer: Limited Series: Episode 1", "5/2/24"),  # not in the catalogue (2024)
        ("Glass Onion: A Knives Out Mystery", "2/3/23"),       # a film
    ])
    rep = await engine.import_history(pid, "NetflixViewingHistory.csv", data)
    assert rep.kind == "netflix" and rep.plays_added == 6
    assert rep.unmatched == ("Baby Reindeer",)
    assert rep.skipped == ("Glass Onion: A Knives Out Mystery",)
    rows = sorted(await engine.history(pid, 100), key=lambda h: h.watched_at)
    got = {(r.title, r.year) for r in rows}
    assert ("Gossip Girl", 2007) in got and ("Gossip Girl", 2021) not in got
    assert ("Cowboy Bebop", 2021) in got
    assert rows[0].watched_at.date().isoformat() == "2009-03-02"       # M/D/YY read as US dates


async def test_netflix_through_tmdb_search_and_day_first_dates(fake_tmdb: FakeTmdb, make_engine: Any) -> None:
    engine = await make_engine(tmdb=fake_tmdb)
    pid = await engine.person("console", "u")
    data = netflix_csv([("Ozark: Season 3: Wartime", "25/03/2020"), ("Ozark: Season 3: Su Casa", "02/04/2020")])
    rep = await engine.import_history(pid, "viewing.csv", data)
    assert rep.plays_added == 2 and not rep.unmatched
    assert fake_tmdb.count("/3/search/tv") == 1
    first = min(h.watched_at for h in await engine.history(pid, 10))
    assert first.date().isoformat() == "2020-03-25"


@pytest.mark.parametrize(("data", "words"), [             # files that are mostly unreadable are refused whole
    (b"Title,Date\nOzark: Season 1: Sugarwood,someday\n", "line 2: 'someday' is not a date"),
    (b"Title,Date\nOzark: Season 1: Sugarwood,31/02/2021\n", "not a valid DMY date"),
    (b"Title;Date\n", "no viewing rows"),
    (b"Title,Date\nOzark: Season 1: Sugarwood\n", "line 2: 1 column"),
    (b"Title,Date\nOzark: Season 1: A,1/5/22\nOzark: Season 1: B,x\nOzark: Season 1: C,y\n", "2 of 3 rows"),
])
async def test_netflix_malformed(make_engine: Any, probe: Any, data: bytes, words: str) -> None:
    engine = await make_engine()
    pid = await engine.person("console", "u")
    with pytest.raises(InvalidImport, match=words):
        await engine.import_history(pid, "v.csv", data)
    assert await count(probe, pid) == 0


def test_netflix_title_shapes() -> None:
    assert split_netflix_title("Breaking Bad: Season 1: Pilot") == ("Breaking Bad", 1, "Pilot")
    assert split_netflix_title("Star Trek: Discovery: Season 2: Brother") == ("Star Trek: Discovery", 2, "Brother")
    assert split_netflix_title("The Queen's Gambit: Limited Series: Openings") == ("The Queen's Gambit", 1, "Openings")
    assert split_netflix_title("Money Heist: Part 3: Episode 1") == ("Money Heist", 3, "Episode 1")
    assert split_netflix_title("Lupin: Part Two: Chapter 6") == ("Lupin", 2, "Chapter 6")
    assert split_netflix_title("Inception") is None
    assert split_netflix_title("Black Mirror: Bandersnatch") is None


def test_year_disambiguation_never_guesses() -> None:
    cands = [SearchHit(1, "Shameless", None, "2004-01-04"), SearchHit(2, "Shameless", None, "2011-01-09"),
             SearchHit(3, "Shameless Hearts", None, "2015-01-01")]
    assert pick_match("Shameless", 2010, cands).tmdb_id == 1      # type: ignore[union-attr]
    assert pick_match("Shameless", 2012, cands).tmdb_id == 2      # type: ignore[union-attr]
    assert pick_match("Shameless", 2001, cands) is None      # neither had started: report, don't guess
    assert pick_match("Shameless Heart", 2020, cands) is None


async def test_an_upload_never_rewrites_a_shared_show(make_engine: Any, probe: Any) -> None:
    """An export naming a show someone else has cannot change its title, year or episode counts for anyone."""
    from engine.store.testing import show_row
    engine = await make_engine()
    alice, mallory = await engine.person("console", "alice"), await engine.person("console", "mallory")
    doc = export_doc()
    await engine.import_history(alice, "export.json", json.dumps(doc).encode())
    target = doc["history"][0]["show"]
    before = await show_row(probe, target["ids"]["trakt"])
    evil = json.loads(json.dumps(doc))
    for row in evil["history"]:
        if row["show"]["ids"]["trakt"] == target["ids"]["trakt"]:
            row["show"].update(title="VISIT evil.example", year=1900, aired_episodes=1)
            row["show"]["ids"].update(tmdb=999_999_999, imdb="tt0000000")
    for row in evil["ratings"]:
        row["show"].update(title="VISIT evil.example")
    await engine.import_history(mallory, "export.json", json.dumps(evil).encode())
    assert await show_row(probe, target["ids"]["trakt"]) == before
    assert "evil" not in " ".join(h.title for h in await engine.history(alice, limit=500))


@pytest.mark.parametrize(("name", "data", "words"), [
    ("deep.json", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
])
async def test_hostile_json_gets_a_clear_error(make_engine: Any, name: str, data: bytes, words: str) -> None:
    engine = await make_engine()
    pid = await engine.person("console", "u")
    with pytest.raises(InvalidImport) as e:
        await engine.import_history(pid, name, data)
    assert words in e.value.user_message


async def test_a_zip_that_understates_its_size_is_refused(make_engine: Any, probe: Any) -> None:
    engine = await make_engine(MULTITUDES_IMPORTS__MAX_BYTES="50000")
    pid = await engine.person("console", "u")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("history.json", "[" + " " * 200_000 + "]")
    raw = bytearray(buf.getvalue())
    # rewrite the declared uncompressed size (local header and central directory) to 10 bytes
    local = raw.find(b"PK\x03\x04")
    raw[local + 22:local + 26] = (10).to_bytes(4, "little")
    central = raw.find(b"PK\x01\x02")
    raw[central + 24:central + 28] = (10).to_bytes(4, "little")
    with pytest.raises(InvalidImport) as e:
        await engine.import_history(pid, "liar.zip", bytes(raw))
    assert "Nothing was imported" in e.value.user_message
    assert await count(probe, pid) == 0


async def test_an_exports_time_zone_is_checked(make_engine: Any) -> None:
    engine = await make_engine()
    pid = await engine.person("console", "u")
    doc = export_doc()
    doc["settings"]["account"]["timezone"] = "Mars/Olympus_Mons'; DROP TABLE people;--"
    await engine.import_history(pid, "export.json", json.dumps(doc).encode())
    assert (await engine.person_settings(pid)).timezone in (None, "UTC")


async def test_a_huge_netflix_file_is_bounded_in_tmdb_lookups(fake_tmdb: FakeTmdb, make_engine: Any) -> None:
    """A file with hundreds of titles spends at most ``imports.max_lookups`` searches (the shows watched most
    first) and says what it did not look up."""
    from bot.render import import_report
    engine = await make_engine(tmdb=fake_tmdb, MULTITUDES_IMPORTS__MAX_LOOKUPS="10")
    pid = await engine.person("console", "u")
    rows = [(f"Ozark: Season 1: Episode {n}", f"1/{n}/22") for n in range(1, 6)]
    rows += [(f"Made Up Show {i}: Season 1: Pilot", "1/6/22") for i in range(200)]
    rep = await engine.import_history(pid, "viewing.csv", netflix_csv(rows))
    assert fake_tmdb.count("/3/search/tv") == 10
    assert rep.plays_added == 5 and len(rep.not_looked_up) == 191        # Ozark (most watched) was looked up
    assert "191 more titles not looked up" in import_report(rep)


# Netflix's real title shapes, each named (netflix.com/viewingactivity exports "Show: Season part: Episode")
SHAPES = {
    "season": ("The Witcher: Season 1: The End's Beginning", ("The Witcher", 1, "The End's Beginning")),
    "show name repeated with a number": ("Stranger Things: Stranger Things 4: Chapter One: The Hellfire Club",
                                         ("Stranger Things", 4, "Chapter One: The Hellfire Club")),
    "limited series": ("The Queen's Gambit: Limited Series: Openings", ("The Queen's Gambit", 1, "Openings")),
    "part": ("Money Heist: Part 2: Episode 3", ("Money Heist", 2, "Episode 3")),
    "volume": ("Love, Death & Robots: Volume 1: Sonnie's Edge", ("Love, Death & Robots", 1, "Sonnie's Edge")),
    "vol.": ("Love, Death & Robots: Vol. 2: Snow in the Desert", ("Love, Death & Robots", 2, "Snow in the Desert")),
    "book in words": ("Avatar: The Last Airbender: Book One: Water: The Boy in the Iceberg",
                      ("Avatar: The Last Airbender", 1, "Water: The Boy in the Iceberg")),
    "colon in the show name": ("Narcos: Mexico: Season 1: Camelot", ("Narcos: Mexico", 1, "Camelot")),
    "chapters as episodes": ("House of Cards: Season 1: Chapter 1", ("House of Cards", 1, "Chapter 1")),
    "comma in the episode": ("Squid Game: Season 1: Red Light, Green Light",
                             ("Squid Game", 1, "Red Light, Green Light")),
    "unicode, other locale": ("Élite: Temporada 2: Bienvenidos", ("Élite", 2, "Bienvenidos")),
    "german locale": ("Dark: Staffel 1: Geheimnisse", ("Dark", 1, "Geheimnisse")),
    "korean locale": ("오징어 게임: 시즌 1: 무궁화 꽃이 피었습니다", ("오징어 게임", 1, "무궁화 꽃이 피었습니다")),
    "roman numerals": ("Lupin: Part II: Chapter 6", ("Lupin", 2, "Chapter 6")),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_each_netflix_title_shape(shape: str) -> None:
    title, want = SHAPES[shape]
    assert split_netflix_title(title) == want


async def test_a_netflix_file_with_every_shape_imports_with_every_show_matched(make_engine: Any) -> None:
    engine = await make_engine()          # matched against the bundled catalogue (no TMDB here)
    pid = await engine.person("console", "u")
    shapes = [t for k, (t, _) in SHAPES.items() if k != "korean locale"]    # a title the catalogue spells in English
    data = netflix_csv([(t, f"{3 + i % 9}/{1 + i}/23") for i, t in enumerate(shapes)] + [
        ("Glass Onion: A Knives Out Mystery", "2/3/23"),                     # a film: skipped, counted
        ("Dark: Staffel 1: Lügen", "not a date"),                            # unreadable: skipped, reported
    ])
    rep = await engine.import_history(pid, "NetflixViewingHistory.csv", data)
    assert rep.unmatched == () and rep.rows_unmatched == 0
    assert rep.plays_seen == len(shapes) == rep.plays_added
    assert rep.shows == len({SHAPES[k][1][0] for k in SHAPES if k != "korean locale"})
    assert rep.bad == ("line 16: 'not a date' is not a date",)
    assert rep.plays_seen + len(rep.skipped) + len(rep.bad) + rep.rows_unmatched + rep.rows_not_looked_up \
        == rep.rows == len(shapes) + 2                                        # every row accounted for
    text = render.import_report(rep)
    assert "15 rows read: 13 episodes matched, 1 film or special skipped, 1 unreadable row skipped." in text
    titles = {h.title for h in await engine.history(pid, 50)}
    assert {"Stranger Things", "Elite", "Avatar: The Last Airbender", "Narcos: Mexico"} <= titles


async def test_netflix_plays_have_a_date_but_no_time_of_day(make_engine: Any) -> None:
    """Netflix gives dates only: nothing that needs a time of day reads them, and history shows the date alone."""
    engine = await make_engine()
    pid = await engine.person("console", "u")
    rows = [(f"Ozark: Season 1: E{i}", f"1/{1 + i}/22") for i in range(12)]
    await engine.import_history(pid, "NetflixViewingHistory.csv", netflix_csv(rows))
    report = await engine.personas(pid)
    assert report.personas and all(sum(p.hours) == 0 for p in report.personas)   # no invented evening
    assert all("evening" not in p.when for p in report.personas)
    assert all(abs(sum(p.weekdays) - 1) < 1e-3 for p in report.personas)        # the date still tells the weekday
    items = await engine.history(pid, 3)
    assert items and not any(h.timed for h in items)
    assert "20:00" not in render.history(items)


async def test_max_rows_counts_what_a_watched_document_would_store(make_engine: Any, probe: Any) -> None:
    """Issue 24 (6): one "watched" row of 200 episodes is 200 plays: with a limit of 10 the file is refused."""
    engine = await make_engine(MULTITUDES_IMPORTS__MAX_ROWS="10")
    pid = await engine.person("console", "u")
    e = catalogue()[0]
    watched = [{"plays": 200, "last_watched_at": "2024-01-01T20:00:00.000Z",
                "show": {"title": e["title"], "year": e["year"], "ids": {"trakt": e["trakt_id"], "tmdb": e["tmdb_id"]}},
                "seasons": [{"number": s, "episodes": [{"number": n, "plays": 1,
                                                         "last_watched_at": "2024-01-01T20:00:00.000Z"}
                                                        for n in range(1, 21)]} for s in range(1, 11)]}]
    with pytest.raises(InvalidImport) as err:
        await engine.import_history(pid, "watched.json", json.dumps(watched).encode())
    assert "more than 10" in err.value.user_message
    assert await count(probe, pid) == 0


async def test_a_large_import_lands_in_chunks_all_or_nothing(make_engine: Any, probe: Any,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 24 (6): a large file is written in short units (others use the store between them) and still lands
    whole or not at all — a failure after the chunks, or a cancellation during them, leaves nothing behind."""
    import asyncio

    from engine.usecases import library
    monkeypatch.setattr(library, "CHUNK", 50)
    engine = await make_engine()
    pid = await engine.person("console", "u")
    units = 0
    real_unit = engine._s.store.unit

    def counting_unit() -> Any:
        nonlocal units
        units += 1
        return real_unit()
    monkeypatch.setattr(engine._s.store, "unit", counting_unit)
    data = json.dumps({"history": history_rows(400, 15, seed=22)}).encode()
    rep = await engine.import_history(pid, "export.json", data)
    assert rep.plays_added == 400 and await count(probe, pid) == 400
    assert units >= 8                                             # eight chunks of 50, then the last unit
    assert await count_rows(probe, "import_staging") == 0
    # a failure in the last unit: the chunks already written are dropped
    other = await engine.person("console", "v")
    from engine.store.repos.history import HistoryRepo

    async def broken(*a: Any, **k: Any) -> None:
        raise RuntimeError("disk full")
    monkeypatch.setattr(HistoryRepo, "add_listed", broken)
    with pytest.raises(RuntimeError):
        await engine.import_history(other, "export.json", data)
    assert await count(probe, other) == 0 and await count_rows(probe, "import_staging") == 0
    monkeypatch.undo()
    monkeypatch.setattr(library, "CHUNK", 50)
    # cancelled in the middle of the chunks: nothing stays either
    third = await engine.person("console", "w")
    staged = asyncio.Event()
    real_stage = HistoryRepo.stage_plays

    async def stage(self: HistoryRepo, *a: Any, **k: Any) -> None:
        await real_stage(self, *a, **k)
        staged.set()
    monkeypatch.setattr(HistoryRepo, "stage_plays", stage)
    task = asyncio.create_task(engine.import_history(third, "export.json", data))
    await staged.wait()                                           # a chunk is in: cancel before the rest
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await count(probe, third) == 0 and await count_rows(probe, "import_staging") == 0


def test_a_crafted_netflix_title_costs_no_more_than_a_plain_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 24 (5): a title of 4,000 ': '-separated segments (a 10 KB file) compiled one pattern per prefix and took
    77 s. Measured in work, not time: no pattern is built from a title any more, and a title is read only as far as
    ``MAX_TITLE`` characters and ``MAX_SEGMENTS`` parts."""
    import re

    from engine.formats import netflix as imports
    built: list[str] = []
    real_match, real_compile = re.match, re.compile

    def match(pattern: Any, *a: Any, **k: Any) -> Any:
        built.append(str(pattern))
        return real_match(pattern, *a, **k)

    def compile_(pattern: Any, *a: Any, **k: Any) -> Any:
        built.append(str(pattern))
        return real_compile(pattern, *a, **k)
    monkeypatch.setattr(imports.re, "match", match)
    monkeypatch.setattr(imports.re, "compile", compile_)
    crafted = "a: " * 4000 + "Season 2"
    assert split_netflix_title(crafted) is None                         # no show is named 4,000 times over
    assert split_netflix_title("Show: " * 3000 + "Season 2: Pilot") is None
    assert split_netflix_title("Stranger Things: Stranger Things 4: Chapter One") == (
        "Stranger Things", 4, "Chapter One")
    assert built == []
    rows = imports.parse_netflix_rows("NetflixViewingHistory.csv",
                                      ("Title,Date\n" + f'"{crafted}",1/2/24\n' * 3).encode(), 100)
    assert rows.total == 3


async def test_one_import_per_person_at_a_time(make_engine: Any, probe: Any) -> None:
    """Issue 24 (11): four imports sent at once by one person: one runs, the others are refused with a reply;
    another person's import is not held up."""
    import asyncio

    from engine.values.errors import MultitudesError
    engine = await make_engine()
    pid, other = await engine.person("console", "u"), await engine.person("console", "v")
    data = json.dumps(export_doc()).encode()
    got = await asyncio.gather(*(engine.import_history(pid, "export.json", data) for _ in range(4)),
                               engine.import_history(other, "export.json", data), return_exceptions=True)
    refused = [g for g in got[:4] if isinstance(g, MultitudesError)]
    assert len(refused) == 3 and all("still running" in r.user_message for r in refused)
    assert not isinstance(got[4], BaseException) and got[4].plays_added == 400
    assert await count(probe, pid) == 400


async def test_an_upload_that_names_a_show_first_never_poisons_it(make_engine: Any, probe: Any) -> None:
    """Issue 24 (2): the file is first to name a show: its made-up slug and ids are refused at the edge, the row is
    stored unverified (its ids are used for no link, no watchlist write, no outside look-up), and the first trusted
    source to name the show replaces what the file said."""
    from engine.recommend.cards import links
    from engine.store.testing import show_facts
    from engine.values.models import ShowIds, ShowRef
    engine = await make_engine()
    mallory = await engine.person("console", "mallory")
    evil_slug = "x) · [Free Nitro](https://evil.example/claim"
    play = {"id": 1, "watched_at": "2024-03-01T20:00:00.000Z", "action": "watch", "type": "episode",
            "episode": {"season": 1, "number": 1, "title": "Winter", "ids": {"trakt": 1}},
            "show": {"title": "x) · [Free Nitro](https://evil.example/claim)\n\u202e", "year": 2011,
                     "ids": {"trakt": 1390, "slug": evil_slug * 40, "imdb": "javascript:alert(1)", "tmdb": -5}}}
    await engine.import_history(mallory, "export.json", json.dumps({"history": [play]}).encode())
    row = await show_facts(probe, 1390)
    assert row is not None and row["slug"] is None and row["imdb_id"] is None and row["tmdb_id"] is None
    assert row["verified"] == 0
    title = str(row["title"])
    assert "\n" not in title and "\u202e" not in title and len(title) <= 300
    async with probe.read() as uow:
        rec = await uow.shows.by_ids(ShowIds(trakt=1390))
    assert rec is not None and rec.trusted_ids == ShowIds()             # no link, no watchlist write, no look-up
    assert links(rec.meta, evil_slug, 1390, None, "javascript:alert(1)") == ("https://trakt.tv/shows/1390", None, None)
    # Trakt (trusted) names the show: its fields replace the file's, and the row is verified
    async with engine._s.store.unit() as uow:
        await uow.shows.upsert([ShowRef(ShowIds(trakt=1390, slug="game-of-thrones", tmdb=1399, imdb="tt0944947"),
                                        "Game of Thrones", 2011, 73)])
    row = await show_facts(probe, 1390)
    assert row is not None
    got = (row["title"], row["slug"], row["tmdb_id"], row["verified"])
    assert got == ("Game of Thrones", "game-of-thrones", 1399, 1)


ACTIVITY = (FIXTURES / "netflix_ViewingActivity_2026.csv").read_bytes()    # the full export's shape, all columns


async def test_netflix_full_export_asks_which_profile_and_imports_it_with_times(make_engine: Any) -> None:
    engine = await make_engine()
    pid = await engine.person("console", "u")
    with pytest.raises(InvalidImport) as e:                   # three profiles, none named: the person says which
        await engine.import_history(pid, "ViewingActivity.csv", ACTIVITY)
    assert "“Ann”" in e.value.user_message and "“Kids”" in e.value.user_message
    with pytest.raises(InvalidImport, match="no profile called 'Zed'"):
        await engine.import_history(pid, "ViewingActivity.csv", ACTIVITY, profile="Zed")
    assert await engine.history(pid, 10) == []                # nothing written by either refusal

    rep = await engine.import_history(pid, "ViewingActivity.csv", ACTIVITY, profile="ann")
    assert rep.kind == "netflix-activity"
    # Ozark S3 Wartime, S3 Su Casa (two sessions: resumed, one play), S2 Reparations, S1 Sugarwood twice (2024 and a
    # rewatch in 2026); Stranger Things 4 ch. 1 — the trailer, hook, recap and a 45-second autoplay are left out
    assert rep.plays_added == 6 and rep.extras == 4 and rep.skipped == ("Glass Onion: A Knives Out Mystery",)
    assert len(rep.bad) == 1 and "not a time" in rep.bad[0]
    got = sorted(await engine.history(pid, 20), key=lambda h: h.watched_at)
    assert all(h.timed for h in got)                                        # real times of day
    su_casa = next(h for h in got if h.episode_title == "Su Casa Es Mi Casa")
    assert su_casa.watched_at.isoformat() == "2026-03-13T21:15:47+00:00"   # the first session, in UTC
    assert {h.title for h in got} == {"Ozark", "Stranger Things"}          # Ben's and the kids' rows stay out
    text = render.import_report(rep)
    assert "with times" in text and "4 trailers, recaps or short sessions left out" in text
    again = await engine.import_history(pid, "ViewingActivity.csv", ACTIVITY, profile="Ann")
    assert again.plays_added == 0                                           # idempotent


async def test_a_one_profile_full_export_needs_no_name(make_engine: Any) -> None:
    engine = await make_engine()
    pid = await engine.person("console", "u")
    ben = b"\n".join(line for line in ACTIVITY.split(b"\n") if line.startswith((b"Profile", b"Ben,")))
    rep = await engine.import_history(pid, "ViewingActivity.csv", ben)
    assert rep.kind == "netflix-activity" and rep.plays_added == 2
