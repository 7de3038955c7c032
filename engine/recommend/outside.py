"""The outside world of a request: the show asked for by name, and the live lists around the person's shows."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from engine.plumbing.compute import offload
from engine.recommend.candidates import Candidate, LiveSources
from engine.recommend.deployment import Deployment
from engine.recommend.ranking import Job
from engine.store import Store
from engine.values import vocabulary
from engine.values.catalogue import Catalogue
from engine.values.errors import MultitudesError
from engine.values.i18n import _
from engine.values.meta import ShowMeta
from engine.values.models import PersonaReport, ShowIds
from engine.values.vocabulary import norm_title

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


class Outside:
    """What a request asks outside the engine: the show named in ``like:`` (the index, the bundled catalogue, TMDB's
    search), and the live lists (Trakt, TMDB) expanded from the person's shows, given store ids and metadata."""

    def __init__(self, store: Store, catalogue: Catalogue, sources: LiveSources,
                 enrich: Callable[[Sequence[int]], Awaitable[int]]) -> None:
        self.store = store
        self.catalogue = catalogue
        self.sources = sources
        self.enrich = enrich                    # async (show ids) -> int: fills missing show metadata

    async def find_show(self, title: str, dep: Deployment) -> tuple[int | None, ShowMeta]:
        """The show asked for in ``like:``: the indexed show with that title (the most voted of namesakes), else
        the catalogue's."""
        if norm_title(title):
            cat = dep.catalogue
            hits = cat.titled(title)
            if hits:
                best = max(hits, key=lambda i: float(cat.metas[i].vote_count or 0))    # the best known namesake
                return int(cat.ids[best]), cat.metas[best]
            for hit in self.catalogue.search(title):
                found = self.catalogue.find(ShowIds(tmdb=hit.tmdb_id))
                if found is not None:
                    return None, found.meta
            live = await self._search_live(title)
            if live is not None:
                return None, live
        close = await offload(_close_titles, title, dep.catalogue.metas, self.catalogue)
        raise MultitudesError(f"like {title!r}", user_message=_("I don't know a show called {title}.").format(
            title=repr(title)) + vocabulary.did_you_mean(close, quote='"'))

    async def _search_live(self, title: str) -> ShowMeta | None:
        """A show nobody here knows, from TMDB's title search (the exact title first, else TMDB's best match)."""
        tmdb = self.sources.tmdb
        if tmdb is None:
            return None
        try:
            hits = await tmdb.search_tv(title)
            want = norm_title(title)
            exact = [h for h in hits if want in (norm_title(h.name), norm_title(h.original_name or ""))]
            best = (exact or hits[:1])
            return await tmdb.tv(best[0].tmdb_id) if best else None
        except MultitudesError as e:            # TMDB down: the offline answer stands
            log.info("live title search failed: %s", e)
            return None

    async def seeds(self, report: PersonaReport, job: Job) -> list[dict[str, Any]]:
        """Shows to expand from with the live lists: the asked-for show, then each persona's medoid and best
        representatives."""
        personas = list(job.served) or list(report.personas)
        if job.persona is not None:
            personas = [personas[job.persona]]
        elif job.bridge is not None:
            personas = [personas[job.bridge[0]], personas[job.bridge[1]]]
        ids = [sid for p in personas for sid in [p.medoid.show_id, *[s.show_id for s in p.shows[:2]]]]
        like_id = job.like[0] if job.like is not None else None
        async with self.store.read() as uow:
            rows = await uow.shows.many(ids + ([like_id] if like_id is not None else []))
        out: list[dict[str, Any]] = [{"show_id": i, "trakt_id": rows[i].trusted_ids.trakt,
                                      "tmdb_id": rows[i].trusted_ids.tmdb} for i in ids if i in rows]
        if job.like is not None:
            lid, lmeta = job.like
            known = rows.get(lid) if lid is not None else None
            out.insert(0, {"show_id": lid, "trakt_id": known.trusted_ids.trakt if known else None,
                           "tmdb_id": lmeta.tmdb_id or (known.trusted_ids.tmdb if known else None)})
        return out

    async def materialise(self, cands: list[Candidate]) -> list[Candidate]:
        """Give every candidate of a live list an internal show id and, where the list payload was thin, full
        metadata."""
        if not cands:
            return []
        async with self.store.unit() as uow:
            ids = await uow.shows.upsert(c.ref for c in cands)
        for c in cands:
            for k in (("tmdb", c.ref.ids.tmdb), ("trakt", c.ref.ids.trakt), ("imdb", c.ref.ids.imdb)):
                if k in ids:
                    c.show_id = ids[k]
                    break
        thin = [c for c in cands if c.show_id is not None and (c.meta.empty or c.meta.partial)]
        if thin:
            thin.sort(key=lambda c: (-len(c.sources), min(c.sources.values())))
            await self.enrich([c.show_id for c in thin[:80] if c.show_id is not None])
            async with self.store.read() as uow:
                stored = await uow.shows.many(c.show_id for c in thin if c.show_id is not None)
            for c in thin:
                rec = stored.get(c.show_id) if c.show_id is not None else None
                if rec is not None and rec.has_meta and not rec.meta.empty:
                    c.meta = rec.meta
        for c in cands:
            fill: dict[str, Any] = {}
            if not c.meta.title:
                fill["title"] = c.ref.title
            if c.meta.year is None and c.ref.year is not None:
                fill["year"] = c.ref.year
            if fill:
                c.meta = c.meta.with_(**fill)
        return [c for c in cands if c.show_id is not None]


def _close_titles(title: str, metas: Sequence[ShowMeta], catalogue: Catalogue) -> list[str]:
    """The known titles closest to a misspelt or partial one (best first, the most voted of namesakes first):
    "Breking Bad" -> Breaking Bad; "office" -> The Office, …"""
    votes: dict[str, float] = {}
    for m in (*metas, *(s.meta for s in catalogue.shows)):
        votes[m.display_title] = max(votes.get(m.display_title, 0.0), float(m.vote_count or 0))
    by_fit = vocabulary.suggest(title, votes, limit=8, cutoff=80.0)
    best = by_fit[:1] + sorted(by_fit[1:], key=lambda t: -votes[t])
    return best[:3]
