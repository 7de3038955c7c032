"""Dataset users as PersonHistory objects, so the same persona code runs on MovieLens, Annict and the store."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from engine.evaluation.datasets import Dataset, Interaction, ts_to_datetime
from engine.taste.history import PersonHistory, ShowHistory, Watch
from engine.values.meta import ShowMeta, from_dict


class ItemIndex:
    def __init__(self, items: Iterable[str]) -> None:
        self.ids: dict[str, int] = {}
        self.names: list[str] = []
        for it in items:
            self.add(it)

    def add(self, item: str) -> int:
        if item not in self.ids:
            self.ids[item] = len(self.names)
            self.names.append(item)
        return self.ids[item]


def person_history(rows: Iterable[Interaction], index: ItemIndex, *, ordinal: bool,
                   rating_scale: float = 2.0, episodic: bool = False) -> PersonHistory:
    by_item: dict[int, list[Interaction]] = defaultdict(list)
    for r in rows:
        by_item[index.add(r.item)].append(r)
    shows = {}
    for iid, rs in by_item.items():
        rs.sort(key=lambda x: x.ts)
        watches = [Watch(1, k + 1, ts_to_datetime(r.ts, ordinal)) for k, r in enumerate(rs)]
        ratings = [r.rating for r in rs if r.rating is not None]
        rating = max(1, min(10, round(max(ratings) * rating_scale))) if ratings else None
        shows[iid] = ShowHistory(iid, watches, aired_episodes=None if episodic else len(watches), rating=rating)
    return PersonHistory(shows, "UTC")


def item_metas(ds: Dataset, index: ItemIndex) -> dict[int, ShowMeta]:
    for iid in ds.items:
        index.add(iid)
    return {index.ids[k]: from_dict(v) for k, v in ds.items.items()}
