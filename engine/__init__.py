"""Multitudes engine: everything except the chat platforms. Front ends use the ``Engine`` façade.

The names below load on first use: ``import engine`` (or ``engine.plumbing.config``) stays cheap, so the console can
show its prompt while NumPy, SciPy, scikit-learn and matplotlib load behind it."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.bootstrap import bootstrap
    from engine.facade import Engine
    from engine.plumbing.config import Settings, load_settings
    from engine.values.errors import MultitudesError

__all__ = ["Engine", "MultitudesError", "Settings", "bootstrap", "load_settings"]
_WHERE = {"Engine": ".facade", "MultitudesError": ".values.errors", "Settings": ".plumbing.config",
          "bootstrap": ".bootstrap", "load_settings": ".plumbing.config"}


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(where, __name__), name)
    globals()[name] = value
    return value
