"""A pick as every front end shows it: what the metadata says, where it streams, critic scores, real links."""

from __future__ import annotations

import logging

from engine.values.meta import ShowMeta, critic_scores
from engine.values.models import IMDB_RE, SLUG_RE, Recommendation, ShowIds

log = logging.getLogger(__name__)


def card(sid: int, m: ShowMeta, ref: ShowIds | None, region: str | None, *, persona_id: int | None,
         persona_name: str | None, reason: str, score: float, sources: tuple[str, ...], rank: int,
         lifecycle: str | None, strategy: str, wanted: tuple[str, ...] = (),
         services: tuple[str, ...] = ()) -> Recommendation:
    """A pick as every front end shows it: what the metadata says, where it streams in ``region``, critic scores,
    and links from real ids only. ``wanted``: genres the request asked for, shown first (a ``genre:+horror`` pick
    shows its horror)."""
    trakt = ref.trakt if ref is not None else None
    tmdb = (ref.tmdb if ref is not None else None) or m.tmdb_id
    imdb = m.imdb_id or (ref.imdb if ref is not None else None)
    trakt_url, tmdb_url, imdb_url = links(m, ref.slug if ref is not None else None, trakt, tmdb, imdb)
    providers = m.providers_in(region)
    mine = {s.casefold() for s in services}
    return Recommendation(
        show_id=sid, title=m.display_title, year=m.first_year, persona_id=persona_id, persona_name=persona_name,
        reason=reason, score=score, sources=sources, rank=rank, overview=m.overview[:400],
        genres=(*[g for g in m.genres if g in wanted], *[g for g in m.genres if g not in wanted]),
        runtime=round(m.runtime) if m.runtime else None,
        where_unknown=region if m.region_unknown(region) else None,
        network=m.networks[0] if m.networks else None, providers=providers, region=region,
        yours=tuple(p for p in providers if p.casefold() in mine),
        rent_buy=() if providers else m.rent_buy_in(region),
        poster_url=f"https://image.tmdb.org/t/p/w342{m.poster_path}" if m.poster_path else None,
        status=m.status, lifecycle=lifecycle, strategy=strategy, imdb_id=imdb, trakt_id=trakt, tmdb_id=tmdb,
        scores=critic_scores(m), trakt_url=trakt_url, tmdb_url=tmdb_url, imdb_url=imdb_url)


def links(m: ShowMeta, slug: str | None, trakt: int | None, tmdb: int | None,
          imdb: str | None) -> tuple[str | None, str | None, str | None]:
    """(Trakt, TMDB, IMDb) links of a card, built only from real ids (the bundled demo data's made-up Trakt and
    TMDB ids would link nowhere, or to another show)."""
    real_trakt = not (m.made_up("trakt_id") or m.made_up("slug"))
    slug = slug if slug is not None and len(slug) <= 100 and SLUG_RE.fullmatch(slug) else None
    imdb = imdb if imdb is not None and IMDB_RE.fullmatch(imdb) else None
    return (f"https://trakt.tv/shows/{slug or trakt}" if real_trakt and (slug or trakt) else None,
            f"https://www.themoviedb.org/tv/{tmdb}" if tmdb and not m.made_up("tmdb_id") else None,
            f"https://www.imdb.com/title/{imdb}/" if imdb else None)
