"""What the code marks for the catalogues, read as ``pybabel extract`` reads it (the keywords in
docs/development.md), and a pseudo-language that shows which words of a reply came through them."""

from __future__ import annotations

import gettext
from functools import lru_cache
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from engine.values.i18n import DOMAIN

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "plural": (2, 3)}
PSEUDO = "qps"                               # a private-use language tag: every marked message, bracketed


@lru_cache(maxsize=1)
def marked() -> frozenset[str | tuple[str, str]]:
    """Every marked message of ``engine/`` and ``bot/``: a string, or (singular, plural)."""
    out: set[str | tuple[str, str]] = set()
    for folder in ("engine", "bot"):
        for _f, _l, msg, _c, _x in extract_from_dir(str(ROOT / folder), method_map=[("**.py", "python")],
                                                    keywords=KEYWORDS):
            if isinstance(msg, str) and msg:
                out.add(msg)
            elif isinstance(msg, tuple) and len(msg) == 2 and all(msg):
                out.add((str(msg[0]), str(msg[1])))
    return frozenset(out)


def catalogue(lang: str) -> dict[str | tuple[str, str], str | tuple[str, ...]]:
    with open(ROOT / "engine" / "locale" / lang / "LC_MESSAGES" / f"{DOMAIN}.po", "rb") as f:
        cat = read_po(f, locale=lang)
    out: dict[str | tuple[str, str], str | tuple[str, ...]] = {}
    for m in cat:
        if not m.id:
            continue
        if isinstance(m.id, (list, tuple)):
            out[(str(m.id[0]), str(m.id[1]))] = tuple(str(x) for x in m.string)
        else:
            out[str(m.id)] = str(m.string)
    return out


class Pseudo(gettext.NullTranslations):
    """``⟦message⟧`` for every marked message; an unmarked one comes back bare (and the coverage test sees it)."""

    def gettext(self, message: str) -> str:
        return f"⟦{message}⟧" if message in marked() else message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        chosen = singular if n == 1 else plural
        return f"⟦{chosen}⟧" if (singular, plural) in marked() else chosen
