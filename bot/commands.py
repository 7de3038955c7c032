"""The commands every front end offers: their names, what they do, which answer privately and which cost enough
to be rate-limited, the requests checked before any limit counts them, and the help text."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass

from engine.values.errors import MultitudesError

from .grammar import parse_episode, parse_groupwatch, parse_rate, parse_recommend, parse_tonight
from .i18n import N_, _, gettext


@dataclass(frozen=True, slots=True)
class Command:
    description: str
    private: bool = False           # answers only the asker sees (ephemeral on Discord)
    limited: bool = False           # expensive: rate-limited per person


SERVERS = frozenset({"jellyfin", "emby", "plex"})    # `/link jellyfin`: what the engine may be asked for
SERVER_POLL_S = 5.0                                # how often a Quick Connect code is checked

COMMANDS: dict[str, Command] = {
    "recommend": Command(N_("shows for you (all, crowd, bridge A + B, persona NAME, like:SHOW, mood:\"…\", filters)"),
                         limited=True),
    "bridge": Command(N_("shows between two of your personas: bridge A + B"), limited=True),
    "personas": Command(N_("your taste personas"), limited=True),
    "sync": Command(N_("fetch your new plays from Trakt"), limited=True),
    "link": Command(N_("connect your Trakt account (or `link jellyfin`, `link emby`: your media server)"), private=True,
                    limited=True),
    "unlink": Command(N_("disconnect your Trakt account"), private=True),
    "history": Command(N_("your last plays"), private=True),
    "stats": Command(N_("your viewing in numbers, and how my picks fared (stats year [2025]: a year in review)"),
                     private=True, limited=True),
    "next": Command(N_("the next episode of each show you are in the middle of"), private=True, limited=True),
    "tonight": Command(N_("a plan that fits your evening: tonight 90m (or 2h, 1h30; mood:\"…\" and filters)"),
                       private=True, limited=True),
    "upcoming": Command(N_("what is coming for your shows (upcoming ics: as a calendar file)"), private=True,
                        limited=True),
    "groupwatch": Command(N_("a pick for several of you that nobody has seen (in:2h closes the vote; filters)"),
                          limited=True),
    "settings": Command(N_("your settings: group:on tz:Europe/Paris quiet:23-08 alerts:on digest:on "
                                   "watchlist:on channel:here lang:fr"), private=True),
    "rate": Command(N_("rate a show you watched, 1 to 10 (or remove): rate Severance 9"), private=True, limited=True),
    "watched": Command(N_("after 👀: mark the show watched on Trakt up to an episode: watched S02E04"), private=True,
                       limited=True),
    "export": Command(N_("everything stored about you, as one file (send it back to restore it)"), private=True,
                      limited=True),
    "forget": Command(N_("delete everything stored about you"), private=True),
    "help": Command(N_("how Multitudes works"), private=True),
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

HELP_LINES = (
    N_("I recommend TV shows from your Trakt history, one taste persona at a time."),
    N_("No Trakt? Send me your Trakt export (.json/.zip) or Netflix viewing activity (.csv) as a file."),
    N_("/link — connect Trakt · /sync — fetch new plays · /personas — your tastes"),
    "`/recommend [all | crowd | bridge A + B | persona NAME | like:SHOW | mood:\"…\"]`",    # syntax: as typed
    "  `[genre:-horror runtime:<45 k:5]`",
    N_("(crowd: what Trakt members who share your tastes rate highly)"),
    N_("Rate picks with the buttons or react 👍 👎 👀; 📌 adds one to your watchlist. /upcoming — what is coming."),
    N_("/next — the next episode of each show you are watching · /tonight 90m — a plan for your evening"),
    N_("/settings — time zone, quiet hours, alerts per kind, weekly digest, language (lang:fr). /export — your data as "
       "one file; /forget deletes everything about you."),
    N_("This product uses the TMDB API but is not endorsed or certified by TMDB."),
)


def help_text(lang: str | None = None) -> str:
    """``/help`` in ``lang`` (a BCP 47 tag; English where the catalogues have no translation)."""
    return "\n".join(gettext(lang, line) for line in HELP_LINES)

def tokens(args: str) -> list[str]:
    try:
        return shlex.split(args)
    except ValueError as e:
        raise MultitudesError(str(e), user_message=_("Unbalanced quotes in that command.")) from e
