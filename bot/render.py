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
from engine.values.stats import Learning, Rate, Stats


def plural(n: int, one: str, many: str | None = None) -> str:
    """``plural(1, "play")`` → "1 play", ``plural(3, "play")`` → "3 plays" (``many`` for irregular forms)."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{max(1, round(n / 1e3))} KB"


def episode_code(season: int, episode: int | None, title: str | None) -> str:
    if episode is not None:
        return f"S{season:02d}E{episode:02d}"
    return f"S{season:02d} “{title}”" if title else f"S{season:02d}"


def history(items: list[HistoryItem]) -> str:
    if not items:
        return "No plays yet. Run `sync` (or `import FILE`)."
    lines = []
    for h in items:
        year = f" ({h.year})" if h.year else ""
        code = episode_code(h.season, h.episode, h.episode_title)
        when = f"{h.watched_at:%Y-%m-%d %H:%M}" if h.timed else f"{h.watched_at:%Y-%m-%d}      "
        lines.append(f"{when}  {h.title}{year} {code}")
    return "\n".join(lines)


def sync_report(r: SyncReport) -> str:
    where = {"jellyfin": "Jellyfin", "emby": "Emby"}.get(r.source, "Trakt")
    if r.source == "sample":
        head = "Demo mode (no Trakt credentials): synced from the bundled sample history."
    elif r.unchanged:
        return f"Already up to date ({r.requests} request{'s' if r.requests != 1 else ''} to {where})."
    elif where != "Trakt":
        head = f"Synced your {where} history with {plural(r.requests, 'request')}:"
    else:
        head = f"Synced {', '.join(r.sections) or 'nothing'} with {plural(r.requests, 'request')} to Trakt."
    parts = [plural(r.new_plays, "new play")]
    if r.removed_plays:
        parts.append(f"{r.removed_plays} removed")
    if r.ratings:
        parts.append(plural(r.ratings, "rating"))
    if r.watchlist:
        parts.append(f"{r.watchlist} on the watchlist")
    if r.hidden:
        parts.append(f"{r.hidden} hidden or dropped")
    if r.enriched:
        parts.append(f"metadata for {plural(r.enriched, 'show')}")
    return f"{head} {', '.join(parts)}."


def import_report(r: ImportReport) -> str:
    src = {"trakt": "Trakt export", "netflix": "Netflix viewing activity",
           "netflix-activity": "Netflix viewing activity (with times)",
           "multitudes export": "your Multitudes export"}.get(r.kind, r.kind)
    extra = (f", {plural(r.ratings, 'rating')}" if r.ratings else "") + (
        f", {plural(r.watchlist, 'watchlist item')}" if r.watchlist else "")
    again = r.plays_seen - r.plays_added
    kept = f" ({again} already stored)" if again else ""
    out = [f"Imported {src}: {plural(r.plays_added, 'new play')}{kept} over {plural(r.shows, 'show')}{extra}."]
    if r.rows and r.kind == "netflix-activity":
        out.append(f"{plural(r.rows, 'viewing session')} read: {plural(r.plays_seen, 'episode')} of this profile "
                   "matched (an episode resumed within a month is one play)"
                   + (f", {plural(r.rows_unmatched, 'episode')} of titles not matched" if r.rows_unmatched else "")
                   + (f", {plural(r.extras, 'trailer, recap or short session', 'trailers, recaps or short sessions')}"
                      " left out" if r.extras else "")
                   + (f", {plural(len(r.skipped), 'film or special', 'films or specials')} skipped"
                      if r.skipped else "") + ".")
    elif r.rows:
        out.append(f"{plural(r.rows, 'row')} read: {plural(r.plays_seen, 'episode')} matched"
                   + (f", {plural(r.rows_unmatched, 'episode')} of titles not matched" if r.rows_unmatched else "")
                   + (f", {plural(r.rows_not_looked_up, 'episode')} not looked up" if r.rows_not_looked_up else "")
                   + (f", {plural(len(r.skipped), 'film or special', 'films or specials')} skipped"
                      if r.skipped else "")
                   + (f", {plural(len(r.bad), 'unreadable row')} skipped" if r.bad else "") + ".")
    if r.unmatched:
        shown = ", ".join(r.unmatched[:10]) + (f" and {len(r.unmatched) - 10} more" if len(r.unmatched) > 10 else "")
        out.append(f"Not matched to a show (left out, not guessed): {shown}.")
    if r.not_looked_up:
        out.append(f"{plural(len(r.not_looked_up), 'more title')} not looked up: one import searches at most the "
                   "shows you watched most. Send the rest in a second file if you want them.")
    if r.bad:
        out.append("Unreadable: " + "; ".join(r.bad[:5]) + (f"; and {len(r.bad) - 5} more" if len(r.bad) > 5 else "")
                   + ".")
    if r.kind == "multitudes export":
        out.append("Your picks with their feedback, your alerts and settings are back too; your personas are "
                   "worked out again from your history." + (f" Left out: {'; '.join(r.skipped)}." if r.skipped
                                                             else ""))
        return "\n".join(out)
    if r.skipped and not r.rows:
        out.append(f"Skipped {plural(len(r.skipped), 'title')} that are not TV episodes (films, specials).")
    return "\n".join(out)


def stats(s: Stats) -> str:
    if not s.plays:
        return "No history yet. Run `sync` or `import FILE`."
    span = f"{s.first_play:%Y-%m-%d} → {s.last_play:%Y-%m-%d}" if s.first_play and s.last_play else ""
    lines = [
        f"{plural(s.plays, 'play')} · {plural(s.episodes, 'episode')} · {plural(s.shows, 'show')} · "
        f"about {plural(round(s.hours_watched), 'hour')} · {span}",
        f"{plural(s.ratings, 'rating')} · {s.watchlist} on the watchlist · {s.hidden} hidden or dropped",
    ]
    if s.top_genres:
        lines.append("Genres: " + ", ".join(f"{g} {n}" for g, n in s.top_genres))
    if s.plays_per_year:
        lines.append("Per year: " + ", ".join(f"{y}: {n}" for y, n in s.plays_per_year))
    lines.append("Most watched:")
    for t in s.top_shows:
        comp = f"{t.completion:.0%} of {t.aired_episodes} aired" if t.completion is not None else "completion unknown"
        lines.append(f"  {t.title} ({t.year}) — {plural(t.plays, 'play')}, {plural(t.episodes, 'episode')}, {comp}")
    if s.last_sync:
        lines.append(f"Last sync: {s.last_sync:%Y-%m-%d %H:%M} UTC")
    return "\n".join(lines)


def link_instructions(link: DeviceLink) -> str:
    return (f"To link Trakt, open {link.direct_url} (or {link.verification_url} and enter the code "
            f"{link.user_code}). The code expires at {link.expires_at:%H:%M} UTC.")


STYLE = {"binge": "binge-watched", "weekly": "watched weekly", "mixed": "binged and weekly", "casual": "dipped into"}
TREND = {"emerging": "growing lately", "fading": "fading lately", "new": "new this year", "dormant": "quiet this year",
         "steady": "steady"}


def _year(y: int | None) -> str:
    return f" ({y})" if y else ""


def personas(r: PersonaReport, crowd: Mapping[int, Sequence[str]] | None = None) -> str:
    """The personas; ``crowd``: per persona, what the Trakt members who share that side rated highly lately."""
    if not r.personas:
        return "No personas yet: I need some history first. Run `sync` or `import FILE`."
    lines = [f"Your taste personas ({len(r.personas)}):"]
    for i, p in enumerate(r.personas, start=1):
        lines.append(f"{i}. {p.name} — {p.weight:.0%} of your viewing · {plural(p.size, 'show')} · "
                     f"{STYLE.get(p.style, p.style)} · {p.when} · {TREND.get(p.trend, p.trend)}")
        also = ", ".join(s.title for s in p.shows)
        lines.append(f"   Most typical: {p.medoid.title}{_year(p.medoid.year)}." + (f" Also: {also}." if also else ""))
        if p.description:
            lines.append(f"   {p.description}")
        lately = (crowd or {}).get(p.id)
        if lately:
            lines.append(f"   Lately rated highly by people who share this side: {', '.join(lately)}.")
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


HEADINGS = {Mode.ALL: "One pick per persona:", Mode.BRIDGE: "Shows that bridge two of your sides:",
            Mode.PERSONA: "For one of your personas:", Mode.LIKE: "If you liked that:", Mode.MOOD: "For your mood:",
            Mode.GROUP: "Group picks:", Mode.CROWD: "What people who share your tastes rate highly:"}


def heading(r: RecommendationList) -> str:
    """The line before a list of picks (with its note, when there is one)."""
    if r.items and all(it.strategy == "cold" for it in r.items):       # no history yet: say so, then the picks
        return "To start with, popular and airing shows:" + (f"\n{r.note}" if r.note else "")
    head = HEADINGS.get(r.mode, "Recommendations across your personas:")
    sides = [it.persona_name for it in r.items]
    if r.mode == Mode.ALL and len(sides) > len(set(sides)):
        head = "Picks for each of your personas:"
    return f"{head} ({r.note})" if r.note else head


def scores_line(it: Recommendation) -> str:
    """'IMDb 8.7 · Rotten Tomatoes 94% · Metacritic 81'."""
    return " · ".join(f"{name} {value}" for name, value in it.scores)


def library(it: Recommendation) -> str:
    """'in your library' on the person's media server, 'not in your library' (📥 asks for it) — or nothing."""
    if it.in_library is None:
        return ""
    return "in your library" if it.in_library else ("not in your library: 📥 requests it" if it.requestable
                                                   else "not in your library")


