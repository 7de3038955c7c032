"""The text grammar every front end shares: /recommend and /settings.

    recommend [all | crowd | bridge [A + B] | persona NAME | like:SHOW | mood:"TEXT"]
              [genre:+comedy] [genre:-horror] [anime:yes|no] [runtime:<45] [runtime:>20] [lang:en]
              [provider:Netflix] [status:airing|ended] [k:5]
    tonight   90m | 2h | 1h30 [mood:"TEXT"] [genre:… runtime:… provider:…]
    rate      TITLE N | TITLE remove
    watched   S02E04  (after 👀: marked watched on Trakt up to that episode)
    settings  [group:on|off] [tz:Europe/Paris] [quiet:23-08|off] [alerts:on|off]
              [premiere|binge|returning|catchup|arrivals:on|off] [watchlist:on|off] [digest:on|off] [channel:here|dm]
              [cowatch:on|off]  (let your history shape "people who watched X also watched" picks for others)
              [filters:"genre:-horror anime:no"] [services:netflix,max,"disney+"|none]
              [publish:on|off]  (your current picks as a private Trakt list, and a collection on the bot's media
              server that everyone on it can see)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from engine.values.errors import MultitudesError
from engine.values.filters import FILTER_KEYS, FilterBuilder, FilterError, filters_text, number, parse_filter_tokens
from engine.values.languages import language_name
from engine.values.models import Filters, Mode, PersonSettings, RecommendRequest

from .i18n import N_, _

RECOMMEND_HINT = N_("Try e.g. `recommend`, `recommend all`, `recommend crowd`, "
                    "`recommend bridge Comedies + Documentaries`, `recommend like:\"Fargo\"`, "
                    "`recommend mood:\"something light\" runtime:<35`.")
SETTINGS_HINT = N_("Settings look like `group:on tz:Europe/Paris region:GB quiet:23-08 alerts:on binge:off "
                   "arrivals:off digest:on watchlist:on trakt:write channel:here services:netflix,max lang:fr`.")
ON = frozenset({"on", "yes", "y", "true", "1"})
OFF = frozenset({"off", "no", "n", "false", "0"})
ALERT_KINDS = ("premiere", "binge", "returning", "catchup", "arrival")
ALERT_WORDS = {**{k: k for k in ALERT_KINDS}, "arrivals": "arrival"}     # `arrivals:off` as people write it


class GrammarError(MultitudesError):
    """``detail`` in the person's language (``_`` where it is raised); ``hint``: a catalogue message that follows."""

    def __init__(self, detail: str, hint: str = RECOMMEND_HINT) -> None:
        super().__init__(detail)
        self.detail, self.hint = detail, hint

    @property
    def user_message(self) -> str:
        return f"{self.detail} {_(self.hint) if self.hint else ''}".strip()


@dataclass
class Parsed:
    mode: Mode = Mode.AUTO
    persona: str | None = None
    bridge: tuple[str, str] | None = None
    like: str | None = None
    mood: str | None = None
    filters: FilterBuilder = field(default_factory=FilterBuilder)
    k: int = 5
    library: bool = False                 # ``recommend library``: only what the person's media server has

    def request(self, person_id: int, platform: str, lang: str | None = None) -> RecommendRequest:
        return RecommendRequest(person_id, mode=self.mode, persona=self.persona, bridge=self.bridge, like=self.like,
                                mood=self.mood, k=self.k, platform=platform, filters=self.filters.build(),
                                library=self.library, lang=lang)


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
            p.mode, p.like = Mode.LIKE, val
        elif key == "mood":
            p.mode, p.mood = Mode.MOOD, val
        elif key == "persona":
            p.mode, p.persona = Mode.PERSONA, val
        elif key in FILTER_KEYS:
            try:
                p.filters.add(key, val)
            except FilterError as e:
                # a "did you mean" is the whole answer; otherwise the usual examples follow
                raise GrammarError(e.detail, "" if e.complete else RECOMMEND_HINT) from e
        elif key == "k":
            n = number(val)
            if n is None or not 1 <= n <= 20:
                raise GrammarError(_("k:{value} should be a number from 1 to 20.").format(value=val))
            p.k = n
        else:
            raise GrammarError(_("I don't know the option {key}:.").format(key=key))
    if any(t.lower() == "library" for t in free):
        p.library = True
        free = [t for t in free if t.lower() != "library"]
    if free:
        head, rest = free[0].lower(), " ".join(free[1:]).strip()
        if head == "all" and not rest:
            p.mode = Mode.ALL
        elif head == "crowd" and not rest:
            p.mode = Mode.CROWD
        elif head == "bridge":
            p.mode = Mode.BRIDGE
            if rest:
                sides = [s.strip() for s in rest.split("+")]
                if len(sides) != 2 or not all(sides):
                    raise GrammarError(_("A bridge takes two personas: `bridge A + B`."))
                p.bridge = (sides[0], sides[1])
        elif head == "persona" and rest:
            p.mode, p.persona = Mode.PERSONA, rest
        elif p.mode == Mode.AUTO:
            p.mode, p.persona = Mode.PERSONA, " ".join(free)   # a bare persona name
        else:
            raise GrammarError(_("I could not read “{text}”.").format(text=" ".join(free)))
    return p


