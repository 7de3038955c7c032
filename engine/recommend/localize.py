"""Picks in the person's language: a show's title and overview as TMDB translated them, where it did (the reasons and
the rest of the card stay as they are). The language is the person's ``/settings lang:`` or, unset, their app's
(Telegram's ``language_code``, Discord's locale); English, or no TMDB, leaves the list as it was built."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace

from engine.store import Store
from engine.values.errors import MultitudesError
from engine.values.models import Recommendation, RecommendRequest

log = logging.getLogger(__name__)

Translations = Callable[[int], Awaitable[dict[str, tuple[str, str]]]]


async def language_of(store: Store, req: RecommendRequest) -> str | None:
    """The language a list is for: the person's setting, else their app's."""
    async with store.read() as uow:
        person = await uow.people.get(req.person_id)
    return (person.settings.lang if person is not None else None) or req.lang


def _pick(texts: dict[str, tuple[str, str]], lang: str) -> tuple[str, str] | None:
    """``pt-BR`` reads ``pt-BR``, then ``pt``."""
    return texts.get(lang) or texts.get(lang.split("-", maxsplit=1)[0])


async def localized(items: list[Recommendation], lang: str | None, translations: Translations | None
                    ) -> list[Recommendation]:
    """``items`` with TMDB's title and overview in ``lang`` where it has them; an outage leaves them as they are."""
    if not lang or lang.split("-")[0].lower() == "en" or translations is None or not items:
        return items
    wanted = [r for r in items if r.tmdb_id]
    try:
        got = await asyncio.gather(*(translations(int(r.tmdb_id or 0)) for r in wanted))
    except MultitudesError as e:            # TMDB down or limiting: the list in its own words is still a list
        log.info("TMDB translations unavailable: %s", type(e).__name__)
        return items
    texts = {r.show_id: t for r, t in zip(wanted, got, strict=True)}
    out = []
    for r in items:
        found = _pick(texts.get(r.show_id, {}), lang)
        out.append(r if found is None else replace(r, title=found[0] or r.title,
                                                              overview=found[1][:400] or r.overview))
    return out


def translations_of(tmdb: object) -> Translations | None:
    """The translations look-up of the live TMDB lists (None: no TMDB, or lists that have none, as in ``eval``)."""
    found: Translations | None = getattr(tmdb, "translations", None)
    return found


async def in_their_language(store: Store, req: RecommendRequest, items: list[Recommendation], tmdb: object
                            ) -> list[Recommendation]:
    """A list built without the person's view (a first list) in their language: their setting is read here."""
    translations = translations_of(tmdb)
    if translations is None or not items:
        return items
    return await localized(items, await language_of(store, req), translations)
