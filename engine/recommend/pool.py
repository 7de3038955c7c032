"""A request's candidates (show ids, metadata, which sources proposed them) and the exclusion stage."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from engine.recommend.values import PersonView
from engine.values.meta import EMPTY, ShowMeta


@dataclass
class Pool:
    """The candidates of one request: show ids, their metadata and which sources proposed them (best rank)."""
    ids: list[int] = field(default_factory=list)
    metas: list[ShowMeta] = field(default_factory=list)
    sources: list[dict[str, int]] = field(default_factory=list)
    _pos: dict[int, int] = field(default_factory=dict)

    def add(self, sid: int, meta: ShowMeta | None, source: str, rank: int) -> None:
        n = self._pos.get(sid)
        if n is None:
            self._pos[sid] = len(self.ids)
            self.ids.append(sid)
            self.metas.append(meta or EMPTY)
            self.sources.append({source: rank})
            return
        self.sources[n][source] = min(rank, self.sources[n].get(source, rank))
        if meta is not None and not meta.empty and (self.metas[n].empty or (self.metas[n].partial and
                                                                            not meta.partial)):
            self.metas[n] = meta

    def keep(self, ok: Callable[[int, ShowMeta], bool]) -> Pool:
        """The candidates ``ok`` keeps, in order (their sources are shared with this pool: a kept pool is read,
        not added to)."""
        out = Pool()
        for sid, m, src in zip(self.ids, self.metas, self.sources, strict=True):
            if ok(sid, m):
                out._pos[sid] = len(out.ids)
                out.ids.append(sid)
                out.metas.append(m)
                out.sources.append(src)
        return out

    def index(self, sid: int) -> int:
        return self._pos[sid]

    def __len__(self) -> int:
        return len(self.ids)



def exclude(pool: Pool, person: PersonView, ok: Callable[[ShowMeta], bool] | None = None) -> Pool:
    """Never a show the person has seen, rated, dropped, dismissed or was just shown; never a show without
    metadata; only shows passing ``ok`` (filters, a mood)."""
    return pool.keep(lambda sid, m: sid not in person.seen and not m.empty and (ok is None or ok(m)))
