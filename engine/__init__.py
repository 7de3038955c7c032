"""Multitudes engine: everything except the chat platforms. Front ends use the ``Engine`` façade."""

from .bootstrap import bootstrap
from .config import Settings, load_settings
from .errors import MultitudesError
from .facade import Engine

__all__ = ["Engine", "MultitudesError", "Settings", "bootstrap", "load_settings"]
