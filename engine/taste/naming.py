"""Deterministic persona names from dominant features: "Crime thrillers", "Sci-fi dramas", "Comedies"."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from engine.values.meta import EMPTY, ShowMeta

NOUN = {
    "drama": "dramas", "comedy": "comedies", "crime": "crime", "thriller": "thrillers", "mystery": "mysteries",
    "science-fiction": "sci-fi", "fantasy": "fantasy", "horror": "horror", "romance": "romance",
    "documentary": "documentaries", "reality": "reality TV", "animation": "animation", "anime": "anime",
    "action": "action", "adventure": "adventures", "family": "family viewing", "children": "kids' shows",
    "history": "history", "war": "war stories", "western": "westerns", "music": "music", "musical": "musicals",
    "sporting-event": "sport", "talk-show": "talk shows", "news": "news", "soap": "soaps", "superhero": "superheroes",
    "game-show": "game shows",
}
MOD = {
    "crime": "Crime", "science-fiction": "Sci-fi", "fantasy": "Fantasy", "horror": "Horror", "romance": "Romantic",
    "comedy": "Comedy", "action": "Action", "adventure": "Adventure", "animation": "Animated", "anime": "Anime",
    "documentary": "Documentary", "family": "Family", "history": "Historical", "war": "War",
    "mystery": "Mystery", "thriller": "Thriller", "drama": "Drama", "western": "Western", "music": "Music",
    "reality": "Reality", "sporting-event": "Sports", "children": "Kids'", "superhero": "Superhero",
}
# heads: broad formats come last as nouns ("Crime dramas", not "Drama crime")
HEAD_ORDER = ["drama", "comedy", "documentary", "reality", "thriller", "mystery", "adventure", "action",
              "animation", "anime", "fantasy", "science-fiction", "horror", "romance", "crime", "family",
              "history", "war", "western", "music"]
TONE = {
    "Dark": {"murder", "serial_killer", "serial", "killer", "drug", "drugs", "cartel", "violence", "prison",
             "death", "detective", "investigation", "corruption", "revenge", "mafia", "gangster", "murders"},
    "Cerebral": {"dystopia", "time_travel", "artificial_intelligence", "philosophy", "simulation", "consciousness",
                 "future", "alien", "aliens", "space", "technology", "robots", "virtual"},
    "Comfort": {"sitcom", "friendship", "workplace", "roommates", "neighbors", "family_relationships",
                "friends", "coworkers", "small_town"},
    "True-story": {"based_on_true_story", "true_crime", "biography", "historical", "real", "true"},
}


def _genres_of(meta: ShowMeta) -> list[str]:
    g = list(meta.genres)
    if "animation" in g and "JP" in meta.origin_country:
        g.append("anime")
    return g


def deterministic_name(members: Sequence[int], weights: Sequence[float], metas: Mapping[int, ShowMeta],
                       background: Mapping[str, float] | None = None) -> tuple[str, list[str]]:
    """A name and the persona's defining genres (by weighted share, lifted against the person's overall mix)."""
    share: dict[str, float] = {}
    total = sum(weights) or 1.0
    for sid, w in zip(members, weights, strict=True):
        for g in set(_genres_of(metas.get(sid) or EMPTY)):
            share[g] = share.get(g, 0.0) + w / total
    if not share:
        return "Unlabelled shows", []
    bg_total = sum(background.values()) if background else 0

    def lift(g: str) -> float:
        if not background or not bg_total:
            return share[g]
        return float(share[g] * (share[g] / max(0.02, background.get(g, 0.0) / bg_total)) ** 0.5)

    ranked = sorted((g for g in share if share[g] >= 0.3), key=lambda g: (-lift(g), g)) or [
        max(share, key=lambda g: share[g])]
    top = ranked[:2]
    if len(top) == 2:
        a, b = top
        def rank(g: str) -> int:
            return HEAD_ORDER.index(g) if g in HEAD_ORDER else len(HEAD_ORDER)

        head, mod = (a, b) if rank(a) <= rank(b) else (b, a)
        if head in NOUN and mod in MOD and mod != head:
            name = f"{MOD[mod]} {NOUN[head]}"
        else:
            name = NOUN.get(a, a).capitalize()
    else:
        name = NOUN.get(top[0], top[0]).capitalize()
    tone = _tone(members, metas)
    if tone and not name.startswith(tone):
        name = f"{tone} {name[0].lower()}{name[1:]}" if not name.startswith("Sci") else f"{tone} {name}"
    return name, ranked[:3]


def _tone(members: Iterable[int], metas: Mapping[int, ShowMeta]) -> str | None:
    counts: Counter[str] = Counter()
    members = list(members)
    for sid in members:
        kws = {k.lower().replace(" ", "_") for k in (metas.get(sid) or EMPTY).keywords}
        for tone, words in TONE.items():
            if kws & words:
                counts[tone] += 1
    if not counts:
        return None
    tone, n = counts.most_common(1)[0]
    return tone if n >= max(2, len(members) // 3) else None


def unique_names(names: list[str], extras: list[list[str]]) -> list[str]:
    """Make names distinct by adding a distinguishing genre, then a number."""
    out: list[str] = []
    for name, extra in zip(names, extras, strict=True):
        candidate = name
        if candidate in out:
            for g in extra:
                alt = f"{name} ({NOUN.get(g, g)})"
                if alt not in out:
                    candidate = alt
                    break
        n = 2
        while candidate in out:
            candidate = f"{name} {n}"
            n += 1
        out.append(candidate)
    return out
