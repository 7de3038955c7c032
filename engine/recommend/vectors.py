"""A person's personas in the deployment's feature layout: unit centroids, representatives, their genre mix."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from engine.recommend.deployment import Deployment
from engine.recommend.pipeline import REPRESENTATIVES, PersonaVec, genre_distribution
from engine.values.meta import ShowMeta
from engine.values.models import PersonaReport

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


@dataclass
class PersonaCache:
    """A person's personas as vectors in the deployment's feature layout, and what explanations need."""
    report_at: datetime
    deployment: tuple[Any, ...]
    vecs: list[PersonaVec]
    titles: dict[int, str]                     # representatives' titles
    genres: dict[str, float]                   # the person's genre distribution (calibration target)
    sims: NDArray[np.float32] | None = None    # every indexed show's cosine to each persona


def persona_vectors(report: PersonaReport, dep: Deployment) -> PersonaCache:
    """Each persona as a unit centroid of its members' rows (weighted by engagement) in the deployment's layout,
    its representatives (most central first), and the person's genre distribution."""
    vecs: list[PersonaVec] = []
    titles: dict[int, str] = {}
    weighted: list[ShowMeta] = []
    ws: list[float] = []
    cat = dep.catalogue
    for p in report.personas:
        members = [m for m in p.member_ids if m in cat.pos]
        if not members:
            continue
        mw = dict(zip(p.member_ids, p.member_weights or (1.0,) * len(p.member_ids), strict=False))
        w = np.array([max(mw.get(m, 1.0), 0.0) for m in members])
        rows = cat.rows[[cat.pos[m] for m in members]]
        c = np.asarray(rows.T @ w).ravel()
        norm = float(np.linalg.norm(c))
        if norm <= 0:
            continue
        for m in members[:REPRESENTATIVES]:
            meta = cat.meta(m)
            titles[m] = meta.display_title if meta is not None else f"show {m}"
        # float32: this vector lives in a per-person cache of up to 256 people; single precision is plenty for
        # cosines and halves what the cache holds
        vecs.append(PersonaVec(p.id, p.name, p.weight, (c / norm).astype(np.float32), members, p.trend, p.hours,
                               p.weekdays, p.genres))
        total = float(w.sum()) or 1.0
        for m, x in zip(members, w, strict=True):
            meta = cat.meta(m)
            if meta is not None:
                weighted.append(meta)
                ws.append(p.weight * x / total)
    sims = cat.affinity(vecs) if vecs and len(cat.ids) else None
    return PersonaCache(report.computed_at, dep.key, vecs, titles, genre_distribution(weighted, ws), sims)


def closest(cache: PersonaCache, ids: Sequence[int], seen: set[int], k: int) -> set[int]:
    """The ``k`` indexed shows closest to each persona that the person has not seen (arrivals watch them)."""
    if cache.sims is None or not len(ids):
        return set()
    sims = np.array(cache.sims, dtype=np.float64)
    blocked = np.fromiter((int(i) in seen for i in ids), dtype=bool, count=len(ids))
    sims[blocked] = -np.inf
    out: set[int] = set()
    for j in range(sims.shape[1]):
        col = sims[:, j]
        top = np.argsort(-col, kind="stable")[:k]
        out |= {int(ids[i]) for i in top if np.isfinite(col[i]) and col[i] > 0}
    return out