def where(it: Recommendation) -> str:
    """Where a pick is: on the person's media server, else where it streams in their region (said plainly when the
    data knows nothing about that region) and that their server lacks it."""
    if it.in_library:
        return library(it)
    return " · ".join(x for x in (streams(it), library(it)) if x)


def streams(it: Recommendation) -> str:
    if it.where_unknown:
        return f"where to watch in {it.where_unknown}: not known here"
    if it.yours:
        return "on your " + " and your ".join(it.yours[:2])
    if not it.providers and it.rent_buy:
        return "rent or buy: " + ", ".join(it.rent_buy[:2])
    if not it.providers and it.region:
        return f"not streaming in {it.region}" + (f" ({it.network})" if it.network else "")
    return ", ".join(it.providers[:2]) or (it.network or "")


def facts(it: Recommendation) -> str:
    """'crime, drama, thriller · 45 min' (genres a filter asked for come first)."""
    return " · ".join(x for x in (", ".join(it.genres[:3]), f"{it.runtime} min" if it.runtime else "") if x)


def pick(it: Recommendation) -> str:
    side = f" — your {it.persona_name} side" if it.persona_name else ""
    lines = [f"{it.rank}. {it.title}{_year(it.year)}{side}", f"   {it.reason}"]
    extra = " · ".join(x for x in (where(it), facts(it), it.trakt_url or it.tmdb_url or it.imdb_url or "") if x)
    if extra:
        lines.append(f"   {extra}")
    if it.scores:
        lines.append("   " + scores_line(it))
    return "\n".join(lines)


