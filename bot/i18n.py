"""The interface's words in the person's language, through gettext catalogues (``bot/locale/<lang>/LC_MESSAGES/
multitudes.po``, read with Babel and compiled in memory once per language). English is the source: a message
marked ``N_("…")`` in the code is its own msgid, looked up when it is shown (``gettext(lang, msgid)``); a language
or a message without a translation reads English. ``tests/test_i18n.py`` fails when a marked message is missing from
a catalogue, untranslated, or loses a placeholder.

Translated so far: the command menus (Telegram's per-language command lists, Discord's description localizations)
and ``/help``. The rest of the interface is still English (issue 27, item 8)."""

from __future__ import annotations

import gettext as _gettext
from functools import lru_cache
from importlib import resources
from io import BytesIO

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

DOMAIN = "multitudes"
LANGUAGES = ("fr", "de", "es", "ja")          # complete catalogues; English is the source


def N_(message: str) -> str:
    """Mark ``message`` for the catalogues; it is translated where it is shown."""
    return message


def base(tag: str | None) -> str | None:
    """``pt-BR``, ``es_419``, ``fr`` -> ``pt``, ``es``, ``fr``."""
    if not tag:
        return None
    return tag.replace("_", "-").split("-")[0].lower() or None


@lru_cache(maxsize=16)
def translations(lang: str | None) -> _gettext.NullTranslations:
    code = base(lang)
    if code not in LANGUAGES:
        return _gettext.NullTranslations()
    po = resources.files("bot").joinpath("locale", code, "LC_MESSAGES", f"{DOMAIN}.po")
    with po.open("rb") as f:
        catalog = read_po(f, locale=code, domain=DOMAIN)
    buf = BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


def warm() -> None:
    """Read every catalogue (~10 ms each): front ends call it in a thread before their menus are built."""
    for lang in LANGUAGES:
        translations(lang)


def gettext(lang: str | None, message: str) -> str:
    return translations(lang).gettext(message)
