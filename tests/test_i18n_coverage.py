"""Every word a person reads comes through the catalogues: a pseudo-language run of the whole conversation.

The pseudo-language (``qps``) brackets every marked message — ``⟦Nothing new to recommend right now.⟧`` — and leaves
anything the code never marked bare. One person (and a group) runs every command, the good and the wrong, through
the in-memory front end on the demo's sample history; once the brackets and what is data (show titles, persona
names, networks, services, numbers, links) are taken away, no word may be left: a word left is English the
catalogues never saw, and the test names the message it came from. Then the same conversation in French and
Japanese reads with no English sentence left."""

from __future__ import annotations

import calendar
import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot import discord_chat, render, telegram_chat
from bot.conversation import Conversation
from bot.memory import MemoryPlatform, Sent
from engine.values import i18n
from engine.values.catalogue import load_catalogue
from tests.catalogues import PSEUDO, Pseudo

SCRIPT = [
    "help", "sync", "history 3", "history lots", "stats", "stats year", "stats year 2021", "stats year x y",
    "stats all", "personas", "recommend", "recommend all", "recommend crowd", "bridge", "recommend bridge a + b + c",
    'recommend like:"Breaking Bad"', 'recommend like:"Breking Bad"', 'recommend mood:"something dark and funny"',
    'recommend mood:"zzzz qqqq"', "recommend genre:+xyzzy", "recommend genre:+comdy", "recommend k:99",
    "recommend colour:blue", "recommend runtime:<30 status:airing", "recommend anime:maybe", "recommend lang:english",
    "next", "tonight 90m", 'tonight 2h mood:"light"', "tonight", "tonight 90m later", "tonight soon", "tonight -3",
    "tonight 5m", "upcoming", "upcoming ics", "upcoming soon", "settings", "settings tz:Europe/Paris quiet:23-08",
    "settings tz:Mars/Base", "settings lang:klingonx", "settings colour:blue", "settings quiet:25-99",
    "settings alerts:maybe", "settings group:on", "settings channel:here", "settings region:Atlantis",
    "settings services:netflix,notaservice", "settings filters:genre:+xyzzy", "settings trakt:sideways",
    "settings lang", "groupwatch", 'rate "Breaking Bad" 9', 'rate "Breaking Bad" 11', "rate Nothingatall 5", "rate x",
    "watched S02E04",
    "watched nope", "export", "link jellyfin", "link gopher", "unlink", "unlink jellyfin", "forget", "nosuchcommand",
]


DATE_WORDS = {w.lower() for w in (*calendar.day_abbr, *calendar.month_abbr, *calendar.day_name) if w}  # Babel's


@pytest.fixture
def pseudo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    real = i18n.translations

    def translations(lang: str | None) -> Any:
        return Pseudo() if i18n.base(lang) == PSEUDO else real(lang)

    monkeypatch.setattr(i18n, "translations", translations)
    yield


def data_words() -> set[str]:
    """Words that are data, never interface: titles, networks, services, countries of the sample catalogue."""
    words: set[str] = set()
    for show in load_catalogue():
        for text in (show.get("title"), show.get("network"), *(show.get("providers") or ())):
            words.update(w.lower() for w in re.findall(r"[^\W\d_]+", str(text or "")))
    return words


