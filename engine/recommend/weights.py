"""How much each signal counts: typed, with where every number came from.

``weights.json`` (shipped next to this module) holds profiles fitted by ``multitudes tune`` on real data (each with
its provenance: dataset, protocol, command, date, validation recall) and the ``live`` profile the bot uses, whose
provenance says which fitted profile each value comes from and which values are set by hand because no dataset
carries that signal (lifecycle, what Trakt and TMDB list, tone tags).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

SIGNALS = ("persona", "collab", "neighbours", "continuation", "popular_now", "popular_then", "popular_all", "quality",
           "lifecycle", "evidence", "tone")
# what each ranking strategy of an "across your personas" list multiplies (the bandit draws one per slot)
STRATEGY_TILT: dict[str, dict[str, float]] = {
    "blend": {},
    "taste": {"persona": 1.6, "tone": 1.5, "popular_now": 0.6, "popular_all": 0.6},
    "crowd": {"persona": 0.6, "popular_now": 1.6, "popular_all": 1.4, "quality": 1.3, "evidence": 1.4},
}


class Provenance(BaseModel):
    model_config = ConfigDict(extra="allow")

    source: str                 # "fitted" (multitudes tune) | "validated" (a grid of multitudes eval runs on a
                                # validation split cut from training) | "derived" | "hand-set"
    note: str = ""
    dataset: str | None = None
    protocol: str | None = None
    command: str | None = None
    date: str | None = None
    validation: dict[str, float] = Field(default_factory=dict)


class Profile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    signals: dict[str, float]
    half_life_days: float = Field(30.0, gt=0)     # popularity "now" and "then": an event halves in weight
    history_decay: float = Field(10.0, gt=0)      # co-watching input: the n-th most recent show weighs 2^(-n/decay)
    neighbours_days: float = Field(14.0, gt=0)    # "people like you watch it now": a watch halves every this
    present_days: float = Field(365.0, gt=0)      # how much a person lives in the present: 2^(-idle days / this)
    present_shift: float = Field(0.0, ge=0, le=1)  # for someone in the present, all-time co-watching counts this
                                                   # much less (what people like them watch now speaks instead)
    calibration: float = Field(0.0, ge=0, le=0.95)   # genre calibration (Steck 2018) in the greedy selection
    calibration_reach: float = Field(0.0, ge=0)    # ... among the best this x k candidates of each slot (0: all)
    quota: float = Field(1.0, ge=0, le=1.0)       # how firmly a list's slots follow the persona weights
    diversity: float = Field(0.0, ge=0)           # penalty per pick already from the same persona (over quota)
    provenance: dict[str, Provenance] = Field(default_factory=dict)   # per value or "all"

    @property
    def scale(self) -> float:
        """The largest signal weight: weights are read relative to it, so the penalties and bonuses a list adds
        on top (a "not for me" neighbour, a shown-and-ignored pick, the bandit's source bonus, quotas) keep their
        size whatever scale a fit lands on."""
        return max((abs(v) for v in self.signals.values()), default=1.0) or 1.0

    def weight(self, signal: str, strategy: str = "blend") -> float:
        return self.signals.get(signal, 0.0) * STRATEGY_TILT.get(strategy, {}).get(signal, 1.0) / self.scale

    def vector(self, strategy: str = "blend") -> list[float]:
        return [self.weight(s, strategy) for s in SIGNALS]


class Weights(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    default: str
    profiles: dict[str, Profile]

    def profile(self, name: str | None = None) -> Profile:
        return self.profiles[name or self.default]


WEIGHTS_FILE = "weights.json"


@lru_cache(maxsize=1)
def shipped() -> Weights:
    raw = resources.files("engine.recommend").joinpath(WEIGHTS_FILE).read_text(encoding="utf-8")
    return Weights.model_validate_json(raw)


def shipped_path() -> Path:
    return Path(str(resources.files("engine.recommend").joinpath(WEIGHTS_FILE)))


def save_profile(path: str | Path, name: str, profile: Profile) -> None:
    """Add or replace one profile in a weights file (other profiles and the default stay as they are)."""
    p = Path(path)
    weights = (Weights.model_validate_json(p.read_text(encoding="utf-8")) if p.exists()
               else Weights(default=name, profiles={}))
    weights = weights.model_copy(update={"profiles": {**weights.profiles, name: profile}})
    p.write_text(json.dumps(weights.model_dump(mode="json", exclude_none=True), indent=2, ensure_ascii=False)
                 + "\n", encoding="utf-8")
    shipped.cache_clear()
