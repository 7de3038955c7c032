"""The front ends' side of the catalogues (``engine/values/i18n.py``): the same functions, and which language a
person is answered in — their ``/settings lang:`` first, then their app's language."""

from __future__ import annotations

from engine.values.i18n import LANGUAGES, N_, _, base, current, day, gettext, ngettext, speaking, warm, words

__all__ = ["LANGUAGES", "N_", "_", "base", "current", "day", "gettext", "ngettext", "speaking", "warm", "words"]
