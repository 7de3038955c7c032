"""The commands every front end offers: their names, what they do, which answer privately and which cost enough
to be rate-limited, the requests checked before any limit counts them, and the help text."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass

from engine.values.errors import MultitudesError

from .grammar import parse_episode, parse_groupwatch, parse_rate, parse_recommend, parse_tonight


@dataclass(frozen=True, slots=True)
class Command:
    description: str
    private: bool = False           # answers only the asker sees (ephemeral on Discord)
    limited: bool = False           # expensive: rate-limited per person


SERVERS = frozenset({"jellyfin", "emby", "plex"})    # `/link jellyfin`: what the engine may be asked for
SERVER_POLL_S = 5.0                                # how often a Quick Connect code is checked

COMMANDS: dict[str, Command] = {
    "recommend": Command("shows for you (all, crowd, bridge A + B, persona NAME, like:SHOW, mood:\"…\", filters)",
                         limited=True),
    "bridge": Command("shows between two of your personas: bridge A + B", limited=True),
    "personas": Command("your taste personas", limited=True),
    "sync": Command("fetch your new plays from Trakt", limited=True),
    "link": Command("connect your Trakt account (or `link jellyfin`, `link emby`: your media server)", private=True,
                    limited=True),
    "unlink": Command("disconnect your Trakt account", private=True),
    "history": Command("your last plays", private=True),
    "stats": Command("your viewing in numbers, and how my picks fared (stats year [2025]: a year in review)",
                     private=True, limited=True),
    "next": Command("the next episode of each show you are in the middle of", private=True, limited=True),
    "tonight": Command("a plan that fits your evening: tonight 90m (or 2h, 1h30; mood:\"…\" and filters)",
                       private=True, limited=True),
    "upcoming": Command("what is coming for your shows (upcoming ics: as a calendar file)", private=True,
                        limited=True),
    "groupwatch": Command("a pick for several of you that nobody has seen (in:2h closes the vote; filters)",
                          limited=True),
    "settings": Command("group:on tz:Europe/Paris quiet:23-08 alerts:on binge:off digest:on watchlist:on "
                        "channel:here filters:\"genre:-horror\"", private=True),
    "rate": Command("rate a show you watched, 1 to 10 (or remove): rate Severance 9", private=True, limited=True),
    "watched": Command("after 👀: mark the show watched on Trakt up to an episode: watched S02E04", private=True,
                       limited=True),
    "export": Command("everything stored about you, as one file (send it back to restore it)", private=True,
                      limited=True),
    "forget": Command("delete everything stored about you", private=True),
    "help": Command("how Multitudes works", private=True),
}
LIMITED = frozenset(n for n, c in COMMANDS.items() if c.limited) | {"import"}
# requests parsed before any limit: a typo is answered at once and costs nothing
CHECKS: dict[str, Callable[[str], object]] = {
    "recommend": lambda args: parse_recommend(tokens(args)),
    "bridge": lambda args: parse_recommend(tokens(f"bridge {args}".strip())),
    "tonight": lambda args: parse_tonight(tokens(args)),
    "rate": lambda args: parse_rate(tokens(args)),
    "watched": parse_episode,
    "groupwatch": lambda args: parse_groupwatch(tokens(args)),
}

HELP = ("I recommend TV shows from your Trakt history, one taste persona at a time.\n"
        "No Trakt? Send me your Trakt export (.json/.zip) or Netflix viewing activity (.csv) as a file.\n"
        "/link — connect Trakt · /sync — fetch new plays · /personas — your tastes\n"
        "/recommend [all | crowd | bridge A + B | persona NAME | like:SHOW | mood:\"…\"]\n"
        "  [genre:-horror runtime:<45 k:5]\n"
        "(crowd: what Trakt members who share your tastes rate highly)\n"
        "Rate picks with the buttons or react 👍 👎 👀; 📌 adds one to your watchlist. /upcoming — what is coming.\n"
        "/next — the next episode of each show you are watching · /tonight 90m — a plan for your evening\n"
        "/settings — time zone, quiet hours, alerts per kind, weekly digest. /export — your data as one file;\n"
        "/forget deletes everything about you.\n"
        "This product uses the TMDB API but is not endorsed or certified by TMDB.")

def tokens(args: str) -> list[str]:
    try:
        return shlex.split(args)
    except ValueError as e:
        raise MultitudesError(str(e), user_message="Unbalanced quotes in that command.") from e