async def converse(lang: str, make_engine: Any) -> tuple[list[tuple[str, str]], set[str]]:
    """(what was typed, what was said) for the whole script, in ``lang``; and the words of ann's persona names (data:
    named once, when her personas were found)."""
    engine = await make_engine()
    p = MemoryPlatform(Conversation(engine), locale=lang)
    said: list[tuple[str, str]] = []

    def note(typed: str, sent: list[Sent]) -> None:
        for s in sent:
            said.append((typed, s.text))
            if s.rec is not None:                   # the whole card as the console, Telegram and Discord show it
                with i18n.speaking(lang):
                    said.append((typed, render.pick(s.rec)))
                    said.append((typed, re.sub(r"<[^>]+>", "", telegram_chat.pick_text(s.rec))))
                    embed = discord_chat.pick_embed(s.rec)
                    said.append((typed, "\n".join([embed.footer.text or "", *(f"{f.name}: {f.value}"
                                                                               for f in embed.fields)])))
                    for row in [*telegram_chat.feedback_keyboard(1, True).inline_keyboard,
                                *telegram_chat.vote_keyboard(1).inline_keyboard]:
                        said.append((typed, " ".join(b.text for b in row)))

    for line in SCRIPT:
        note(line, await p.say("ann", line))
        if line == "recommend":
            picks = p.picks()
            for action, pick in zip(("liked", "not_for_me", "seen"), picks, strict=False):
                note(f"button {action}", await p.press("ann", f"fb:{pick.rec.event_id}:{action}"))   # type: ignore
            if picks:
                note("react", await p.react("ann", picks[-1].ref or "", "📌"))
        if line == "forget":
            confirm = [s for s in p.sent if s.kind == "confirm"][-1]
            note("forget no", await p.press("ann", f"cf:{confirm.token}:no"))
    note("forged", await p.press("ann", "fb:notanumber:liked"))
    note("forged", await p.press("ann", "zz:whatever"))
    note("rating", await p.press("ann", "rt:999999:11"))
    rows = io.StringIO()
    csv.writer(rows).writerows([["Title", "Date"], ["Ozark: Season 1: Sugarwood", "1/5/22"], ["Nope", "x"]])
    note("netflix", await p.upload("ann", "NetflixViewingHistory.csv", rows.getvalue().encode()))
    note("bad file", await p.upload("ann", "x.json", b"{not json"))
    note("too big", await p.upload("ann", "big.csv", b"x" * (engine.settings.imports.max_bytes + 1)))
    for who in ("ann", "ben"):                                  # a group night
        note(f"{who} group", await p.say(who, "settings group:on", group="g1"))
    note("groupwatch", await p.say("ann", "groupwatch in:2h at:21:00", group="g1"))
    for pick in p.picks()[-3:]:
        for who in ("ann", "ben"):
            note("vote", await p.press(who, f"gv:{pick.rec.event_id}:up", group="g1"))            # type: ignore
    note("groupwatch", await p.say("ann", "groupwatch in:1s", group="g1"))
    note("stranger vote", await p.press("zed", "gv:1:up", group="g1"))
    report = await engine.personas(await engine.find_person(p.name, "ann"))
    return said, {w.lower() for x in report.personas for w in re.findall(r"[^\W\d_]+", x.name)}


async def test_every_word_of_every_reply_comes_from_the_catalogues(pseudo: None, make_engine: Any) -> None:
    said, personas = await converse(PSEUDO, make_engine)
    assert len(said) > 100
    allowed = data_words() | personas | {
        "http", "https", "www", "trakt", "tmdb", "imdb", "ann", "ben", "zed", "utc",       # links, people, a zone
        *DATE_WORDS}
    leaks: dict[str, set[str]] = {}
    for typed, text in said:
        for shown, words in leaks_in([text], allowed):
            leaks.setdefault(f"{typed!r}: {shown!r}", set()).update(words)
    assert not leaks, "English outside the catalogues:\n" + "\n".join(f"{k} -> {sorted(v)}" for k, v in leaks.items())


@pytest.mark.parametrize("lang", ["fr", "ja"])
async def test_the_conversation_in_french_and_japanese(lang: str, make_engine: Any) -> None:
    """The same conversation in English and in ``lang``: every reply that says something (three words or more)
    reads differently, and none carries the English of a reply the catalogues know."""
    english, _personas = await converse("en", make_engine)
    theirs, _personas = await converse(lang, make_engine)
    assert [typed for typed, _t in english] == [typed for typed, _t in theirs]
    same = [(typed, en) for (typed, en), (_typed, t) in zip(english, theirs, strict=True)
            if en == t and len(re.findall(r"[A-Za-z]{3,}", en)) >= 3 and not _data_only(en)]
    assert not same, f"{lang}: still English: {same[:5]}"
    text = "\n".join(t for _typed, t in theirs)
    for phrase in ("Unknown command", "Nothing new to recommend", "went wrong on my side", "Try /help"):
        assert phrase not in text


def _data_only(text: str) -> bool:
    """A reply that is only data the same in every language: a pick's title line as the memory chat prints it
    is never that (it carries its reason), a bare list of titles is."""
    return not re.search(r"[a-z]{3,} [a-z]{3,} [a-z]{3,}", text)


def leaks_in(texts: list[str], allowed: set[str]) -> list[tuple[str, list[str]]]:
    """The words of ``texts`` outside every bracketed catalogue message (brackets nest: a message in another), links
    and code spans (typed as they are), that are not data."""
    out = []
    for text in texts:
        rest = re.sub(r"https?://\S+|`[^`]*`", " ", text)
        while (inner := re.sub(r"⟦[^⟦⟧]*⟧", " ", rest)) != rest:
            rest = inner
        words = sorted({w for w in re.findall(r"[A-Za-z]{3,}", rest) if w.lower() not in allowed})
        if words:
            out.append((text[:160], words))
    return out


