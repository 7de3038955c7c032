"""Shows that continue one another — the next season filed as its own show (anime), a sequel, a spin-off sharing
the name (Star Trek: Picard, Law & Order: SVU, Toy Story 2) — found by the part of the title they share.

``keys(title)`` gives a title's franchise keys: its first segment (before a colon, a dash, a bracket…) without
season and part markers (Season 2, 2nd Season, 第2期, Part.2, II, a trailing number, 劇場版), and, for titles in
Latin script, its first two content words ("harry potter" of "Harry Potter and the Chamber of Secrets"). Two shows
with a key in common belong to one franchise. A key must say something: at least five letters in Latin script,
three characters in others (Japanese titles pack more into a character).
"""

from __future__ import annotations

import heapq
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

import numpy as np

SEPARATORS = re.compile(r"\s[-–—]\s|[:：~〜～/／!！?？「」『』【】\[\]()（）<>《》\"“”|]+")
SEASON = re.compile(
    r"(\s*(the\s+)?(final\s+)?(season|series|part|cour|chapter|vol(ume)?|book)\.?\s*\d*\s*)$"
    r"|(\s*\d+(st|nd|rd|th)\s*(season|series|part|シーズン|クール)\s*)$"
    r"|(\s*第?\s*[0-9一二三四五六七八九十]+\s*(期|シリーズ|シーズン|章|部|クール)\s*)$"
    r"|(\s*(シーズン|season)\s*[0-9]+\s*)$"
    r"|(\s+(ii|iii|iv|v|vi|vii|viii|ix|x)\s*)$"
    r"|((?<=[^\x00-\x7f])(ii|iii|iv|vi|vii|viii|ix)\s*)$"
    r"|(\s*[0-9]+\s*)$"
    r"|(\s*(新編集版|総集編|ova|oad|ona|sp|specials?|the movie|movie|続|續|2nd|3rd)\s*)$")
PREFIXES = re.compile(r"^(劇場版|映画|the movie|tv版|ova|oad)\s*")
YEAR = re.compile(r"\s*\(\d{4}\)\s*$")
STOP = frozenset("the a an of and in on at to for with from my your our his her its their this that who what when "
                 "where why how not all one two out off into over about after before new old de la le les el los las "
                 "der die das und".split())
NON_LATIN = re.compile(r"[^\x00-\x7f]")
ARTICLE = re.compile(r"^(the|a|an)\s+|,\s*(the|a|an)$")


def _norm(title: str) -> str:
    t = unicodedata.normalize("NFKC", title).lower().strip()
    return PREFIXES.sub("", YEAR.sub("", t)).strip()


def _latin(t: str) -> bool:
    return NON_LATIN.search(t) is None


def _stem(segment: str) -> str:
    s = PREFIXES.sub("", segment.strip())
    for _ in range(3):                   # "Season 3 Part 2": peel markers until none is left
        t = SEASON.sub("", s).strip(" .,'")
        if t == s:
            break
        s = t
    return s


def _enough(key: str) -> bool:
    letters = sum(ch.isalnum() for ch in key)
    return letters >= 5 if _latin(key) else letters >= 3


@lru_cache(maxsize=32768)
def keys(title: str) -> tuple[str, ...]:
    """A title's franchise keys (none when the title says too little). Cached: a list's selection asks for the
    keys of its few hundred candidates at every slot (5 ms of a request's CPU before)."""
    t = _norm(title)
    if not t:
        return ()
    out: list[str] = []
    parts = [p.strip() for p in SEPARATORS.split(t) if p.strip()]
    first = parts[0] if parts else ""
    if len(parts) > 1 and sum(ch.isalnum() for ch in first) <= 2:     # "Re:Zero", "K: Return of Kings"
        first = f"{first} {parts[1]}"
    stem = ARTICLE.sub("", _stem(first)).strip()
    if stem and _enough(stem):
        out.append(stem)
    if _latin(t):
        words = [w for w in re.findall(r"[a-z0-9']+", t) if w not in STOP and len(w) >= 3]
        stem_words = stem.split()
        if len(stem_words) >= 2 or len(stem) >= 8:      # "die hard" of "die hard with a vengeance"
            for n in range(1, len(stem_words)):
                prefix = " ".join(stem_words[:n])
                last = prefix.split()[-1]
                if (n >= 2 or len(prefix) >= 8) and prefix not in out and last not in STOP and last.isalnum():
                    out.append(prefix)
        if len(words) >= 3:
            pair = " ".join(words[:2])
            if _enough(pair) and pair not in out:
                out.append(pair)
    return tuple(out)


class Franchises:
    """Positions of shows by franchise key, over one list of titles (the catalogue index's)."""

    def __init__(self, titles: Sequence[str]) -> None:
        self.of: list[tuple[str, ...]] = [keys(t) for t in titles]
        self.members: dict[str, list[int]] = {}
        for i, ks in enumerate(self.of):
            for k in ks:
                self.members.setdefault(k, []).append(i)

    def related(self, i: int) -> set[int]:
        """Every other show sharing a key with show ``i``."""
        return {j for k in self.of[i] for j in self.members.get(k, ()) if j != i}

    def continuations(self, weights: Mapping[int, float], years: Sequence[int | None],
                      limit: int = 60) -> dict[int, float]:
        """Shows continuing the ones in ``weights`` (position -> how much it counts, e.g. how recently it was
        watched): each gets the best weight among the shows it shares a key with, less for a key shared by many
        shows (a franchise of forty films says less of each) and for an older show than the one watched (a
        prequel)."""
        out: dict[int, float] = {}
        bar = 0.0              # the limit-th best value so far (refreshed now and then; it only rises): a show
        at = np.fromiter(weights.keys(), dtype=np.int64, count=len(weights))
        ws = np.fromiter(weights.values(), dtype=np.float64, count=len(weights))
        order = np.lexsort((at, -ws))                                    # heaviest first, ties by position
        for n, (i, w) in enumerate(zip(at[order].tolist(), ws[order].tolist(), strict=True)):  # weighing less
            if n % 32 == 31 and len(out) >= limit:                      # can neither enter nor change the top
                bar = heapq.nlargest(limit, out.values())[-1]
            if w < bar:
                break
            if w <= 0 or i >= len(self.of):
                continue
            for k in self.of[i]:
                group = self.members.get(k, ())
                if len(group) < 2:
                    continue
                share = 1.0 / max(1.0, (len(group) / 4.0) ** 0.5)
                for j in group:
                    if j == i or j in weights:
                        continue
                    older = years[i] is not None and years[j] is not None and years[j] < years[i]
                    v = w * share * (0.5 if older else 1.0)
                    if v > out.get(j, 0.0):
                        out[j] = v
        if len(out) > limit:
            keep = heapq.nsmallest(limit, out, key=lambda j: (-out[j], j))
            out = {j: out[j] for j in keep}
        return out


def shared(a: Iterable[str], b: Iterable[str]) -> bool:
    return bool(set(a) & set(b))