def recommendations(r: RecommendationList) -> str:
    if not r.items:
        return r.note or "Nothing new to recommend right now."
    lines = [heading(r), *(pick(it) for it in r.items)]
    if r.llm_used:
        lines.append("(picked and explained with the help of an LLM, from shows the engine found)")
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
        return "Nothing announced in the next two months for the shows you watch."
    lines = ["Coming up for your shows:"]
    for u in items:
        ep = f"S{u.season:02d}E{u.episode:02d}" if u.season is not None and u.episode is not None else ""
        label = {"premiere": "season premiere", "finale": "finale"}.get(u.kind, "new episode")
        lines.append(f"{u.air_date:%a %b %d} — {u.title} {ep} ({label})")
    return "\n".join(lines)


def rates(items: list[Rate], title: str = "How my picks fared (started share with its 95% interval):") -> str:
    if not items or not any(r.shown for r in items):
        return "No recommendations shown yet."
    lines = [title]
    for r in items:
        lines.append(f"  {r.key}: {r.shown} shown · {r.started} started ({r.low:.0%}–{r.high:.0%}) · "
                     f"{r.finished} finished · {r.liked} liked · {r.dismissed} not for you")
    return "\n".join(lines)


def picks_summary(lg: Learning) -> str:
    """How the picks fared for one person, in their words: totals, then by persona (no internal names)."""
    rows = lg.rates.get("strategy", [])
    shown = sum(r.shown for r in rows)
    if not shown:
        return "No recommendations shown yet: try `recommend`."
    started, finished = sum(r.started for r in rows), sum(r.finished for r in rows)
    liked, nope = sum(r.liked for r in rows), sum(r.dismissed for r in rows)
    lines = [f"My picks for you: {plural(shown, 'show')} suggested · {started} started · {finished} finished · "
             f"{liked} liked · {nope} not for you."]
    sides = [r for r in lg.rates.get("persona", []) if r.shown]
    if sides:
        lines.append("By side of your taste: " + " · ".join(
            f"{r.key} {r.started}/{r.shown} started" + (f", {r.liked} liked" if r.liked else "") for r in sides))
    # a claim about what works needs evidence: picks started or liked, and one side clearly ahead of another
    arms = sorted((a for a in lg.arms if a.kind == "persona" and a.shown >= 3), key=lambda a: -a.mean)
    if started + liked == 0:
        lines.append("No pick started or liked yet, so I have not learned which side works best: "
                     "👍/👎 (or `like N`, `nope N`) and what you start teach me.")
    elif len(arms) >= 2 and arms[0].adopted >= 2 and arms[0].mean > arms[1].mean + 0.1:
        lines.append(f"Picks for your {arms[0].arm} side work best so far ({arms[0].adopted} of "
                     f"{plural(arms[0].shown, 'pick')} worked); I give it a little more room.")
    return "\n".join(lines)


