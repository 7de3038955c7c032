"""/export: everything stored about a person as one JSON document; sent to a fresh deployment (SQLite or
PostgreSQL) it restores them — the second export equals the first, section by section."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.values.errors import InvalidImport
from engine.values.models import FeedbackKind, Filters, RecommendRequest
from tests.conftest import link_person
from tests.fakes.catalogue import history_rows
from tests.fakes.tmdb import FakeTmdb
from tests.fakes.trakt import FakeTrakt

pytestmark = pytest.mark.both_stores        # the deployment restored into: SQLite and PostgreSQL

DERIVED = ("exported_at", "personas", "crowd")      # recomputed where the person lands
PLACE = ("share_cowatch", "group_opt_in", "alert_channel")


def comparable(raw: bytes) -> dict[str, Any]:
    doc = json.loads(raw)
    for key in DERIVED:
        doc.pop(key)
    doc["person"].pop("display_name")
    for key in PLACE:
        doc["person"]["settings"].pop(key)
    for pick in doc["picks"]:
        pick.pop("persona")                         # personas are new there: a restored pick is not tied to one
    for rows in doc.values():                       # a file's slug is never stored (it becomes a link); a trusted
        for row in rows if isinstance(rows, list) else ():     # source brings it back when it names the show
            row["show"]["ids"].pop("slug", None)
    return dict(doc)


async def _source(tmp_path: Path, make_engine: Any, trakt: FakeTrakt, tmdb: FakeTmdb) -> bytes:
    """Ann on her old deployment (SQLite): synced from Trakt, picks with feedback, settings, alerts scanned."""
    trakt.add_user("ann", history=history_rows(400, 25, years=3, seed=43))
    old = await make_engine(trakt=trakt, tmdb=tmdb, storage="old-sqlite",
                            MULTITUDES_STORAGE__PATH=str(tmp_path / "old.db"))
    pid = await link_person(old, trakt, "ann")
    await old.sync(pid)
    await old.update_settings(pid, timezone="Europe/Paris", region="FR", digest=True, alert_binge=False,
                              default_filters=Filters(genres_out=("horror",)))
    picks = await old.recommend(RecommendRequest(pid, k=5, platform="telegram"))
    await old.record_feedback(pid, picks.items[0].event_id, FeedbackKind.NOT_FOR_ME)
    await old.record_feedback(pid, picks.items[1].event_id, FeedbackKind.LIKED)
    await old.record_feedback(pid, picks.items[2].event_id, FeedbackKind.SEEN)
    await old.scan_alerts([pid])
    return bytes(await old.export(pid))


async def test_an_export_restores_the_person_in_a_fresh_deployment(tmp_path: Path, make_engine: Any,
                                                                  fake_trakt: FakeTrakt, fake_tmdb: FakeTmdb) -> None:
    first = await _source(tmp_path, make_engine, fake_trakt, fake_tmdb)
    doc = json.loads(first)
    assert (doc["format"], doc["version"]) == ("multitudes-export", 1)
    assert len(doc["plays"]) == 400 and len(doc["picks"]) == 5 and doc["personas"]
    assert sum(len(p["feedback"]) for p in doc["picks"]) == 3 and doc["dismissed"]
    assert doc["alerts"]                            # the scan decided some: they travel too
    assert doc["person"]["settings"]["region"] == "FR" and doc["person"]["timezone"] == "Europe/Paris"

    new = await make_engine()                                   # a fresh deployment, no Trakt configured
    pid = await new.person("telegram", "777", "Ann")
    report = await new.import_history(pid, "multitudes-export.json", first)
    assert report.kind == "multitudes export" and report.plays_added == 400
    second = await new.export(pid)
    assert comparable(second) == comparable(first)
    # sending the same file again changes nothing
    again = await new.import_history(pid, "multitudes-export.json", first)
    assert again.plays_added == 0
    assert comparable(await new.export(pid)) == comparable(second)
    # the restored person is served as before: what she said no to stays out, her settings hold
    got = await new.recommend(RecommendRequest(pid, k=10))
    kept_out = {p["show"]["title"] for p in doc["picks"] if p["feedback"] and
                any(f["kind"] in ("not_for_me", "seen") for f in p["feedback"])}
    assert kept_out and not kept_out & {r.title for r in got.items}
    assert (await new.person_settings(pid)).default_filters.genres_out == ("horror",)


async def test_an_export_names_no_one_else_and_holds_no_secret(tmp_path: Path, make_engine: Any,
                                                               fake_trakt: FakeTrakt, fake_tmdb: FakeTmdb) -> None:
    raw = await _source(tmp_path, make_engine, fake_trakt, fake_tmdb)
    text = raw.decode()
    for secret in ("access_token", "refresh_token", fake_trakt.client_secret):
        assert secret not in text
    doc = json.loads(raw)
    assert set(doc["person"]) == {"display_name", "timezone", "settings"}           # no identities, no tokens
    assert all(set(m) <= {"show", "rating", "rated_at"} for member in doc["crowd"] for m in member)


@pytest.mark.parametrize("change, words", [
    (lambda d: d.update(version=2), "version 2"),
    (lambda d: d["ratings"].append({"show": d["plays"][0]["show"], "rating": 11, "rated_at": None}), "ratings.0"),
    (lambda d: d["plays"][0]["show"]["ids"].update(slug="x) · [Free Nitro](https://evil.example"), "slug"),
    (lambda d: d["plays"][3].update(watched_at="yesterday"), "watched_at"),
    (lambda d: d["person"].update(timezone="Mars/Olympus"), "time zone"),
    (lambda d: d["picks"].append(dict(d["picks"][0], mode="telepathy")), "mode"),
])
async def test_a_damaged_or_forged_export_is_refused_whole(tmp_path: Path, make_engine: Any, fake_trakt: FakeTrakt,
                                                           fake_tmdb: FakeTmdb, change: Any, words: str) -> None:
    raw = await _source(tmp_path, make_engine, fake_trakt, fake_tmdb)
    doc = json.loads(raw)
    doc["ratings"] = []
    change(doc)
    new = await make_engine()
    pid = await new.person("telegram", "778", "Ann")
    with pytest.raises(InvalidImport) as e:
        await new.import_history(pid, "export.json", json.dumps(doc).encode())
    assert words in e.value.user_message and "Nothing was imported" in e.value.user_message
    after = json.loads(await new.export(pid))
    assert not any(after[k] for k in ("plays", "ratings", "watchlist", "hidden", "dismissed", "picks", "alerts"))