TONIGHT_HINT = N_("Try e.g. `tonight 90m`, `tonight 2h`, `tonight 1h30 mood:\"something light\"`.")
_DURATION = re.compile(r"(?:(?P<h>\d+(?:[.,]\d+)?)\s*h(?:ours?|rs?)?)?\s*(?:(?P<m>\d+)\s*(?:m|min|mins|minutes?)?)?")


def duration(text: str) -> int | None:
    """Minutes in ``90m``, ``90``, ``2h``, ``1h30``, ``1.5h``, ``1h 30m``; None when it does not read as a time."""
    t = text.strip().lower()
    got = _DURATION.fullmatch(t)
    if not t or got is None or not (got["h"] or got["m"]):
        return None
    hours = float(got["h"].replace(",", ".")) if got["h"] else 0.0
    return round(hours * 60) + int(got["m"] or 0)


@dataclass
class TonightAsk:
    minutes: int
    mood: str | None
    filters: Filters


def parse_tonight(tokens: list[str]) -> TonightAsk:
    """``tonight 90m mood:"…" genre:-horror``: the time first, then what a recommendation takes (mood, filters)."""
    when = [t for t in tokens if ":" not in t]
    rest = [t for t in tokens if ":" in t]
    if not when:
        raise GrammarError(_("How much time do you have?"), TONIGHT_HINT)
    minutes = duration(" ".join(when))
    if minutes is None and duration(when[0]) is not None:
        raise GrammarError(_("After the time, tonight takes mood:\"…\" and filters; “{text}” is neither.").format(
            text=" ".join(when[1:])), TONIGHT_HINT)
    if minutes is None:
        raise GrammarError(_("“{text}” does not read as a time.").format(text=" ".join(when)), TONIGHT_HINT)
    p = parse_recommend(rest)
    if p.mode not in (Mode.AUTO, Mode.MOOD) or p.k != 5:
        raise GrammarError(_("tonight takes a time, a mood and filters (genre:, runtime:, provider: …)."),
                           TONIGHT_HINT)
    return TonightAsk(minutes, p.mood, p.filters.build())


GROUP_HINT = N_("Try e.g. `groupwatch`, `groupwatch in:2h at:21:00`, "
                "`groupwatch genre:+comedy runtime:<45 provider:mine`.")


@dataclass
class GroupAsk:
    closes_in: int | None           # minutes until the vote closes
    filters: Filters
    at: tuple[int, int] | None = None   # (hour, minute) to watch the winner, in the asker's time zone