def noted(kind: FeedbackKind, n: Noted) -> str:
    """What a reaction answers, naming the show: "Glad you like Fargo." / "Already noted." / "Noted: Fargo won't
    come back (instead of your 👍)."."""
    if not n.changed:
        return "Already noted."
    title = n.title or "it"
    text = {FeedbackKind.LIKED: f"Glad you like {title}", FeedbackKind.NOT_FOR_ME: f"Noted: {title} won't come back",
            FeedbackKind.SEEN: f"Noted: you have seen {title}",
            FeedbackKind.WATCHLIST: f"{title} is on your watchlist"}[kind]
    return text + (f" (instead of your {BY_KIND[n.replaced].emoji})" if n.replaced else "") + "."


def learning(lg: Learning, *, detail: bool = True) -> str:
    """Success rates by strategy, mode, persona and source, and (for one person) what the bandit believes."""
    whose = "everyone's" if lg.person_id is None else "your"
    if not any(r.shown for r in lg.rates.get("strategy", [])):
        return "No recommendations shown yet." if lg.person_id is not None else "Nobody has been shown picks yet."
    parts = [rates(lg.rates["strategy"], f"How my picks fared, {whose} (started share, 95% interval):")]
    if detail:
        for by in ("mode", "persona", "source"):
            if lg.rates.get(by):
                parts.append(rates(lg.rates[by], f"By {by}:"))
    learned = [a for a in lg.arms if a.shown > 0]
    if learned:
        lines = ["What I have learned for you (chance a pick gets started; more evidence, more weight):"]
        for a in sorted(learned, key=lambda a: (a.kind, -a.mean)):
            lines.append(f"  {a.kind} {a.arm}: {a.mean:.0%} ({a.adopted} of {plural(a.shown, 'pick')} worked)")
        parts.append("\n".join(lines))
    return "\n".join(parts)


@dataclass(frozen=True, slots=True)
class FeedbackAction:
    """One kind of feedback as every front end shows it."""
    kind: FeedbackKind
    emoji: str
    label: str            # button label
    ack: str              # what a press answers
    verb: str             # console command: `nope 2`


FEEDBACK = (
    FeedbackAction(FeedbackKind.LIKED, "👍", "Liked", "Glad you like it", "like"),
    FeedbackAction(FeedbackKind.NOT_FOR_ME, "👎", "Not for me", "Noted: it won't come back", "nope"),
    FeedbackAction(FeedbackKind.SEEN, "👀", "Seen it", "Noted as seen", "seen"),
    FeedbackAction(FeedbackKind.WATCHLIST, "📌", "Add to watchlist", "On your watchlist", "pin"),
)
BY_KIND = {f.kind: f for f in FEEDBACK}
BY_EMOJI = {f.emoji: f for f in FEEDBACK}
BY_VERB = {f.verb: f for f in FEEDBACK}


def rate_question(title: str) -> str:
    return f"How would you rate {title}? (1–10; on Trakt too with trakt:write)"


def rated(title: str, rating: int | None, on_trakt: bool, note: str = "") -> str:
    done = f"Rated {title} {rating}/10" if rating is not None else f"Removed your rating of {title}"
    return done + (" here and on Trakt." if on_trakt else ".") + (f" {note}" if note else "")
