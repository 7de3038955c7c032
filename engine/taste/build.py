"""From a person's history to personas: engagement, features, clustering, names, style, context, trend.

Pure and synchronous (numpy/scikit-learn): callers run it off the event loop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from engine.taste.engagement import engagement
from engine.taste.features import FeatureSpace, Matrix, build_features
from engine.taste.history import PersonHistory
from engine.taste.naming import deterministic_name, unique_names
from engine.taste.personas import Cluster, cluster_personas
from engine.taste.temporal import Context, binge_report, context, evolution, style_summary
from engine.values.meta import EMPTY, ShowMeta


@dataclass
class PersonaDraft:
    cluster: Cluster
    name: str
    genres: list[str]
    style: str
    binge_share: float
    weekly_share: float
    context: Context
    trend: str = "steady"
    timeline: list[float] = field(default_factory=list)
    description: str = ""


@dataclass
class PersonaBuild:
    personas: list[PersonaDraft]
    periods: list[str]
    weights: dict[int, float]           # engagement per show (negative = negative evidence)
    space: FeatureSpace
    show_styles: dict[int, str]


def build_personas(history: PersonHistory, metas: Mapping[int, ShowMeta], now: datetime, *,
                   cf: Mapping[int, Matrix] | None = None, space: FeatureSpace | None = None,
                   max_k: int = 8, seed: int = 0,
                   previous: Sequence[Mapping[int, float]] | None = None) -> PersonaBuild:
    weights = engagement(history, now)
    if space is None:
        space = build_features({sid: metas.get(sid) or EMPTY for sid in history.shows}, cf=cf, seed=seed)
    clusters = cluster_personas(space, weights, max_k=max_k, seed=seed, previous=previous)
    styles = binge_report(history)
    background: dict[str, float] = {}
    for sid, w in weights.items():
        if w > 0:
            for g in (metas.get(sid) or EMPTY).genres:
                background[g] = background.get(g, 0.0) + w
    drafts = []
    for c in clusters:
        name, genres = deterministic_name(c.members, c.weights, metas, background)
        style, b, wk = style_summary(styles[s][1] for s in c.members if s in styles)
        watches = [w for s in c.members for w in history.shows[s].watches]
        drafts.append(PersonaDraft(c, name, genres, style, b, wk, context(watches, history.timezone)))
    names = unique_names([d.name for d in drafts], [d.genres for d in drafts])
    for d, n in zip(drafts, names, strict=True):
        d.name = n
    plays = {i: [w.at for s in d.cluster.members for w in history.shows[s].watches] for i, d in enumerate(drafts)}
    periods, shares, trends = evolution(plays, now)
    for i, d in enumerate(drafts):
        d.trend = trends.get(i, "steady")
        d.timeline = shares.get(i, [])
    return PersonaBuild(drafts, periods, weights, space, {s: v[0] for s, v in styles.items()})
