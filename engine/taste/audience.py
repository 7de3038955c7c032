"""Who a show is made for, read from its content rating: young children, families, teenagers or adults.

TMDB reports each country's own rating (``content_ratings``): the US TV Parental Guidelines (``TV-Y`` … ``TV-MA``),
ages (Germany's ``16``, Brazil's ``14``, Korea's ``19``), letters (the UK's ``U``/``PG``, Australia's ``MA15+``,
Italy's ``VM14``). All of them reduce to the youngest age a show is meant for; the four audiences are bands of
that age. A taste built on adult dramas then sits apart from a children's cartoon of the same genres, and a person
who watches cartoons keeps them: the audience is part of a show's features, so a persona's centroid carries the
audiences of its own shows (see ``features.encode``).
"""

from __future__ import annotations

import re

AUDIENCES = ("children", "family", "teens", "adults")

# ratings that are not an age, by the youngest age they mean (the rest of the world's ratings are ages)
_NAMED: dict[str, int] = {
    # US TV Parental Guidelines and MPA
    "TV-Y": 0, "TV-Y7": 7, "TV-Y7-FV": 7, "TV-G": 0, "TV-PG": 10, "TV-14": 14, "TV-MA": 17,
    "G": 0, "PG": 10, "PG-13": 13, "R": 17, "NC-17": 18,
    # the UK (BBFC), Ireland, Australia, New Zealand, Canada
    "U": 0, "UC": 0, "12A": 12, "R18": 18, "C": 0, "P": 0, "M": 15, "MA15+": 15, "MA 15+": 15,
    "AV15+": 15, "R18+": 18, "X18+": 18, "C8": 8, "14+": 14, "18+": 18, "RP13": 13, "RP16": 16, "RP18": 18,
    # Europe and Latin America
    "AL": 0, "ALL": 0, "TP": 0, "T": 0, "L": 0, "KT/EA": 0, "VM14": 14, "VM18": 18,
    "TOUS PUBLICS": 0, "TODOS": 0,
}
_AGE = re.compile(r"(\d{1,2})")


def minimum_age(certification: str | None) -> int | None:
    """The youngest age a rating admits (``None`` for no rating or one we cannot read, e.g. ``NR``)."""
    if not certification:
        return None
    c = certification.strip().upper()
    if c in _NAMED:
        return _NAMED[c]
    m = _AGE.search(c)
    if m is None:
        return None
    age = int(m.group(1))
    return age if age <= 21 else None


def audience(certification: str | None) -> str | None:
    """The audience a rating means: children (under 8), family (8–11), teens (12–15) or adults (16 and up)."""
    age = minimum_age(certification)
    if age is None:
        return None
    return "children" if age < 8 else "family" if age < 12 else "teens" if age < 16 else "adults"


# neighbouring audiences overlap (a teen drama is nearly an adult one; a family show is half a children's one),
# so a centroid of TV-14 and TV-MA shows is close to both and far only from what is made for small children
_SPREAD = {"children": (1.0, 0.4, 0.0, 0.0), "family": (0.4, 1.0, 0.4, 0.0), "teens": (0.0, 0.3, 1.0, 0.7),
           "adults": (0.0, 0.0, 0.7, 1.0)}


def audience_row(certification: str | None) -> tuple[float, ...]:
    """The show's row in the audience block (zeros when its rating is unknown)."""
    a = audience(certification)
    return _SPREAD[a] if a is not None else (0.0,) * len(AUDIENCES)