def test_what_is_said_without_a_conversation_comes_from_the_catalogues(pseudo: None) -> None:
    """Alerts of every kind, the digest, Seerr's every answer, the media-server link, each sync and import report
    and the calendar file — written by the scheduler or for rarer answers, so the conversation run above may not
    reach them — are catalogue messages too."""
    from bot import render_alerts, render_media, render_plans
    from engine.formats.ics import Airing, calendar
    from engine.values.alerts import ArrivalAlert, BingeAlert, CatchupAlert, Digest, PremiereAlert, ReturningAlert
    from engine.values.models import ImportReport, ShowIds, SyncReport, Upcoming
    from engine.values.plans import CalendarFile, Outcome, Requested

    at = datetime(2026, 12, 8, 20, 0, tzinfo=UTC)
    base = {"id": 1, "person_id": 1, "show_id": 1, "title": "Severance", "year": 2022, "season": 2, "event_at": at,
            "due_at": at, "network": "Apple TV+"}
    alerts = [PremiereAlert(**base), PremiereAlert(**{**base, "network": None}), BingeAlert(**base, episodes=10),
              BingeAlert(**base), ReturningAlert(**base, gap_days=1100), ReturningAlert(**base, gap_days=365),
              CatchupAlert(**base, episodes_left=9, started=True), CatchupAlert(**base, episodes_left=9),
              CatchupAlert(**base, episodes_left=9, related=("Lost", "Dark")),
              ArrivalAlert(**base, service="Netflix"), ArrivalAlert(**base, service="Netflix", arrived=False)]
    with i18n.speaking(PSEUDO):
        texts = [render_alerts.alert(a) for a in alerts]
        texts.append(render_alerts.pending_alerts(alerts, "Europe/Paris"))
        texts.append(render_alerts.digest(Digest(1, "2026-W50", None, (Upcoming(1, "Severance", 2, 3, at, "episode"),),
                                                 4, 1)))
        texts += [render_media.requested(Requested("Severance", o)) for o in Outcome]
        texts += [render_media.server_code("Plex", "ABCD"), render_media.server_code("Jellyfin", "123456"),
                  render_media.server_linked("Jellyfin", "ann")]
        texts += [render.sync_report(SyncReport(new_plays=3, removed_plays=1, ratings=2, watchlist=1, hidden=1,
                                                requests=4, sections=("history", "ratings"), enriched=2)),
                  render.sync_report(SyncReport(requests=1, unchanged=True, source="jellyfin")),
                  render.sync_report(SyncReport(new_plays=5, requests=2, source="jellyfin"))]
        texts += [render.import_report(ImportReport("netflix-activity", 8, 10, 3, rows=40, rows_unmatched=2,
                                                    extras=5, skipped=("A film",), unmatched=("Unknown show",))),
                  render.import_report(ImportReport("netflix", 8, 10, 3, rows=40, rows_unmatched=2,
                                                    rows_not_looked_up=3, not_looked_up=("Later",),
                                                    bad=("line 4: no date",), skipped=("A film",))),
                  render.import_report(ImportReport("trakt", 8, 8, 3, ratings=2, watchlist=1)),
                  render.import_report(ImportReport("multitudes export", 8, 8, 3, skipped=("2 old alerts",)))]
        texts += [render_plans.calendar_caption(CalendarFile("x.ics", b"", 5, 2, 60)),
                  render_plans.calendar_caption(CalendarFile("x.ics", b"", 0, 0, 60))]
        ics = calendar([Airing(ShowIds(trakt=1), 1, "Severance", 2, None, at, False, where=("Apple TV+",))], None, at)
    texts.append(re.sub(r"\r?\n[ \t]", "", ics.decode()))
    allowed = data_words() | DATE_WORDS | {"severance", "ann", "abcd", "utc", "lost", "dark"}
    leaks = [(t, w) for t, w in leaks_in(texts, allowed)
             if not t.startswith("BEGIN:VCALENDAR")]
    assert not leaks, leaks
    described = re.findall(r"^(?:SUMMARY|DESCRIPTION|X-WR-CALNAME):(.*)$", texts[-1], flags=re.M)
    assert described and all("⟦" in d for d in described if d != "Severance S02"), described
