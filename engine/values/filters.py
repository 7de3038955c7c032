"""Filters on a list of shows: the typed value, its text form (the filter part of the /recommend grammar, also
how a person's default filters are written), and the test a show's metadata must pass.

    genre:+comedy genre:-horror anime:yes|no runtime:<45 runtime:>20 lang:en provider:Netflix status:airing|ended
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from engine.values import vocabulary
from engine.values.errors import MultitudesError
from engine.values.i18n import N_, _
from engine.values.meta import ShowMeta
from engine.values.models import Filters

FILTER_KEYS = frozenset({"genre", "anime", "runtime", "lang", "language", "provider", "status"})
YES = frozenset({"yes", "y", "true", "only", "1", "on"})
NO = frozenset({"no", "n", "false", "none", "0", "off"})
FILTERS_HINT = N_("Filters look like `genre:-horror anime:no runtime:<45 lang:en provider:Netflix status:airing`.")
_NUMBER = re.compile(r"[0-9]{1,4}")          # ASCII digits only: "²".isdigit() is True, int("²") is not


class FilterError(MultitudesError):
    """``detail`` in the person's language; ``complete``: it is the whole answer (a "did you mean", the genres)."""

    def __init__(self, detail: str, *, complete: bool = False) -> None:
        super().__init__(detail)
        self.detail, self.complete = detail, complete

    @property
    def user_message(self) -> str:
        return f"{self.detail} {_(FILTERS_HINT)}"


def number(text: str) -> int | None:
    """A small whole number written with ASCII digits, or None."""
    return int(text) if _NUMBER.fullmatch(text) else None


@dataclass
class FilterBuilder:
    genres_in: list[str] = field(default_factory=list)
    genres_out: list[str] = field(default_factory=list)
    anime: bool | None = None
    max_runtime: int | None = None
    min_runtime: int | None = None
    language: str | None = None
    provider: str | None = None
    status: str | None = None

    def add(self, key: str, val: str) -> None:
        """One ``key:value`` token (``key`` in FILTER_KEYS); raises FilterError on a bad value."""
        key = key.lower()
        if key == "genre":
            name = val.lstrip("+-").strip().lower()
            if not name:
                raise FilterError(_("genre:{value} names no genre.").format(value=val))
            slug = vocabulary.genre(name)
            if slug is None:
                close = vocabulary.suggest(name, [*vocabulary.GENRES, *vocabulary.GENRE_ALIASES])
                close = list(dict.fromkeys(vocabulary.genre(c) or c for c in close))
                sign = val[:1] if val[:1] in "+-" else ""
                raise FilterError(_("I don't know the genre {name}.").format(name=repr(name)) + (
                    vocabulary.did_you_mean([f"genre:{sign}{c}" for c in close])
                    or " " + _("Genres look like genre:+comedy, genre:+crime, genre:-horror or "
                               "genre:+science-fiction.")), complete=True)
            (self.genres_out if val.startswith("-") else self.genres_in).append(slug)
        elif key == "anime":
            if val.lower() not in YES | NO:
                raise FilterError(_("anime:{value} should be anime:yes or anime:no.").format(value=val))
            self.anime = val.lower() in YES
        elif key == "runtime":
            op, n = val[:1], number(val[1:])
            if op not in ("<", ">") or n is None:
                raise FilterError(_("runtime:{value} should look like runtime:<45 or runtime:>20.").format(value=val))
            if op == "<":
                self.max_runtime = n
            else:
                self.min_runtime = n
        elif key in ("lang", "language"):
            if not re.fullmatch(r"[A-Za-z]{2,3}", val):
                raise FilterError(_("lang:{value} should be a language code such as lang:en or lang:ja.").format(
                    value=val))
            self.language = val.lower()
        elif key == "provider":
            self.provider = val.strip()[:60] or None
        elif key == "status":
            if val.lower() not in ("airing", "ended"):
                raise FilterError(_("status:{value} should be status:airing or status:ended.").format(value=val))
            self.status = val.lower()
        else:
            raise FilterError(_("I don't know the filter {key}:.").format(key=key))

    def build(self) -> Filters:
        return Filters(tuple(dict.fromkeys(self.genres_in)), tuple(dict.fromkeys(self.genres_out)), self.anime,
                       self.max_runtime, self.min_runtime, self.language, self.provider, self.status)


def parse_filter_tokens(tokens: Iterable[str]) -> Filters:
    b = FilterBuilder()
    for tok in tokens:
        key, sep, val = tok.partition(":")
        if not sep or not val:
            raise FilterError(_("“{token}” is not a filter.").format(token=tok))
        b.add(key, val)
    return b.build()


def filters_text(f: Filters) -> str:
    """The text form, which parses back to the same filters."""
    parts = [f"genre:+{g}" for g in f.genres_in] + [f"genre:-{g}" for g in f.genres_out]
    if f.anime is not None:
        parts.append(f"anime:{'yes' if f.anime else 'no'}")
    if f.max_runtime is not None:
        parts.append(f"runtime:<{f.max_runtime}")
    if f.min_runtime is not None:
        parts.append(f"runtime:>{f.min_runtime}")
    if f.language:
        parts.append(f"lang:{f.language}")
    if f.provider:
        parts.append(f"provider:{f.provider}" if " " not in f.provider else f'"provider:{f.provider}"')
    if f.status:
        parts.append(f"status:{f.status}")
    return " ".join(parts)


def passes(meta: ShowMeta, f: Filters) -> bool:
    genres = set(meta.genres)
    if f.genres_in and not genres & set(f.genres_in):
        return False
    if f.genres_out and genres & set(f.genres_out):
        return False
    if f.anime is not None and meta.is_anime != f.anime:
        return False
    rt = meta.runtime
    if f.max_runtime is not None and rt is not None and rt > f.max_runtime:
        return False
    if f.min_runtime is not None and rt is not None and rt < f.min_runtime:
        return False
    if f.language and meta.original_language and meta.original_language != f.language:
        return False
    if f.services:
        have = {p.casefold() for p in meta.providers_in(f.region)}
        if not any(s.casefold() in have for s in f.services):
            return False
    if f.provider and f.provider.lower() != "mine":
        want = f.provider.lower()
        if not any(want in p.lower() for p in (*meta.providers_in(f.region), *meta.networks)):
            return False
    if f.status == "airing" and not meta.airing:
        return False
    return not (f.status == "ended" and not meta.ended)
