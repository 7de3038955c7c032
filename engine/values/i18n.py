"""The interface's words in the person's language, through gettext catalogues (``engine/locale/<lang>/LC_MESSAGES/
multitudes.po``, read with Babel and compiled in memory once per language).

English is the source: a message in the code is its own msgid. ``_("…")`` translates at once into the language of
whoever is being answered — a context variable the front end sets for each event (``speaking(lang)``) and that
follows the work into tasks and worker threads (both copy the context); ``ngettext`` picks the catalogue's plural
form; ``N_("…")`` only marks a message kept in a table and translated where it is shown (``gettext(lang, msg)``). A
language or a message without a translation reads English. The engine's own sentences (errors, reasons, notes) use
the same functions, so a person reads one language whichever layer wrote the words.

``tests/test_i18n.py`` fails when a marked message is missing from a catalogue, untranslated or loses a placeholder,
and ``tests/test_i18n_coverage.py`` when a reply carries English the catalogues never saw (a pseudo-language run of
every command)."""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from importlib import resources
from io import BytesIO
from typing import Any

DOMAIN = "multitudes"
LANGUAGES = ("fr", "de", "es", "ja")          # complete catalogues; English is the source

_speaking: ContextVar[str | None] = ContextVar("multitudes_language", default=None)


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
    from babel.messages.mofile import write_mo  # Babel's catalogue tools load with the first catalogue, not
    from babel.messages.pofile import read_po  # with every import of this module (the console's prompt waits)
    from babel.support import Translations

    po = resources.files("engine").joinpath("locale", code, "LC_MESSAGES", f"{DOMAIN}.po")
    with po.open("rb") as f:
        catalog = read_po(f, locale=code, domain=DOMAIN)
    buf = BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


def warm() -> None:
    """Read every catalogue (~10 ms each): front ends call it in a thread before they answer anyone."""
    for lang in LANGUAGES:
        translations(lang)


def gettext(lang: str | None, message: str) -> str:
    """``message`` in ``lang`` (English where the catalogue has no translation)."""
    return translations(lang).gettext(message)


def current() -> str | None:
    """The language of whoever is being answered (None: English)."""
    return _speaking.get()


@contextmanager
def speaking(lang: str | None) -> Iterator[None]:
    """Answer in ``lang`` inside the block (and in the tasks and threads it starts)."""
    token = _speaking.set(base(lang))
    try:
        yield
    finally:
        _speaking.reset(token)


def _(message: str) -> str:
    """``message`` in the current language."""
    return translations(_speaking.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The catalogue's plural form of a message for ``n`` in the current language."""
    return translations(_speaking.get()).ngettext(singular, plural, n)


def words(items: list[str] | tuple[str, ...]) -> str:
    """"a", "a and b", "a, b and c" — in the current language by CLDR's list patterns ("a, b et c", "a、b、c")."""
    xs = list(items)
    if not xs:
        return ""
    lang = _speaking.get()
    if lang in LANGUAGES:
        from babel.lists import format_list
        return format_list(xs, locale=lang)
    return xs[0] if len(xs) == 1 else ", ".join(xs[:-1]) + f" and {xs[-1]}"


SKELETONS = {"EEE MMM dd": "MMMEd", "EEEE MMM dd": "MMMMEEEEd", "MMM dd": "MMMd"}


def day(d: Any, pattern: str = "EEE MMM dd") -> str:
    """'Tue Dec 08' in English; in another interface language Babel's own order and names for that skeleton
    (火 12月8日, mar. 8 déc.)."""
    from babel.dates import format_date, format_skeleton

    lang = _speaking.get()
    if lang not in LANGUAGES:                   # the dates speak the interface's language, English included
        return format_date(d, pattern, locale="en")
    return format_skeleton(SKELETONS.get(pattern, "MMMEd"), d, locale=lang)
