"""Wording shared by every front end: the same text whatever the platform (plain text; adapters may decorate)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from engine.values.models import (
    DeviceLink,
    FeedbackKind,
    HistoryItem,
    ImportReport,
    Mode,
    Noted,
    PersonaReport,
    Recommendation,
    RecommendationList,
    SyncReport,
    Upcoming,
)

from .i18n import N_, _, day, ngettext


def plural(n: int, one: str, many: str) -> str:
    """``plural(3, "{n} play", "{n} plays")`` → "3 plays", in the catalogue's plural form for the person's
    language (the extractor reads ``plural`` as ``ngettext``'s messages 2 and 3)."""
    return ngettext(one, many, n).format(n=f"{n:,}")


def size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{max(1, round(n / 1e3))} KB"


def episode_code(season: int, episode: int | None, title: str | None) -> str:
    if episode is not None:
        return f"S{season:02d}E{episode:02d}"
    return f"S{season:02d} “{title}”" if title else f"S{season:02d}"


def history(items: list[HistoryItem]) -> str:
    if not items:
        return _("No plays yet. Run `sync` (or `import FILE`).")
    lines = []
    for h in items:
        year = f" ({h.year})" if h.year else ""
        code = episode_code(h.season, h.episode, h.episode_title)
        when = f"{h.watched_at:%Y-%m-%d %H:%M}" if h.timed else f"{h.watched_at:%Y-%m-%d}      "
        lines.append(f"{when}  {h.title}{year} {code}")
    return "\n".join(lines)


def sync_report(r: SyncReport) -> str:
    where = {"jellyfin": "Jellyfin", "emby": "Emby"}.get(r.source, "Trakt")
    requests = plural(r.requests, "{n} request", "{n} requests")
    if r.source == "sample":
        head = _("Demo mode (no Trakt credentials): synced from the bundled sample history.")
    elif r.unchanged:
        return _("Already up to date ({requests} to {server}).").format(requests=requests, server=where)
    elif where != "Trakt":
        head = _("Synced your {server} history with {requests}:").format(server=where, requests=requests)
    else:
        head = _("Synced {sections} with {requests} to Trakt.").format(
            sections=", ".join(_(x) for x in r.sections) or _("nothing"), requests=requests)
    parts = [plural(r.new_plays, "{n} new play", "{n} new plays")]
    if r.removed_plays:
        parts.append(_("{n} removed").format(n=r.removed_plays))
    if r.ratings:
        parts.append(plural(r.ratings, "{n} rating", "{n} ratings"))
    if r.watchlist:
        parts.append(_("{n} on the watchlist").format(n=r.watchlist))
    if r.hidden:
        parts.append(_("{n} hidden or dropped").format(n=r.hidden))
    if r.enriched:
        parts.append(plural(r.enriched, "metadata for {n} show", "metadata for {n} shows"))
    return f"{head} {', '.join(parts)}."


def import_report(r: ImportReport) -> str:
    src = {"trakt": _("Trakt export"), "netflix": _("Netflix viewing activity"),
           "netflix-activity": _("Netflix viewing activity (with times)"),
           "multitudes export": _("your Multitudes export")}.get(r.kind, r.kind)
    extra = (", " + plural(r.ratings, "{n} rating", "{n} ratings") if r.ratings else "") + (
        ", " + plural(r.watchlist, "{n} watchlist item", "{n} watchlist items") if r.watchlist else "")
    again = r.plays_seen - r.plays_added
    kept = " " + _("({n} already stored)").format(n=again) if again else ""
    out = [_("Imported {source}: {plays}{kept} over {shows}{extra}.").format(
        source=src, plays=plural(r.plays_added, "{n} new play", "{n} new plays"), kept=kept,
        shows=plural(r.shows, "{n} show", "{n} shows"), extra=extra)]
    unmatched = (", " + plural(r.rows_unmatched, "{n} episode of titles not matched",
                               "{n} episodes of titles not matched") if r.rows_unmatched else "")
    skipped = (", " + plural(len(r.skipped), "{n} film or special skipped", "{n} films or specials skipped")
               if r.skipped else "")
    if r.rows and r.kind == "netflix-activity":
        out.append(_("{sessions} read: {episodes} of this profile matched (an episode resumed within a month is one "
                     "play)").format(sessions=plural(r.rows, "{n} viewing session", "{n} viewing sessions"),
                                     episodes=plural(r.plays_seen, "{n} episode", "{n} episodes"))
                   + unmatched
                   + (", " + plural(r.extras, "{n} trailer, recap or short session left out",
                                    "{n} trailers, recaps or short sessions left out") if r.extras else "")
                   + skipped + ".")
    elif r.rows:
        out.append(_("{rows} read: {episodes} matched").format(
            rows=plural(r.rows, "{n} row", "{n} rows"), episodes=plural(r.plays_seen, "{n} episode", "{n} episodes"))
                   + unmatched
                   + (", " + plural(r.rows_not_looked_up, "{n} episode not looked up", "{n} episodes not looked up")
                      if r.rows_not_looked_up else "")
                   + skipped
                   + (", " + plural(len(r.bad), "{n} unreadable row skipped", "{n} unreadable rows skipped")
                      if r.bad else "") + ".")
    if r.unmatched:
        shown = ", ".join(r.unmatched[:10]) + (
            " " + _("and {n} more").format(n=len(r.unmatched) - 10) if len(r.unmatched) > 10 else "")
        out.append(_("Not matched to a show (left out, not guessed): {titles}.").format(titles=shown))
    if r.not_looked_up:
        out.append(plural(len(r.not_looked_up), "{n} more title not looked up: one import searches at most the shows "
                          "you watched most. Send the rest in a second file if you want them.",
                          "{n} more titles not looked up: one import searches at most the shows you watched most. "
                          "Send the rest in a second file if you want them."))
    if r.bad:
        out.append(_("Unreadable: {rows}.").format(rows="; ".join(r.bad[:5]) + (
            "; " + _("and {n} more").format(n=len(r.bad) - 5) if len(r.bad) > 5 else "")))
    if r.kind == "multitudes export":
        out.append(_("Your picks with their feedback, your alerts and settings are back too; your personas are "
                     "worked out again from your history.") + (
            " " + _("Left out: {what}.").format(what="; ".join(r.skipped)) if r.skipped else ""))
        return "\n".join(out)
    if r.skipped and not r.rows:
        out.append(plural(len(r.skipped), "Skipped {n} title that is not a TV episode (films, specials).",
                          "Skipped {n} titles that are not TV episodes (films, specials)."))
    return "\n".join(out)


def link_instructions(link: DeviceLink) -> str:
    return _("To link Trakt, open {url} (or {verify} and enter the code {code}). The code expires at {time} "
             "UTC.").format(url=link.direct_url, verify=link.verification_url, code=link.user_code,
                            time=f"{link.expires_at:%H:%M}")


STYLE = {"binge": N_("binge-watched"), "weekly": N_("watched weekly"), "mixed": N_("binged and weekly"),
         "casual": N_("dipped into")}
TREND = {"emerging": N_("growing lately"), "fading": N_("fading lately"), "new": N_("new this year"),
         "dormant": N_("quiet this year"), "steady": N_("steady")}


def _year(y: int | None) -> str:
    return f" ({y})" if y else ""


def personas(r: PersonaReport, crowd: Mapping[int, Sequence[str]] | None = None) -> str:
    """The personas; ``crowd``: per persona, what the Trakt members who share that side rated highly lately."""
    if not r.personas:
        return _("No personas yet: I need some history first. Run `sync` or `import FILE`.")
    lines = [_("Your taste personas ({n}):").format(n=len(r.personas))]
    for i, p in enumerate(r.personas, start=1):
        lines.append(f"{i}. {p.name} — " + _("{share} of your viewing").format(share=f"{p.weight:.0%}") + " · "
                     f"{plural(p.size, '{n} show', '{n} shows')} · {_(STYLE.get(p.style, p.style))} · {when(p.when)} · "
                     f"{_(TREND.get(p.trend, p.trend))}")
        also = ", ".join(s.title for s in p.shows)
        lines.append("   " + _("Most typical: {title}.").format(title=f"{p.medoid.title}{_year(p.medoid.year)}")
                     + (" " + _("Also: {titles}.").format(titles=also) if also else ""))
        if p.description:
            lines.append(f"   {p.description}")
        lately = (crowd or {}).get(p.id)
        if lately:
            lines.append("   " + _("Lately rated highly by people who share this side: {titles}.").format(
                titles=", ".join(lately)))
    return "\n".join(lines)


def personas_json(r: PersonaReport) -> list[dict[str, Any]]:
    out = []
    for p in r.personas:
        d = asdict(p)
        d["medoid"] = p.medoid.title
        d["medoid_year"] = p.medoid.year
        d["shows"] = [p.medoid.title, *[s.title for s in p.shows]]
        d["timeline"] = dict(zip(r.periods, p.timeline, strict=False))
        d.pop("member_ids")
        out.append(d)
    return out


HEADINGS = {Mode.ALL: N_("One pick per persona:"), Mode.BRIDGE: N_("Shows that bridge two of your sides:"),
            Mode.PERSONA: N_("For one of your personas:"), Mode.LIKE: N_("If you liked that:"),
            Mode.MOOD: N_("For your mood:"), Mode.GROUP: N_("Group picks:"),
            Mode.CROWD: N_("What people who share your tastes rate highly:")}
ACROSS = N_("Recommendations across your personas:")


def heading(r: RecommendationList) -> str:
    """The line before a list of picks (with its note, when there is one)."""
    if r.items and all(it.strategy == "cold" for it in r.items):       # no history yet: say so, then the picks
        return _("To start with, popular and airing shows:") + (f"\n{r.note}" if r.note else "")
    head = _(HEADINGS.get(r.mode, ACROSS))
    sides = [it.persona_name for it in r.items]
    if r.mode == Mode.ALL and len(sides) > len(set(sides)):
        head = _("Picks for each of your personas:")
    return f"{head} ({r.note})" if r.note else head


def scores_line(it: Recommendation) -> str:
    """'IMDb 8.7 · Rotten Tomatoes 94% · Metacritic 81'."""
    return " · ".join(f"{name} {value}" for name, value in it.scores)


def library(it: Recommendation) -> str:
    """'in your library' on the person's media server, 'not in your library' (📥 asks for it) — or nothing."""
    if it.in_library is None:
        return ""
    return _("in your library") if it.in_library else (_("not in your library: 📥 requests it") if it.requestable
                                                      else _("not in your library"))


def where(it: Recommendation) -> str:
    """Where a pick is: on the person's media server, else where it streams in their region (said plainly when the
    data knows nothing about that region) and that their server lacks it."""
    if it.in_library:
        return library(it)
    return " · ".join(x for x in (streams(it), library(it)) if x)


def streams(it: Recommendation) -> str:
    if it.where_unknown:
        return _("where to watch in {region}: not known here").format(region=it.where_unknown)
    if it.yours:
        return (_("on your {service}").format(service=it.yours[0]) if len(it.yours) == 1 else
                _("on your {service} and your {other}").format(service=it.yours[0], other=it.yours[1]))
    if not it.providers and it.rent_buy:
        return _("rent or buy: {services}").format(services=", ".join(it.rent_buy[:2]))
    if not it.providers and it.region:
        return _("not streaming in {region}").format(region=it.region) + (f" ({it.network})" if it.network else "")
    return ", ".join(it.providers[:2]) or (it.network or "")


def facts(it: Recommendation) -> str:
    """'crime, drama, thriller · 45 min' (genres a filter asked for come first)."""
    return " · ".join(x for x in (", ".join(genre(g) for g in it.genres[:3]),
                                  _("{n} min").format(n=it.runtime) if it.runtime else "") if x)


def pick(it: Recommendation) -> str:
    side = " — " + _("your {persona} side").format(persona=it.persona_name) if it.persona_name else ""
    lines = [f"{it.rank}. {it.title}{_year(it.year)}{side}", f"   {it.reason}"]
    extra = " · ".join(x for x in (where(it), facts(it), it.trakt_url or it.tmdb_url or it.imdb_url or "") if x)
    if extra:
        lines.append(f"   {extra}")
    if it.scores:
        lines.append("   " + scores_line(it))
    return "\n".join(lines)


def recommendations(r: RecommendationList) -> str:
    if not r.items:
        return r.note or _("Nothing new to recommend right now.")
    lines = [heading(r), *(pick(it) for it in r.items)]
    if r.llm_used:
        lines.append(_("(picked and explained with the help of an LLM, from shows the engine found)"))
    return "\n".join(lines)


def recommendations_json(r: RecommendationList) -> dict[str, Any]:
    """``multitudes recommend --json``: what an operator's script needs of a list."""
    return {
        "request_id": r.request_id, "mode": str(r.mode), "note": r.note or None,
        "picks": [{"title": it.title, "year": it.year,
                   "ids": {"trakt": it.trakt_id, "tmdb": it.tmdb_id, "imdb": it.imdb_id},
                   "persona": it.persona_name, "reason": it.reason, "sources": list(it.sources),
                   "score": it.score, "genres": list(it.genres), "lifecycle": it.lifecycle} for it in r.items],
    }


def upcoming(items: list[Upcoming]) -> str:
    if not items:
        return _("Nothing announced in the next two months for the shows you watch.")
    lines = [_("Coming up for your shows:")]
    for u in items:
        ep = f"S{u.season:02d}E{u.episode:02d}" if u.season is not None and u.episode is not None else ""
        label = {"premiere": _("season premiere"), "finale": _("finale")}.get(u.kind, _("new episode"))
        lines.append(f"{day(u.air_date)} — {u.title} {ep} ({label})")
    return "\n".join(lines)


def noted(kind: FeedbackKind, n: Noted) -> str:
    """What a reaction answers, naming the show: "Glad you like Fargo." / "Already noted." / "Noted: Fargo won't
    come back (instead of your 👍)."."""
    if not n.changed:
        return _("Already noted.")
    title = n.title or _("it")
    text = {FeedbackKind.LIKED: _("Glad you like {title}"),
            FeedbackKind.NOT_FOR_ME: _("Noted: {title} won't come back"),
            FeedbackKind.SEEN: _("Noted: you have seen {title}"),
            FeedbackKind.WATCHLIST: _("{title} is on your watchlist")}[kind].format(title=title)
    return text + (" " + _("(instead of your {emoji})").format(emoji=BY_KIND[n.replaced].emoji)
                   if n.replaced else "") + "."


@dataclass(frozen=True, slots=True)
class FeedbackAction:
    """One kind of feedback as every front end shows it."""
    kind: FeedbackKind
    emoji: str
    label: str            # button label
    ack: str              # what a press answers
    verb: str             # console command: `nope 2`


FEEDBACK = (
    FeedbackAction(FeedbackKind.LIKED, "👍", N_("Liked"), N_("Glad you like it"), "like"),
    FeedbackAction(FeedbackKind.NOT_FOR_ME, "👎", N_("Not for me"), N_("Noted: it won't come back"), "nope"),
    FeedbackAction(FeedbackKind.SEEN, "👀", N_("Seen it"), N_("Noted as seen"), "seen"),
    FeedbackAction(FeedbackKind.WATCHLIST, "📌", N_("Add to watchlist"), N_("On your watchlist"), "pin"),
)
BY_KIND = {f.kind: f for f in FEEDBACK}
BY_EMOJI = {f.emoji: f for f in FEEDBACK}
BY_VERB = {f.verb: f for f in FEEDBACK}


def rate_question(title: str) -> str:
    return _("How would you rate {title}? (1–10; on Trakt too with trakt:write)").format(title=title)


def rated(title: str, rating: int | None, on_trakt: bool, note: str = "") -> str:
    if rating is not None:
        done = (_("Rated {title} {rating}/10 here and on Trakt.") if on_trakt else _("Rated {title} {rating}/10."))
    else:
        done = (_("Removed your rating of {title} here and on Trakt.") if on_trakt
                else _("Removed your rating of {title}."))
    return done.format(title=title, rating=rating) + (f" {note}" if note else "")


def when(text: str) -> str:
    """A persona's time of day and week ("weekday evenings", "Mondays, any time") in the person's language."""
    if text in ("any time", "no pattern yet"):
        return _(text)
    if text.endswith("s, any time"):
        days = text[: -len(", any time")]
        return _("{days}, any time").format(days=_(DAYS.get(days, days)))
    for part, word in PARTS.items():
        if text.endswith(part):
            day = text[: -len(part)].strip()
            return _("{day} {part}").format(day=_(DAY.get(day, day)), part=_(word)) if day else _(word)
    return text

def genre(name: str) -> str:
    """A TMDB genre name in the person's language (the catalogue holds TMDB's English genre names)."""
    return _(GENRES[name]) if name in GENRES else name


# a persona's time of day and week, as engine/taste/temporal.py words it ("weekday evenings", "Mondays, any time")
N_("any time"), N_("no pattern yet")
PARTS = {"late nights": N_("late nights"), "mornings": N_("mornings"), "afternoons": N_("afternoons"),
         "evenings": N_("evenings")}
DAY = {"weekday": N_("weekday"), "weekend": N_("weekend"), "Monday": N_("Monday"), "Tuesday": N_("Tuesday"),
       "Wednesday": N_("Wednesday"), "Thursday": N_("Thursday"), "Friday": N_("Friday"), "Saturday": N_("Saturday"),
       "Sunday": N_("Sunday")}
DAYS = {"weekdays": N_("weekdays"), "weekends": N_("weekends"), "Mondays": N_("Mondays"), "Tuesdays": N_("Tuesdays"),
        "Wednesdays": N_("Wednesdays"), "Thursdays": N_("Thursdays"), "Fridays": N_("Fridays"),
        "Saturdays": N_("Saturdays"), "Sundays": N_("Sundays")}
# the genre slugs picks carry (Trakt's, and TMDB's mapped to them)
GENRES = {g: g for g in (
    N_("action"), N_("adventure"), N_("animation"), N_("anime"), N_("biography"), N_("children"), N_("comedy"),
    N_("crime"), N_("documentary"), N_("donghua"), N_("drama"), N_("family"), N_("fantasy"), N_("game-show"),
    N_("history"), N_("holiday"), N_("home-and-garden"), N_("horror"), N_("mini-series"), N_("music"), N_("musical"),
    N_("mystery"), N_("news"), N_("reality"), N_("romance"), N_("science-fiction"), N_("short"), N_("soap"),
    N_("special-interest"), N_("sporting-event"), N_("superhero"), N_("suspense"), N_("talk-show"), N_("thriller"),
    N_("war"), N_("western"))}
