"""Show metadata as one typed value, parsed once at the edge (TMDB, the bundled catalogue, list summaries) and
read by attribute everywhere after that.

``ShowMeta`` is stored as JSON on the show row; ``decode``/``encode`` are the only way in and out. Rows written by
older versions (plain dicts with ``name`` rather than ``title``) decode to the same value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from engine.values.times import parse_ts

ENDED = frozenset({"Ended", "Canceled"})
AIRING = frozenset({"Returning Series", "In Production"})


class EpisodeAir(msgspec.Struct, frozen=True, omit_defaults=True, gc=False):
    """An episode TMDB announces (``next_episode_to_air``) or last aired (``last_episode_to_air``)."""

    season: int | None = None
    episode: int | None = None
    air_date: str | None = None
    name: str | None = None
    type: str | None = None             # standard | finale | mid_season

    @property
    def at(self) -> datetime | None:
        return parse_ts(self.air_date)

    @property
    def is_finale(self) -> bool:
        return str(self.type or "").endswith("finale")


class SeasonInfo(msgspec.Struct, frozen=True, omit_defaults=True, gc=False):
    season: int | None = None
    episodes: int | None = None
    air_date: str | None = None


class ShowMeta(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, gc=False):
    """What the engine knows about a show beyond its ids. Every field is optional: sources differ.

    Not tracked by the garbage collector (``gc=False``: it holds only strings, numbers and tuples of them, so it
    can never be part of a cycle): a deployment holds tens of thousands, and scanning them made full
    collections block the event loop for a third of a second."""

    tmdb_id: int | None = None
    title: str = ""
    name: str | None = None             # TMDB's field; older rows have only this
    original_name: str | None = None
    year: int | None = None
    overview: str = ""
    genres: tuple[str, ...] = ()        # canonical slugs (comedy, science-fiction, …)
    tmdb_genres: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    status: str | None = None           # Returning Series | Ended | Canceled | In Production | …
    in_production: bool = False
    type: str | None = None             # Scripted | Documentary | Reality | Miniseries | …
    first_air_date: str | None = None
    last_air_date: str | None = None
    last_episode: EpisodeAir | None = None
    next_episode: EpisodeAir | None = None
    number_of_seasons: int | None = None
    number_of_episodes: int | None = None
    seasons: tuple[SeasonInfo, ...] = ()
    runtime: float | None = None
    networks: tuple[str, ...] = ()
    origin_country: tuple[str, ...] = ()
    original_language: str | None = None
    languages: tuple[str, ...] = ()
    vote_average: float | None = None
    vote_count: float | None = None
    popularity: float | None = None
    poster_path: str | None = None
    certification: str | None = None
    providers: tuple[str, ...] = ()                             # streaming in the bot's default region
    providers_region: str | None = None                         # the country ``providers`` is for
    regional_providers: tuple[tuple[str, tuple[str, ...]], ...] = ()    # (country, providers) for the others
    rent_buy: tuple[tuple[str, tuple[str, ...]], ...] = ()      # (country, services that rent or sell it)
    imdb_id: str | None = None
    tvdb_id: int | None = None
    imdb_rating: float | None = None
    imdb_votes: float | None = None
    metacritic: float | None = None
    rotten_tomatoes: float | None = None
    tone: tuple[str, ...] | None = None     # LLM tags; None: never tagged
    partial: bool = False                   # from a list summary: fetch the details before relying on it
    synthesised: tuple[str, ...] = ()       # bundled demo data: fields no source gave (never shown as fact)

    def made_up(self, what: str) -> bool:
        return what in self.synthesised

    def providers_in(self, region: str | None) -> tuple[str, ...]:
        """Where it streams in ``region`` (ISO 3166-1 code): the default list when unset; nothing when only other
        countries are known (never another country's services as if they were yours)."""
        if not region or region == self.providers_region:
            return self.providers
        if self.providers_region is None and not self.regional_providers:
            return self.providers                   # stored before countries were kept: as it was
        return dict(self.regional_providers).get(region, ())

    def rent_buy_in(self, region: str | None) -> tuple[str, ...]:
        """Who rents or sells it in ``region`` (the default region when unset)."""
        return dict(self.rent_buy).get(region or self.providers_region or "", ())

    def region_unknown(self, region: str | None) -> bool:
        """True when nothing is known about ``region`` at all (the bundled data lists one country's services):
        a card says so rather than implying the show streams nowhere there."""
        return bool(region and self.providers_region and region != self.providers_region
                    and not self.regional_providers and self.providers)

    @property
    def display_title(self) -> str:
        return self.title or self.name or self.original_name or "?"

    @property
    def first_year(self) -> int | None:
        if self.year:
            return self.year
        d = self.first_air_date or ""
        return int(d[:4]) if d[:4].isdigit() else None

    @property
    def ended(self) -> bool:
        return self.status in ENDED

    @property
    def airing(self) -> bool:
        return self.status in AIRING

    @property
    def is_anime(self) -> bool:
        return "animation" in self.genres and ("JP" in self.origin_country or self.original_language == "ja")

    @property
    def empty(self) -> bool:
        return self == EMPTY

    def with_(self, **changes: Any) -> ShowMeta:
        return msgspec.structs.replace(self, **changes)


EMPTY = ShowMeta()
_decoder = msgspec.json.Decoder(ShowMeta, strict=False)
_encoder = msgspec.json.Encoder()


def decode(raw: str | bytes | None, *, title: str | None = None, year: int | None = None) -> ShowMeta:
    """A stored metadata blob; ``title``/``year`` from the show row fill what the blob lacks."""
    meta = EMPTY
    if raw:
        try:
            meta = _decoder.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError):
            meta = _lenient(msgspec.json.decode(raw))
    fill: dict[str, Any] = {}
    if not meta.title and (meta.name or title):
        fill["title"] = meta.name or title
    if meta.year is None and (y := meta.first_year or year):
        fill["year"] = y
    return meta.with_(**fill) if fill else meta


def encode(meta: ShowMeta) -> str:
    return _encoder.encode(meta).decode()


def from_dict(d: dict[str, Any]) -> ShowMeta:
    """Build from a plain mapping (tests, converters); unknown keys are ignored."""
    return msgspec.convert(d, ShowMeta, strict=False)


def _lenient(d: Any) -> ShowMeta:
    """A blob some older version wrote with a field of an unexpected type: keep every field that converts."""
    if not isinstance(d, dict):
        return EMPTY
    good: dict[str, Any] = {}
    for k, v in d.items():
        try:
            msgspec.convert({k: v}, ShowMeta, strict=False)
        except msgspec.ValidationError:
            continue
        good[k] = v
    return msgspec.convert(good, ShowMeta, strict=False)


def critic_scores(m: ShowMeta) -> tuple[tuple[str, str], ...]:
    """The critic scores a card shows (OMDb: IMDb rating, Rotten Tomatoes, Metacritic), in that order."""
    out: list[tuple[str, str]] = []
    if m.imdb_rating is not None:
        out.append(("IMDb", f"{m.imdb_rating:.1f}"))
    if m.rotten_tomatoes is not None:
        out.append(("Rotten Tomatoes", f"{m.rotten_tomatoes:.0f}%"))
    if m.metacritic is not None:
        out.append(("Metacritic", f"{m.metacritic:.0f}"))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A TV search result (also the bundled catalogue's answer to a title look-up)."""
    tmdb_id: int
    name: str
    original_name: str | None
    first_air_date: str | None
    trakt_id: int | None = None
    imdb_id: str | None = None

    @property
    def year(self) -> int | None:
        d = self.first_air_date or ""
        return int(d[:4]) if d[:4].isdigit() else None
