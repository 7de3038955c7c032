"""/stats in words: the history in numbers, and how the picks fared (for one person, or everyone's for owners)."""

from __future__ import annotations

from engine.values.stats import Learning, Rate, Stats

from .i18n import N_, _
from .render import genre, plural


def stats(s: Stats) -> str:
    if not s.plays:
        return _("No history yet. Run `sync` or `import FILE`.")
    span = f"{s.first_play:%Y-%m-%d} → {s.last_play:%Y-%m-%d}" if s.first_play and s.last_play else ""
    lines = [
        f"{plural(s.plays, '{n} play', '{n} plays')} · {plural(s.episodes, '{n} episode', '{n} episodes')} · "
        f"{plural(s.shows, '{n} show', '{n} shows')} · "
        f"{plural(round(s.hours_watched), 'about {n} hour', 'about {n} hours')} · {span}",
        f"{plural(s.ratings, '{n} rating', '{n} ratings')} · {_('{n} on the watchlist').format(n=s.watchlist)} · "
        f"{_('{n} hidden or dropped').format(n=s.hidden)}",
    ]
    if s.top_genres:
        lines.append(_("Genres: {list}").format(list=", ".join(f"{genre(g)} {n}" for g, n in s.top_genres)))
    if s.plays_per_year:
        lines.append(_("Per year: {list}").format(list=", ".join(f"{y}: {n}" for y, n in s.plays_per_year)))
    lines.append(_("Most watched:"))
    for t in s.top_shows:
        comp = (_("{share} of {aired} aired").format(share=f"{t.completion:.0%}", aired=t.aired_episodes)
                if t.completion is not None else _("completion unknown"))
        lines.append(f"  {t.title} ({t.year}) — {plural(t.plays, '{n} play', '{n} plays')}, "
                     f"{plural(t.episodes, '{n} episode', '{n} episodes')}, {comp}")
    if s.last_sync:
        lines.append(_("Last sync: {when} UTC").format(when=f"{s.last_sync:%Y-%m-%d %H:%M}"))
    return "\n".join(lines)


def rates(items: list[Rate], title: str | None = None) -> str:
    if not items or not any(r.shown for r in items):
        return _("No recommendations shown yet.")
    lines = [title or _("How my picks fared (started share with its 95% interval):")]
    for r in items:
        lines.append(f"  {r.key}: " + _("{shown} shown · {started} started ({low}–{high}) · {finished} finished · "
                                        "{liked} liked · {dismissed} not for you").format(
            shown=r.shown, started=r.started, low=f"{r.low:.0%}", high=f"{r.high:.0%}", finished=r.finished,
            liked=r.liked, dismissed=r.dismissed))
    return "\n".join(lines)


def picks_summary(lg: Learning) -> str:
    """How the picks fared for one person, in their words: totals, then by persona (no internal names)."""
    rows = lg.rates.get("strategy", [])
    shown = sum(r.shown for r in rows)
    if not shown:
        return _("No recommendations shown yet: try `recommend`.")
    started, finished = sum(r.started for r in rows), sum(r.finished for r in rows)
    liked, nope = sum(r.liked for r in rows), sum(r.dismissed for r in rows)
    lines = [_("My picks for you: {shows} suggested · {started} started · {finished} finished · {liked} liked · "
               "{nope} not for you.").format(shows=plural(shown, "{n} show", "{n} shows"), started=started,
                                             finished=finished, liked=liked, nope=nope)]
    sides = [r for r in lg.rates.get("persona", []) if r.shown]
    if sides:
        lines.append(_("By side of your taste: {list}").format(list=" · ".join(
            _("{side} {started}/{shown} started").format(side=r.key, started=r.started, shown=r.shown)
            + (", " + _("{n} liked").format(n=r.liked) if r.liked else "") for r in sides)))
    # a claim about what works needs evidence: picks started or liked, and one side clearly ahead of another
    arms = sorted((a for a in lg.arms if a.kind == "persona" and a.shown >= 3), key=lambda a: -a.mean)
    if started + liked == 0:
        lines.append(_("No pick started or liked yet, so I have not learned which side works best: "
                       "👍/👎 (or `like N`, `nope N`) and what you start teach me."))
    elif len(arms) >= 2 and arms[0].adopted >= 2 and arms[0].mean > arms[1].mean + 0.1:
        lines.append(_("Picks for your {side} side work best so far ({adopted} of {picks} worked); I give it a "
                       "little more room.").format(side=arms[0].arm, adopted=arms[0].adopted,
                                                   picks=plural(arms[0].shown, "{n} pick", "{n} picks")))
    return "\n".join(lines)


def learning(lg: Learning, *, detail: bool = True) -> str:
    """Success rates by strategy, mode, persona and source, and (for one person) what the bandit believes."""
    if not any(r.shown for r in lg.rates.get("strategy", [])):
        return _("No recommendations shown yet.") if lg.person_id is not None else _("Nobody has been shown picks yet.")
    parts = [rates(lg.rates["strategy"], _("How my picks fared, everyone's (started share, 95% interval):")
                   if lg.person_id is None else _("How my picks fared, yours (started share, 95% interval):"))]
    if detail:
        for by, title in (("mode", N_("By mode:")), ("persona", N_("By persona:")), ("source", N_("By source:"))):
            if lg.rates.get(by):
                parts.append(rates(lg.rates[by], _(title)))
    learned = [a for a in lg.arms if a.shown > 0]
    if learned:
        lines = [_("What I have learned for you (chance a pick gets started; more evidence, more weight):")]
        for a in sorted(learned, key=lambda a: (a.kind, -a.mean)):
            lines.append(f"  {a.kind} {a.arm}: {a.mean:.0%} (" + _("{adopted} of {picks} worked").format(
                adopted=a.adopted, picks=plural(a.shown, "{n} pick", "{n} picks")) + ")")
        parts.append("\n".join(lines))
    return "\n".join(parts)