def parse_groupwatch(tokens: list[str]) -> GroupAsk:
    """``groupwatch [in:2h] [filters]`` (mentions are the platform's, not words)."""
    closes: int | None = None
    at: tuple[int, int] | None = None
    rest = []
    for tok in tokens:
        key, sep, val = tok.partition(":")
        if key.lower() == "at" and sep:
            hh, _sep, mm = val.replace(".", ":").partition(":")
            h, m = number(hh), number(mm or "0")
            if h is None or m is None or not (0 <= h < 24 and 0 <= m < 60):
                raise GrammarError(_("at:{value} should be a time of day, e.g. at:21:00.").format(value=val),
                                   GROUP_HINT)
            at = (h, m)
        elif key.lower() == "in" and sep:
            closes = duration(val)
            if closes is None or not 5 <= closes <= 7 * 24 * 60:
                raise GrammarError(_("in:{value} should be a time from 5 minutes to a week, e.g. in:2h.").format(
                    value=val), GROUP_HINT)
        elif tok.startswith("@") or not sep:
            continue                    # @someone: a mention the platform resolves
        else:
            rest.append(tok)
    p = parse_recommend(rest)
    if p.mode != Mode.AUTO or p.k != 5:
        raise GrammarError(_("groupwatch takes a deadline (in:2h) and filters (genre:, runtime:, provider: …)."),
                           GROUP_HINT)
    return GroupAsk(closes, p.filters.build(), at)


RATE_HINT = N_("Try e.g. `rate Severance 9`, `rate \"The Office\" 7`, `rate Severance remove`.")


def parse_rate(tokens: list[str]) -> tuple[str, int | None]:
    """``rate TITLE N`` (1–10) or ``rate TITLE remove``."""
    if len(tokens) < 2:
        raise GrammarError(_("Which show, and what rating?"), RATE_HINT)
    *title, last = tokens
    if last.lower() in ("remove", "none", "clear", "0"):
        return " ".join(title), None
    n = number(last.removesuffix("/10"))
    if n is None:
        raise GrammarError(_("“{text}” is not a rating.").format(text=last), RATE_HINT)
    if not 1 <= n <= 10:
        raise GrammarError(_("A rating goes from 1 to 10, not {n}.").format(n=n), RATE_HINT)
    return " ".join(title), n


EPISODE_HINT = N_("Write the episode like S02E04 (or 2x04).")
_EPISODE = re.compile(r"(?:s(?P<s>\d{1,2})\s*e(?P<e>\d{1,3})|(?P<s2>\d{1,2})x(?P<e2>\d{1,3}))", re.IGNORECASE)


def parse_episode(text: str) -> tuple[int, int]:
    """``S02E04``, ``s2e4``, ``2x04`` → (2, 4); season and episode from 1."""
    got = _EPISODE.fullmatch(text.strip())
    if got is None:
        raise GrammarError(_("“{text}” is not an episode.").format(text=text.strip()[:40]), EPISODE_HINT)
    season, episode = int(got["s"] or got["s2"]), int(got["e"] or got["e2"])
    if season < 1 or episode < 1:
        raise GrammarError(_("Seasons and episodes count from 1."), EPISODE_HINT)
    return season, episode


def _switch(key: str, val: str) -> bool:
    v = val.lower()
    if v in ON:
        return True
    if v in OFF:
        return False
    raise GrammarError(_("{key}:{value} should be {key}:on or {key}:off.").format(key=key, value=val), SETTINGS_HINT)


