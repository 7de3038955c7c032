"""Their language: `/settings lang:` read from a code or a name (Babel's CLDR data), refused clearly otherwise, and
the picks' titles and overviews in it where TMDB translated them — the person's setting first, else their app's."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.grammar import parse_settings, settings_text
from engine.values.errors import MultitudesError
from engine.values.languages import language, language_name, language_tag
from engine.values.models import RecommendRequest
from tests.conftest import link_person
from tests.fakes.catalogue import history_rows
from tests.fakes.tmdb import FakeTmdb
from tests.fakes.trakt import FakeTrakt
from tests.frontends import discord_bot, telegram_bot


@pytest.mark.parametrize(("text", "tag"), [
    ("fr", "fr"), ("FR", "fr"), ("pt-br", "pt-BR"), ("pt_BR", "pt-BR"), ("zh_Hant", "zh-Hant"), ("en-US", "en-US"),
    ("French", "fr"), ("français", "fr"), ("Deutsch", "de"), ("german", "de"), ("español", "es"), ("日本語", "ja"),
    ("Japanese", "ja"), ("xx", None), ("", None), ("klingonx", None), ("a" * 60, None),
])
def test_a_language_from_a_code_or_a_name(text: str, tag: str | None) -> None:
    assert language(text) == tag


def test_an_unknown_language_is_refused_with_the_closest_names() -> None:
    with pytest.raises(MultitudesError) as e:
        language_tag("Frnech")
    assert "not a language I know" in e.value.user_message and "lang:french" in e.value.user_message
    with pytest.raises(MultitudesError) as e:
        language_tag("qqqqqq")
    assert "lang:fr" in e.value.user_message                  # no close name: an example instead
    assert language_name("fr") == "French (français)" and language_name("en") == "English"


async def test_the_setting_is_kept_shown_and_reset(make_engine: Any) -> None:
    engine = await make_engine()
    pid = await engine.person("console", "amelie")
    s = await engine.update_settings(pid, **parse_settings(["lang:français"]))
    assert s.lang == "fr" and "titles and overviews in: French (français)" in settings_text(s)
    with pytest.raises(MultitudesError) as e:
        await engine.update_settings(pid, **parse_settings(["lang:klingonx"]))
    assert "not a language I know" in e.value.user_message
    assert (await engine.person_settings(pid)).lang == "fr"    # a refused value changes nothing
    s = await engine.update_settings(pid, **parse_settings(["lang:auto"]))
    assert s.lang is None and "your app’s language" in settings_text(s)


async def test_picks_in_the_persons_language_where_tmdb_has_it(fake_trakt: FakeTrakt, fake_tmdb: FakeTmdb,
                                                               make_engine: Any) -> None:
    for n, tid in enumerate(sorted(fake_tmdb.shows)):
        fake_tmdb.translate(tid, "fr", "FR", f"{fake_tmdb.shows[tid]['title']} (VF)", "Un résumé en français.")
        if n % 2:                                               # half of them in German too
            fake_tmdb.translate(tid, "de", "DE", f"{fake_tmdb.shows[tid]['title']} (DE)", "")
    fake_trakt.add_user("amelie", history=history_rows(300, 20, seed=5))
    engine = await make_engine(trakt=fake_trakt, tmdb=fake_tmdb)
    pid = await link_person(engine, fake_trakt, "amelie")
    await engine.sync(pid)

    english = await engine.recommend(RecommendRequest(pid, k=5, lang="en-GB"))
    assert english.items and not any(i.title.endswith(("(VF)", "(DE)")) for i in english.items)
    assert fake_tmdb.count("/3/tv/", "GET") and not any("/translations" in r.path for r in fake_tmdb.requests)

    german = await engine.recommend(RecommendRequest(pid, k=5, lang="de"))      # their app's language
    with_tmdb = [i for i in german.items if i.tmdb_id]
    assert with_tmdb and all(i.title.endswith("(DE)") == (sorted(fake_tmdb.shows).index(i.tmdb_id) % 2 == 1)
                             for i in with_tmdb)
    for i in with_tmdb:                 # no German overview: the English one stays (an empty text replaces nothing)
        assert (fake_tmdb.shows[i.tmdb_id].get("overview") or "").startswith(i.overview)

    await engine.update_settings(pid, lang="français")                          # the setting comes first
    french = await engine.recommend(RecommendRequest(pid, k=5, lang="de"))
    assert all(i.title.endswith("(VF)") and i.overview == "Un résumé en français." for i in french.items
               if i.tmdb_id)
    asked = [r.path for r in fake_tmdb.requests if r.path.endswith("/translations")]
    assert asked and len(asked) == len(set(asked))          # one request per show, cached: it serves every language

    fake_tmdb.inject(503, 10_000, path_prefix="/3/tv/")                         # TMDB down: the list, untranslated
    down = await engine.recommend(RecommendRequest(pid, k=5))
    known = {int(path.split("/")[3]) for path in asked}
    assert down.items and all(not i.title.endswith("(VF)") for i in down.items if i.tmdb_id not in known)


async def test_telegram_answers_in_the_language_of_the_app(fake_tmdb: FakeTmdb, make_engine: Any) -> None:
    """No setting: Telegram's ``language_code`` chooses the titles; ``/settings lang:`` then overrides it."""
    for tid in fake_tmdb.shows:
        fake_tmdb.translate(tid, "fr", "FR", f"{fake_tmdb.shows[tid]['title']} (VF)", "Un résumé en français.")
        fake_tmdb.translate(tid, "ja", "JP", f"{fake_tmdb.shows[tid]['title']} (JA)", "")
    export = json.dumps({"history": history_rows(200, 15, seed=9)}).encode()
    async with telegram_bot(make_engine, tmdb=fake_tmdb) as tg:
        tg.document(7, "history.json", export)
        await tg.wait_sent(1)
        assert "Imported" in tg.sent[0]["text"]
        tg.command(7, "/recommend k:2", lang="fr")
        picks = (await tg.wait_sent(4))[2:4]
        assert all("(VF)" in (m.get("caption") or m["text"]) for m in picks)
        tg.command(7, "/settings lang:日本語", lang="fr")
        await tg.wait_sent(5)
        assert "タイトルとあらすじの言語：日本語" in tg.sent[4]["text"]     # said in the language just chosen
        tg.command(7, "/recommend k:2", lang="fr")
        picks = (await tg.wait_sent(8))[6:8]
        assert all("(JA)" in (m.get("caption") or m["text"]) for m in picks)


