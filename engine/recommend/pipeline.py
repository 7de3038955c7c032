"""The recommendation pipeline every list goes through — live, in ``multitudes eval`` and in the feedback
simulation alike:

    candidate sources -> exclusion -> scorers -> a selector per mode -> explanation (-> recorder, live only)

Everything here is synchronous numpy on plain values, so callers run it off the event loop. Data reaches it
through small ports: a ``RowSource`` (feature rows of shows), the ``CatalogueIndex`` (shows that can be proposed
without an outside list) and the ``Population`` model (co-watching, popularity over time, ratings). Live they are
fed by the store, Trakt and TMDB; in the evaluation by a dataset.

Scorers (``SIGNALS``, each a column, standardised over the candidates, weighted by the ``Profile``):
  persona       fit to the person's personas (cosine to each centroid), weights tilted by taste evolution
                (emerging personas gain, fading ones lose), time of day and weekday, and what the bandit learned
  collab        co-watching: EASE scores from the population (the dataset's other people; the bot's people), and
                from the person's crowd (Trakt members whose ratings overlap theirs, ``engine.recommend.crowd_model``)
  popular_now   popularity around now, each watch halving in weight every ``half_life_days`` (learned)
  popular_then  popularity around the person's own last activity (what was airing when they last watched)
  popular_all   all-time popularity (the population's counts; TMDB vote counts)
  quality       Bayesian mean rating (the population's ratings; TMDB votes and critic scores when present)
  lifecycle     a new season soon, airing now, a season just finished (binge-ready)
  evidence      the outside lists that proposed it (Trakt related / recommendations / trending, TMDB …)
  tone          LLM tone tags shared with the person's personas
Penalties on top: close to a show they said "not for me" to, shown and ignored before (adaptation).
"""

from __future__ import annotations

from engine.recommend.cold import cold_start
from engine.recommend.index import CatalogueIndex, bayes, meta_signals
from engine.recommend.pool import Pool, exclude
from engine.recommend.reasons import closest_members, crowd_backs, explain, shared_traits
from engine.recommend.scoring import (
    EVIDENCE,
    TREND,
    Scored,
    adapted,
    collab_column,
    context_weights,
    dense,
    lifecycle,
    neighbours_column,
    pool_signals,
    popularity_columns,
    present,
    score,
    zscore,
)
from engine.recommend.selection import COVER_DEPTH, MAJOR, genre_distribution, per_persona, quotas, select, target_for
from engine.recommend.sources import INDEX_SOURCES, index_sources, like_sources
from engine.recommend.values import REPRESENTATIVES, Adaptation, F, Ints, PersonaVec, PersonView, Pick, RowSource

__all__ = [
    "COVER_DEPTH",
    "EVIDENCE",
    "INDEX_SOURCES",
    "MAJOR",
    "REPRESENTATIVES",
    "TREND",
    "Adaptation",
    "CatalogueIndex",
    "F",
    "Ints",
    "PersonView",
    "PersonaVec",
    "Pick",
    "Pool",
    "RowSource",
    "Scored",
    "adapted",
    "bayes",
    "closest_members",
    "cold_start",
    "collab_column",
    "context_weights",
    "crowd_backs",
    "dense",
    "exclude",
    "explain",
    "genre_distribution",
    "index_sources",
    "lifecycle",
    "like_sources",
    "meta_signals",
    "neighbours_column",
    "per_persona",
    "pool_signals",
    "popularity_columns",
    "present",
    "quotas",
    "score",
    "select",
    "shared_traits",
    "target_for",
    "zscore",
]
