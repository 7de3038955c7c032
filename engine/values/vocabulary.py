"""The words a request may use — genres, countries, streaming services, show titles — and "did you mean …" for the
ones nobody knows.

Nothing unknown is accepted in silence: ``genre:+xyzzy``, ``region:XX``, ``provider:Nteflix`` and
``like:"Breking Bad"`` each get a clear answer, with the closest known words when there are any. Matching is
``rapidfuzz``'s (a well-kept C++ matcher); country codes are ISO 3166-1 from the IANA time zone database as the
``tzdata`` package ships it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

from rapidfuzz import fuzz, process, utils

from .i18n import _

# Trakt's show genres (GET /genres/shows) and the slugs TMDB's TV genres map to: what a genre: filter can name
GENRES = frozenset({
    "action", "adventure", "animation", "anime", "biography", "children", "comedy", "crime", "documentary",
    "donghua", "drama", "family", "fantasy", "game-show", "history", "holiday", "home-and-garden", "horror",
    "mini-series", "music", "musical", "mystery", "news", "reality", "romance", "science-fiction", "short", "soap",
    "special-interest", "sporting-event", "superhero", "suspense", "talk-show", "thriller", "war", "western",
})
# what people type for a genre -> its slug
GENRE_ALIASES = {
    "sci-fi": "science-fiction", "scifi": "science-fiction", "sf": "science-fiction", "science fiction":
    "science-fiction", "kids": "children", "kid": "children", "doc": "documentary", "docs": "documentary",
    "documentaries": "documentary", "docuseries": "documentary", "comedies": "comedy", "sitcom": "comedy",
    "dramas": "drama", "thrillers": "thriller", "westerns": "western", "romcom": "romance", "sport": "sporting-event",
    "sports": "sporting-event", "talk": "talk-show", "game show": "game-show", "miniseries": "mini-series",
    "animated": "animation", "cartoon": "animation", "cartoons": "animation", "historical": "history",
    "superheroes": "superhero", "scary": "horror",
}


def norm_title(title: str) -> str:
    t = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    t = t.replace("&", " and ")
    return re.sub(r"[^a-z0-9]+", " ", t).strip()


def genre(word: str) -> str | None:
    """The genre slug a person meant (``Sci-Fi`` → ``science-fiction``), or None."""
    w = " ".join(word.strip().lower().replace("_", "-").split())
    if w in GENRES:
        return w
    return GENRE_ALIASES.get(w) or GENRE_ALIASES.get(w.replace("-", " ")) or (
        w.replace(" ", "-") if w.replace(" ", "-") in GENRES else None)


@lru_cache(maxsize=1)
def countries() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code -> English short name (``GB`` -> ``Britain (UK)``), from tzdata's iso3166.tab."""
    text = resources.files("tzdata").joinpath("zoneinfo", "iso3166.tab").read_text(encoding="utf-8")
    out: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            code, _sep, name = line.partition("\t")
            out[code.strip().upper()] = name.strip()
    return out


def country(text: str) -> str | None:
    """The country code a person meant: a code (``gb``) or a name (``Germany``, ``Britain``), or None."""
    t = text.strip()
    known = countries()
    if t.upper() in known:
        return t.upper()
    key = utils.default_process(t)
    return COUNTRY_ALIASES.get(key) or _by_folded_name().get(key)


@lru_cache(maxsize=1)
def country_names() -> dict[str, str]:
    """English short name -> ISO code (``Germany`` -> ``DE``): what "did you mean" offers."""
    return {name: code for code, name in countries().items()}


@lru_cache(maxsize=1)
def _by_folded_name() -> dict[str, str]:
    return {utils.default_process(name): code for name, code in country_names().items()}


# names people use that tzdata's short names do not spell out
COUNTRY_ALIASES = {
    "uk": "GB", "britain": "GB", "great britain": "GB", "united kingdom": "GB", "england": "GB", "scotland": "GB",
    "wales": "GB", "northern ireland": "GB", "usa": "US", "us": "US", "america": "US", "united states of america":
    "US", "holland": "NL", "the netherlands": "NL", "south korea": "KR", "korea": "KR", "czechia": "CZ",
}


def suggest(word: str, choices: Iterable[str], *, limit: int = 3, cutoff: float = 72.0) -> list[str]:
    """The known words closest to ``word`` (best first, and only those about as close as the best), for "did you
    mean …"."""
    pool = list(dict.fromkeys(c for c in choices if c))
    if not word.strip() or not pool:
        return []
    hits = process.extract(word, pool, scorer=fuzz.WRatio, processor=utils.default_process, limit=limit,
                           score_cutoff=cutoff)
    return [h[0] for h in hits if h[1] >= hits[0][1] - 4.0]


def did_you_mean(options: list[str], quote: str = "") -> str:
    """' Did you mean Netflix?' / ' Did you mean A, B or C?' / '' when there is nothing close."""
    if not options:
        return ""
    shown = [f"{quote}{o}{quote}" for o in options]
    if len(shown) == 1:
        return " " + _("Did you mean {option}?").format(option=shown[0])
    return " " + _("Did you mean {options} or {last}?").format(options=", ".join(shown[:-1]), last=shown[-1])


# -- streaming services ------------------------------------------------------------------------------------------
# short names people use for services TMDB spells out (TMDB's provider names vary by country and over time, so an
# alias is tried against every name it could be)
SERVICE_ALIASES = {
    "max": ("Max", "HBO Max"), "hbo": ("HBO Max", "Max"), "prime": ("Amazon Prime Video",),
    "amazon": ("Amazon Prime Video",), "disney": ("Disney Plus", "Disney+"), "apple": ("Apple TV Plus", "Apple TV+"),
    "appletv": ("Apple TV Plus", "Apple TV+"), "paramount": ("Paramount Plus", "Paramount+"),
    "crunchyroll": ("Crunchyroll",), "peacock": ("Peacock", "Peacock Premium"), "now": ("Now TV", "NOW"),
}


def _squash(name: str) -> str:
    return "".join(ch for ch in name.casefold().replace("+", "plus") if ch.isalnum())


def service_named(word: str, known: Iterable[str]) -> str | None:
    """The service ``word`` names among ``known`` (exact, then an alias, then the one name it starts): None when
    it names none, or several equally (then "did you mean" lists them)."""
    names = list(dict.fromkeys(known))
    want = _squash(word)
    if not want:
        return None
    by_squash: dict[str, str] = {}
    for n in names:
        by_squash.setdefault(_squash(n), n)
    if want in by_squash:
        return by_squash[want]
    for alias in SERVICE_ALIASES.get(want, ()):
        if _squash(alias) in by_squash:
            return by_squash[_squash(alias)]
    starts = sorted((n for s, n in by_squash.items() if s.startswith(want)), key=len)
    return starts[0] if len(starts) == 1 or (starts and len(want) >= 4) else None