async def test_discord_answers_in_the_language_of_the_app(fake_tmdb: FakeTmdb, make_engine: Any) -> None:
    """No setting: the interaction's locale chooses the titles; the ``lang`` option of /settings overrides it."""
    for tid in fake_tmdb.shows:
        fake_tmdb.translate(tid, "pt", "BR", f"{fake_tmdb.shows[tid]['title']} (BR)", "")
        fake_tmdb.translate(tid, "de", "DE", f"{fake_tmdb.shows[tid]['title']} (DE)", "")
    export = json.dumps({"history": history_rows(200, 15, seed=9)}).encode()
    async with discord_bot(make_engine, tmdb=fake_tmdb) as dc:
        await dc.upload(7, "import", "file", "history.json", export)
        await dc.wait_sent(1)
        await dc.slash(7, "recommend", {"filters": "k:2"}, locale="pt-BR")
        sent = await dc.wait_sent(4)
        titles = [e["title"] for m in sent[2:4] for e in m.get("embeds") or []]
        assert len(titles) == 2 and all("(BR)" in t for t in titles)
        await dc.slash(7, "settings", {"lang": "Deutsch"}, locale="pt-BR")
        assert "Titel und Beschreibungen auf: Deutsch" in (await dc.wait_sent(5))[4]["content"]
        await dc.slash(7, "recommend", {"filters": "k:2"}, locale="pt-BR")
        sent = await dc.wait_sent(8)
        titles = [e["title"] for m in sent[6:8] for e in m.get("embeds") or []]
        assert len(titles) == 2 and all("(DE)" in t for t in titles)


async def test_a_first_list_is_in_their_language_too(fake_tmdb: FakeTmdb, make_engine: Any) -> None:
    for tid in fake_tmdb.shows:
        fake_tmdb.translate(tid, "es", "ES", f"{fake_tmdb.shows[tid]['title']} (ES)", "Un resumen.")
    engine = await make_engine(tmdb=fake_tmdb)
    pid = await engine.person("console", "nadie")                 # no history: popular and airing shows
    first = await engine.recommend(RecommendRequest(pid, k=3, lang="es-MX"))
    assert first.items and all("(ES)" in i.title for i in first.items if i.tmdb_id)