def parse_settings(tokens: list[str]) -> dict[str, Any]:
    """Settings tokens to typed changes for ``Engine.update_settings``; anything unreadable is an error."""
    out: dict[str, Any] = {}
    for tok in tokens:
        key, _sep, val = tok.partition(":")
        key = key.lower()
        if not val:
            raise GrammarError(_("{token} needs a value, e.g. group:on.").format(token=tok), SETTINGS_HINT)
        if key == "group":
            out["group_opt_in"] = _switch(key, val)
        elif key in ("cowatch", "share"):
            out["share_cowatch"] = _switch(key, val)
        elif key in ("tz", "timezone"):
            out["timezone"] = val
        elif key in ("region", "country"):
            if val.lower() in OFF | {"none", "default"}:
                out["region"] = None
                continue
            # a code or a country's name: the engine knows which exist
            out["region"] = val.upper() if len(val) == 2 else val[:60]
        elif key == "quiet":
            if val.lower() in OFF | {"none"}:
                out["quiet_hours"] = None
                continue
            a, _sep, b = val.partition("-")
            ha, hb = number(a), number(b)
            if ha is None or hb is None or not (0 <= ha < 24 and 0 <= hb < 24):
                raise GrammarError(_("quiet:{value} should look like quiet:23-08 (hours), or quiet:off.").format(
                    value=val), SETTINGS_HINT)
            out["quiet_hours"] = (ha, hb)
        elif key == "alerts":
            out["alerts"] = _switch(key, val)
        elif key == "watchlist":
            out["trakt_watchlist"] = _switch(key, val)
        elif key == "trakt":
            if val.lower() not in ("write", "read", *ON, *OFF):
                raise GrammarError(_("trakt:write lets 👀, /rate and 👎 reach your Trakt account; trakt:read stops "
                                     "it."), SETTINGS_HINT)
            out["trakt_write"] = val.lower() == "write" or val.lower() in ON
        elif key == "channel":
            if val.lower() not in ("here", "dm"):
                raise GrammarError(_("channel:here sends your alerts to this chat; channel:dm back to you "
                                     "privately."), SETTINGS_HINT)
            out["alert_channel"] = "here" if val.lower() == "here" else ""
        elif key == "digest":
            out["digest"] = _switch(key, val)
        elif key == "publish":
            out["publish"] = _switch(key, val)
        elif key in ("lang", "language"):
            out["lang"] = None if val.lower() in OFF | {"auto", "default", "none"} else val[:40]
        elif key == "services":
            names = [] if val.lower() in OFF | {"none"} else [v.strip() for v in val.split(",") if v.strip()]
            if len(names) > 30:
                raise GrammarError(_("services: takes up to 30 services."), SETTINGS_HINT)
            out["services"] = tuple(n[:60] for n in names)
        elif key in ALERT_WORDS:
            out[f"alert_{ALERT_WORDS[key]}"] = _switch(key, val)
        elif key == "filters":
            try:
                out["default_filters"] = Filters() if val.lower() in ("none", "off") else parse_filter_tokens(
                    val.split())
            except FilterError as e:
                raise GrammarError(e.user_message, "") from e
        else:
            raise GrammarError(_("I don't know the setting {key}:.").format(key=key), SETTINGS_HINT)
    return out


def resolve_channel(changes: dict[str, Any], platform: str, chat_id: str | None) -> dict[str, Any]:
    """``channel:here`` names the chat the command came from (alerts there reveal what you watch: your choice)."""
    if changes.get("alert_channel") == "here":
        if chat_id is None:
            raise GrammarError(_("channel:here only works in a Telegram or Discord chat."), SETTINGS_HINT)
        changes["alert_channel"] = f"{platform}:{chat_id}"
    return changes


def settings_text(s: PersonSettings, group_here: bool | None = None) -> str:
    """A person's settings in one line; ``group_here``: their group-pick opt-in in the group they asked from (it is
    per group: None in a private chat)."""
    q = f"{s.quiet_hours[0]:02d}-{s.quiet_hours[1]:02d}" if s.quiet_hours else _("none")
    off = [k if k != "arrival" else "arrivals" for k in ALERT_KINDS if not getattr(s, f"alert_{k}")]
    kinds = " " + _("(not: {kinds})").format(kinds=", ".join(off)) if off and s.alerts else ""

    def on(flag: bool) -> str:
        return _("on") if flag else _("off")

    group = (_("Group picks here: {on}").format(on=on(group_here)) if group_here is not None
             else _("Group picks: opt in inside each group (/settings group:on there)"))
    return " · ".join([
        group,
        _("time zone: {value}").format(value=s.timezone or _("unset")),
        _("quiet hours: {value}").format(value=q),
        _("alerts: {value}").format(value=on(s.alerts)) + kinds,
        _("add to Trakt watchlist: {value}").format(value=on(s.trakt_watchlist)),
        _("write to Trakt: {value}").format(value=on(s.trakt_write)),
        _("weekly digest: {value}").format(value=on(s.digest)),
        _("publish your picks: {value}").format(value=on(s.publish)),
        _("share for co-watching: {value}").format(value=on(s.share_cowatch)),
        _("where to watch, in: {value}").format(value=s.region or _("the default region")),
        _("your services: {value}").format(value=", ".join(s.services) or _("not set")),
        _("titles and overviews in: {value}").format(
            value=language_name(s.lang) if s.lang else _("your app’s language")),
        _("alerts go to: {value}").format(value=_("a chosen chat") if s.alert_channel else _("you, privately")),
        _("default filters: {value}").format(value=filters_text(s.default_filters) or _("none")),
    ])
