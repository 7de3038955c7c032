"""Multitudes engine: everything except the chat platforms. Front ends use the ``Engine`` façade.

The names below load on first use: ``import engine`` (or ``engine.config``) stays cheap, so the console can show its
prompt while NumPy, SciPy, scikit-learn and matplotlib load behind it."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .bootstrap import bootstrap
    from .config import Settings, load_settings
    from .errors import MultitudesError
    from .facade import Engine

__all__ = ["Engine", "MultitudesError", "Settings", "bootstrap", "load_settings"]
_WHERE = {"Engine": ".facade", "MultitudesError": ".errors", "Settings": ".config", "bootstrap": ".bootstrap",
          "load_settings": ".config"}


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(where, __name__), name)
    globals()[name] = value
    return value
