"""Languages a person may choose (``/settings lang:fr``): a BCP 47 tag from a code (``fr``, ``pt-br``, ``zh_Hant``)
or a language's name in English or in itself (``French``, ``français``, ``Deutsch``, ``日本語``), read with Babel's
CLDR data; anything else is refused with the closest names. The tag is what TMDB's translations are keyed by."""

from __future__ import annotations

from functools import lru_cache

from babel import Locale, UnknownLocaleError

from engine.values import vocabulary
from engine.values.errors import MultitudesError
from engine.values.i18n import LANGUAGES, _, current

# languages whose own names are understood too (TMDB's most translated ones); English names cover every language
NATIVE = ("ar", "bg", "cs", "da", "de", "el", "en", "es", "fa", "fi", "fr", "he", "hi", "hu", "id", "it", "ja", "ko",
          "nb", "nl", "no", "pl", "pt", "ro", "ru", "sk", "sr", "sv", "th", "tr", "uk", "vi", "zh")


def tag_of(locale: Locale) -> str:
    """``Locale('pt', 'BR')`` -> ``pt-BR``; a script stays (``zh-Hant``)."""
    return "-".join(p for p in (locale.language, locale.script, locale.territory) if p)


@lru_cache(maxsize=1)
def _by_name() -> dict[str, str]:
    """Lower-cased language names (English and native) -> language code."""
    out = {name.casefold(): code for code, name in Locale("en").languages.items() if "_" not in code}
    for code in NATIVE:
        own = Locale.parse(code).get_display_name(code)
        if own:
            out.setdefault(own.casefold(), code)
    return out


def language(text: str) -> str | None:
    """The tag ``text`` names, or None."""
    t = text.strip()
    if not t or len(t) > 40:
        return None
    try:
        return tag_of(Locale.parse(t.replace("-", "_"), sep="_"))
    except (UnknownLocaleError, ValueError, TypeError):
        pass
    return _by_name().get(t.casefold())


def language_tag(text: str) -> str:
    """``language`` or a clear refusal with the closest names."""
    tag = language(text)
    if tag is not None:
        return tag
    close = vocabulary.suggest(text, list(_by_name()), limit=3, cutoff=80.0) if len(text.strip()) > 2 else []
    raise MultitudesError(f"lang {text!r}", user_message=(
        _("{text} is not a language I know.").format(text=repr(text[:40]))
        + (vocabulary.did_you_mean([f"lang:{c}" for c in close])
           or " " + _("Use a code or a name, e.g. lang:fr, lang:de or lang:日本語."))))


def language_name(tag: str) -> str:
    """``fr`` -> ``French (français)`` (the first name in the interface's language: ``français`` alone for a French
    speaker); an unknown tag as it is."""
    try:
        loc = Locale.parse(tag.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return tag
    theirs = loc.get_display_name(current() if current() in LANGUAGES else "en") or tag
    own = loc.get_display_name(loc)
    return theirs if not own or own == theirs else f"{theirs} ({own})"
