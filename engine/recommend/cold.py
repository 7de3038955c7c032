"""A person with no history: popular, well-rated, airing shows that say why."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime

import numpy as np

from engine.recommend.index import CatalogueIndex
from engine.recommend.population import Population
from engine.recommend.scoring import lifecycle, zscore
from engine.values.i18n import _
from engine.values.meta import ShowMeta


def cold_start(catalogue: CatalogueIndex, population: Population, seen: set[int],
               ok: Callable[[ShowMeta], bool] | None, now: datetime, k: int, half_life_days: float,
               ) -> list[tuple[int, str, str, str | None]]:
    """For a person with no history: well-rated shows people watch now, airing ones first, at most two per main
    genre. Returns (catalogue position, reason, source, lifecycle words) in order."""
    n = len(catalogue.ids)
    if n == 0:
        return []
    sig = catalogue.signals
    rating = np.where(np.isnan(sig[:, 2]), np.nan, sig[:, 2])
    rated = ~np.isnan(rating)
    trust = population.confidence if not population.empty else 0.0
    here = population.popular_at(now.timestamp(), half_life_days * 86400, list(catalogue.ids)) if trust \
        else np.zeros(n)
    life = [lifecycle(m, now) for m in catalogue.metas]
    score = zscore(sig[:, 0]) + zscore(np.where(rated, rating, np.nanmean(rating) if rated.any() else 0.0)) \
        + trust * zscore(here) + np.array([v for v, _ in life])
    order = np.argsort(-score, kind="stable")
    per_genre: Counter[str] = Counter()
    out: list[tuple[int, str, str, str | None]] = []
    for i in order:
        sid, m = int(catalogue.ids[i]), catalogue.metas[i]
        if sid in seen or not rated[i] or (ok is not None and not ok(m)):
            continue
        main = m.genres[0] if m.genres else ""
        if per_genre[main] >= 2:
            continue
        per_genre[main] += 1
        words = life[i][1]
        score_words = (_("rated {score}/10").format(score=f"{m.vote_average:.1f}") if m.vote_average is not None
                       else _("well rated"))
        if words:
            reason, source = _("{state}, and {score}.").format(state=f"{words[0].upper()}{words[1:]}",
                                                                score=score_words), "airing"
        elif trust and here[i] > 0:
            reason, source = _("Popular with people here right now, and {score}.").format(score=score_words), \
                "popular_here"
        else:
            reason, source = _("Widely watched right now, and {score}.").format(score=score_words), "popular"
        out.append((int(i), reason, source, words))
        if len(out) >= k:
            break
    return out
