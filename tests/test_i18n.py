"""The interface through gettext catalogues: every message marked in the code is translated in every catalogue
(French, German, Spanish, Japanese), keeps its commands and code spans, and reaches people — Telegram's command menu
per language, Discord's description localizations, /help in the app's language or the person's setting."""

from __future__ import annotations

import io
import re
import string
from typing import Any

import pytest
from babel.messages.catalog import Catalog

from bot.console import Console
from bot.i18n import LANGUAGES, gettext
from tests.catalogues import catalogue, marked
from tests.frontends import discord_bot, telegram_bot
from tests.test_console import scripted

KEPT = re.compile(r"`[^`]+`|(?<![\w/])/[a-z]+\b|[👍👎👀📌📥]")      # what a translation must carry over unchanged


def fields(text: str) -> set[str]:
    """The ``{placeholders}`` of a message."""
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_there_is_something_to_translate() -> None:
    msgs = marked()
    assert len(msgs) >= 30 and "how Multitudes works" in msgs and "How Multitudes works" in msgs


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_marked_message_is_in_the_catalogue_and_translated(lang: str) -> None:
    msgs, cat = marked(), catalogue(lang)
    missing = sorted(map(str, (m for m in msgs if m not in cat)))
    untranslated = sorted(map(str, (m for m in msgs if m in cat and not all(str(x).strip() for x in (
        cat[m] if isinstance(cat[m], tuple) else (cat[m],))))))
    stale = sorted(map(str, (m for m in cat if m not in msgs)))
    assert not missing, f"{lang}: not in the catalogue: {missing}"
    assert not untranslated, f"{lang}: untranslated: {untranslated}"
    assert not stale, f"{lang}: no longer in the code: {stale}"
    for m in msgs:
        sources = m if isinstance(m, tuple) else (m,)
        forms = cat[m] if isinstance(cat[m], tuple) else (cat[m],)
        if isinstance(m, tuple):
            assert len(forms) == Catalog(locale=lang).num_plurals, f"{lang}: {m!r} has {len(forms)} plural forms"
        for form in forms:
            assert isinstance(form, str)
            lost = [k for k in KEPT.findall(sources[-1]) if k not in form]
            assert not lost, f"{lang}: {m!r} loses {lost} in {form!r}"
            # a placeholder the translation invents fails at .format(); one it drops loses a value (a count may
            # be left out of a language's singular form: "un épisode")
            assert fields(form) <= fields(sources[-1]), f"{lang}: {m!r} invents {fields(form) - fields(sources[-1])}"
            dropped = fields(sources[-1]) - fields(form) - ({"n"} if isinstance(m, tuple) else set())
            assert not dropped, f"{lang}: {m!r} drops {dropped} in {form!r}"


def test_a_language_without_a_catalogue_reads_english() -> None:
    assert gettext("pt-BR", "how Multitudes works") == "how Multitudes works"
    assert gettext(None, "how Multitudes works") == "how Multitudes works"
    assert gettext("es-419", "how Multitudes works") == "cómo funciona Multitudes"     # the language, any region


async def test_telegram_menus_and_help_in_the_language_of_the_app(make_engine: Any) -> None:
    async with telegram_bot(make_engine) as tg:
        menus = {p.get("language_code"): p for method, p in tg.calls if method == "setMyCommands"}
        assert set(menus) == {None, *LANGUAGES}
        assert "comment fonctionne Multitudes" in str(menus["fr"]["commands"])
        assert "Multitudes の使い方" in str(menus["ja"]["commands"])
        tg.command(5, "/help", lang="de")
        await tg.wait_sent(1)
        assert tg.sent[0]["text"].startswith("Ich empfehle Serien aus deinem Trakt-Verlauf")
        assert "/recommend [all | crowd" in tg.sent[0]["text"]                  # the syntax stays as typed
        tg.command(5, "/settings lang:es", lang="de")
        await tg.wait_sent(2)
        tg.command(5, "/help", lang="de")                                       # the setting comes first
        await tg.wait_sent(3)
        assert tg.sent[2]["text"].startswith("Recomiendo series")


async def test_discord_descriptions_and_help_in_each_locale(make_engine: Any) -> None:
    async with discord_bot(make_engine) as dc:
        helps = [c for c in dc.commands if c["name"] == "help"]
        assert helps and helps[0]["description"] == "How Multitudes works"
        loc = helps[0].get("description_localizations") or {}
        assert loc.get("fr") == "Comment fonctionne Multitudes" and loc.get("ja") == "Multitudes の使い方"
        assert loc.get("es-ES") == loc.get("es-419") == "Cómo funciona Multitudes" and "pt-BR" not in loc
        assert all(not (c.get("name_localizations") or {}) for c in dc.commands)      # names stay English
        await dc.slash(9, "help", locale="fr")
        sent = await dc.wait_sent(1)
        assert sent[0]["content"].startswith("Je recommande des séries")
        await dc.slash(9, "settings", {"lang": "es"}, locale="fr")
        await dc.wait_sent(2)
        await dc.slash(9, "help", locale="fr")                                  # the setting comes first
        assert (await dc.wait_sent(3))[2]["content"].startswith("Recomiendo series")


async def test_the_console_speaks_the_setting(make_engine: Any) -> None:
    """The console has no app language: `settings lang:` is it, for the conversation and the console's own words
    (its help, its usage lines), and the confirmation already reads in the language just chosen."""
    engine = await make_engine()
    out = io.StringIO()
    con = Console(engine, out=out, user="amelie", read_line=scripted(
        ["settings lang:français", "help", "vote", "history lots", "nope 9", "settings lang:auto", "help"]))
    await con.run()
    text = out.getvalue()
    assert "titres et résumés en : français" in text
    assert "Commandes :" in text and "vos N derniers visionnages" in text
    assert "Usage : vote N up|down" in text and "Usage : history [N] avec N de 1 à 1000." in text
    assert "Usage : nope N, où N est une suggestion de la dernière liste" in text
    assert text.rstrip().endswith("quit               leave")                # lang:auto: English again
