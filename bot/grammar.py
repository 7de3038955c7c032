"""The /recommend grammar, shared by every front end.

    recommend [all | bridge [A + B] | persona NAME | like:SHOW | mood:"TEXT"]
              [genre:+comedy] [genre:-horror] [anime:yes|no] [runtime:<45] [runtime:>20] [lang:en]
              [provider:Netflix] [status:airing|ended] [k:5]
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.errors import MultitudesError
from engine.models import Filters, RecommendRequest

RECOMMEND_HINT = ("Try e.g. `recommend`, `recommend all`, `recommend bridge Comedies + Documentaries`, "
                  "`recommend like:\"Fargo\"`, `recommend mood:\"something light\" runtime:<35`.")
SETTINGS_HINT = ("Settings look like `group:on tz:Europe/Paris quiet:23-08 alerts:on binge:off digest:on "
                 "watchlist:on channel:here`.")


class GrammarError(MultitudesError):
    def __init__(self, detail: str, hint: str = RECOMMEND_HINT) -> None:
        super().__init__(detail, user_message=f"{detail} {hint}")


@dataclass
class Parsed:
    mode: str = "auto"
    persona: str | None = None
    bridge: tuple[str, str] | None = None
    like: str | None = None
    mood: str | None = None
    genres_in: list[str] = field(default_factory=list)
    genres_out: list[str] = field(default_factory=list)
    anime: bool | None = None
    max_runtime: int | None = None
    min_runtime: int | None = None
    language: str | None = None
    provider: str | None = None
    status: str | None = None
    k: int = 5

    def request(self, person_id: int, platform: str) -> RecommendRequest:
        return RecommendRequest(
            person_id, mode=self.mode, persona=self.persona, bridge=self.bridge, like=self.like, mood=self.mood,
            k=self.k, platform=platform,
            filters=Filters(tuple(self.genres_in), tuple(self.genres_out), self.anime, self.max_runtime,
                            self.min_runtime, self.language, self.provider, self.status))


YES = {"yes", "y", "true", "only", "1", "on"}
NO = {"no", "n", "false", "none", "0"}


def parse_recommend(tokens: list[str]) -> Parsed:
    p = Parsed()
    free: list[str] = []
    for tok in tokens:
        key, sep, val = tok.partition(":")
        key = key.lower()
        if not sep or not val:
            free.append(tok)
            continue
        if key == "like":
            p.mode, p.like = "like", val
        elif key == "mood":
            p.mode, p.mood = "mood", val
        elif key == "persona":
            p.mode, p.persona = "persona", val
        elif key == "genre":
            (p.genres_out if val.startswith("-") else p.genres_in).append(val.lstrip("+-").lower())
        elif key == "anime":
            if val.lower() not in YES | NO:
                raise GrammarError(f"anime:{val} should be anime:yes or anime:no.")
            p.anime = val.lower() in YES
        elif key == "runtime":
            op, num = val[:1], val[1:]
            if op not in "<>" or not num.isdigit():
                raise GrammarError(f"runtime:{val} should look like runtime:<45 or runtime:>20.")
            if op == "<":
                p.max_runtime = int(num)
            else:
                p.min_runtime = int(num)
        elif key in ("lang", "language"):
            p.language = val.lower()
        elif key == "provider":
            p.provider = val
        elif key == "status":
            if val.lower() not in ("airing", "ended"):
                raise GrammarError(f"status:{val} should be status:airing or status:ended.")
            p.status = val.lower()
        elif key == "k":
            if not val.isdigit() or not 1 <= int(val) <= 20:
                raise GrammarError(f"k:{val} should be a number from 1 to 20.")
            p.k = int(val)
        else:
            raise GrammarError(f"I don't know the option {key}:.")
    if free:
        head, rest = free[0].lower(), " ".join(free[1:]).strip()
        if head == "all" and not rest:
            p.mode = "all"
        elif head == "bridge":
            p.mode = "bridge"
            if rest:
                sides = [s.strip() for s in rest.split("+")]
                if len(sides) != 2 or not all(sides):
                    raise GrammarError("A bridge takes two personas: `bridge A + B`.")
                p.bridge = (sides[0], sides[1])
        elif head == "persona" and rest:
            p.mode, p.persona = "persona", rest
        elif p.mode == "auto":
            p.mode, p.persona = "persona", " ".join(free)   # a bare persona name
        else:
            raise GrammarError(f"I could not read “{' '.join(free)}”.")
    return p


ALERT_KINDS = ("premiere", "binge", "returning", "catchup")


def parse_settings(tokens: list[str]) -> dict[str, object]:
    """``group:on|off tz:Europe/Paris quiet:23-08 alerts:on|off premiere|binge|returning|catchup:on|off
    watchlist:on|off digest:on|off channel:here|dm filters:"genre:-horror anime:no"``"""
    out: dict[str, object] = {}
    for tok in tokens:
        key, _, val = tok.partition(":")
        key = key.lower()
        if not val:
            raise GrammarError(f"{tok} needs a value, e.g. group:on.", SETTINGS_HINT)
        if key == "group":
            out["group_opt_in"] = val.lower() in YES or val.lower() == "on"
        elif key in ("tz", "timezone"):
            out["timezone"] = val
        elif key == "quiet":
            a, _, b = val.partition("-")
            if not (a.isdigit() and b.isdigit() and 0 <= int(a) < 24 and 0 <= int(b) < 24):
                raise GrammarError(f"quiet:{val} should look like quiet:23-08 (hours).", SETTINGS_HINT)
            out["quiet_hours"] = [int(a), int(b)]
        elif key == "alerts":
            out["alerts"] = val.lower() in YES or val.lower() == "on"
        elif key == "watchlist":
            out["trakt_watchlist"] = val.lower() in YES or val.lower() == "on"
        elif key == "channel":
            if val.lower() not in ("here", "dm"):
                raise GrammarError("channel:here sends your alerts to this chat; channel:dm back to you privately.",
                                   SETTINGS_HINT)
            out["alert_channel"] = "here" if val.lower() == "here" else ""
        elif key == "digest":
            out["digest"] = val.lower() in YES or val.lower() == "on"
        elif key in ALERT_KINDS:
            out[f"alert_{key}"] = val.lower() in YES or val.lower() == "on"
        elif key == "filters":
            parse_recommend(val.split())          # validate now, not at the next /recommend
            out["default_filters"] = val
        else:
            raise GrammarError(f"I don't know the setting {key}:.", SETTINGS_HINT)
    return out


def resolve_channel(changes: dict[str, object], platform: str, chat_id: str | None) -> dict[str, object]:
    """``channel:here`` names the chat the command came from (alerts there reveal what you watch: your choice)."""
    if changes.get("alert_channel") == "here":
        if chat_id is None:
            raise GrammarError("channel:here only works in a Telegram or Discord chat.", SETTINGS_HINT)
        changes["alert_channel"] = f"{platform}:{chat_id}"
    return changes


def with_defaults(tokens: list[str], defaults: object) -> list[str]:
    """A person's default filters first; what they type now wins (later tokens override)."""
    return [*str(defaults).split(), *tokens] if defaults else tokens


def settings_text(s: dict[str, object]) -> str:
    quiet = s.get("quiet_hours")
    q = f"{quiet[0]:02d}-{quiet[1]:02d}" if isinstance(quiet, list) and len(quiet) == 2 else "none"
    off = [k for k in ALERT_KINDS if s.get(f"alert_{k}") is False]
    kinds = f" (not: {', '.join(off)})" if off and s.get("alerts", True) else ""
    return (f"Group picks: {'on' if s.get('group_opt_in') else 'off'} · time zone: {s.get('timezone') or 'unset'} · "
            f"quiet hours: {q} · alerts: {'on' if s.get('alerts', True) else 'off'}{kinds} · "
            f"add to Trakt watchlist: {'on' if s.get('trakt_watchlist') else 'off'} · "
            f"weekly digest: {'on' if s.get('digest') else 'off'} · "
            f"alerts go to: {'a chosen chat' if s.get('alert_channel') else 'you, privately'} · "
            f"default filters: {s.get('default_filters') or 'none'}")
