"""A year in review (``/stats year [2025]``): what a person watched in a calendar year of their time zone, from
their history alone — hours, shows, seasons finished, binge records, the tastes that grew and faded, the new taste
of the year — and one chart. Honest: the current year is "so far"; hours are estimated from runtimes (said so);
a season counts as finished only where the number of its episodes is known from a real source.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta

from matplotlib.figure import Figure

from engine.plumbing.clock import Clock
from engine.plumbing.compute import offload
from engine.store import Store
from engine.taste.chart import draw_year, drawable, png
from engine.taste.history import PersonHistory
from engine.taste.service import PersonaService, load_history
from engine.taste.temporal import local
from engine.values.errors import MultitudesError
from engine.values.i18n import _
from engine.values.meta import ShowMeta
from engine.values.models import Chart, PersonaReport
from engine.values.plans import TasteShift, YearReview

DEFAULT_RUNTIME = 45.0          # minutes, for a show whose runtime no source gives (the hours say "about")
Seen = tuple[int, datetime, tuple[int, int | str | None]]     # (show, when in their zone, (season, episode))
MOVED = 0.05                    # a persona's share of the year must move this much to have grown or faded


def review(history: PersonHistory, metas: Mapping[int, ShowMeta], report: PersonaReport, year: int,
           now: datetime) -> YearReview:
    tz = history.timezone
    owner = {sid: p.name for p in report.personas for sid in p.member_ids}
    first_play: dict[int, date] = {}
    this: list[Seen] = []
    per_year: Counter[int] = Counter()
    by_persona: dict[int, Counter[str]] = defaultdict(Counter)
    for sid, s in history.shows.items():
        for w in s.watches:
            at = local(w.at, tz)
            per_year[at.year] += 1
            first_play[sid] = min(first_play.get(sid, at.date()), at.date())
            by_persona[at.year][owner.get(sid, "other shows")] += 1
            if at.year == year:
                this.append((sid, at, (w.season, w.episode)))
    years = tuple(sorted(per_year))
    if not this:
        raise MultitudesError(f"no plays in {year}", user_message=(
            _("Nothing in your history for {year}.").format(year=year) + " " + (
                _("Your years: {years}.").format(years=", ".join(map(str, years))) if years
                else _("Sync or import your history first."))))
    episodes = len(this)
    shows = Counter(sid for sid, _, _ in this)
    runtimes = [metas[sid].runtime if sid in metas and metas[sid].runtime else None for sid, _, _ in this]
    hours = sum(r or DEFAULT_RUNTIME for r in runtimes) / 60.0
    days = Counter(at.date() for _, at, _ in this)
    day, most = max(days.items(), key=lambda kv: (kv[1], kv[0]))
    on_day = Counter(sid for sid, at, _ in this if at.date() == day)
    title = _title(on_day.most_common(1)[0][0], metas, history)
    streak = best = 0
    last: date | None = None
    for d in sorted(days):
        streak = streak + 1 if last is not None and d - last == timedelta(days=1) else 1
        best, last = max(best, streak), d
    now_share, before_share = _shares(by_persona[year]), _shares(by_persona[year - 1])
    tastes = tuple(sorted((TasteShift(n, now_share.get(n, 0.0), before_share.get(n, 0.0))
                           for n in {*now_share, *before_share} if n != "other shows"), key=lambda t: -t.share))
    moved = [t for t in tastes if before_share]
    grew = max(moved, key=lambda t: t.share - t.before, default=None)
    faded = min(moved, key=lambda t: t.share - t.before, default=None)
    earlier = Counter[str]()
    for y, c in by_persona.items():
        if y < year:
            earlier.update(c)
    total_before = sum(earlier.values())
    new = [t for t in tastes if t.share >= 0.1 and (earlier[t.name] / total_before if total_before else 0) < 0.03]
    return YearReview(
        year=year, so_far=year == local(now, tz).year, episodes=episodes, shows=len(shows),
        new_shows=sum(1 for sid in shows if first_play[sid].year == year), hours=round(hours, 1),
        hours_estimated=any(r is None for r in runtimes), finished_seasons=_finished(this, metas, history),
        top=tuple((_title(sid, metas, history), n) for sid, n in shows.most_common(5)),
        biggest_day=(day, most, title), streak=best, tastes=tastes,
        grew=grew if grew is not None and grew.share - grew.before >= MOVED else None,
        faded=faded if faded is not None and faded.before - faded.share >= MOVED else None,
        new_taste=new[0] if new and total_before else None, years=years)


def _shares(c: Counter[str]) -> dict[str, float]:
    total = sum(c.values())
    return {k: v / total for k, v in c.items()} if total else {}


def _title(sid: int, metas: Mapping[int, ShowMeta], history: PersonHistory) -> str:
    m = metas.get(sid)
    return m.display_title if m is not None and (m.title or m.name) else f"show {sid}"


def _finished(this: list[Seen], metas: Mapping[int, ShowMeta],
              history: PersonHistory) -> int | None:
    """Seasons whose every episode the person had watched by the end of the year, the last of them this year —
    only where the season's episode count is real (the bundled demo data makes its counts up)."""
    if any(sid in metas and metas[sid].made_up("episodes_per_season") for sid, _, _ in this):
        return None
    touched = {(sid, se[0]) for sid, _, se in this if se[0]}
    done = 0
    for sid, season in touched:
        m = metas.get(sid)
        count = next((si.episodes for si in (m.seasons if m else ()) if si.season == season and si.episodes), None)
        if count is None:
            continue
        seen = {w.episode for w in history.shows[sid].watches if w.season == season and w.episode is not None}
        if len(seen) >= count:
            done += 1
    return done


class ReviewService:
    def __init__(self, store: Store, clock: Clock, personas: PersonaService) -> None:
        self.store = store
        self.clock = clock
        self.personas = personas

    async def year(self, person_id: int, year: int | None = None) -> YearReview:
        report = await self.personas.personas(person_id)
        async with self.store.read() as uow:
            history, metas = await load_history(uow, person_id)
        now = self.clock.now()
        wanted = year if year is not None else local(now, history.timezone).year
        if not 1950 <= wanted <= local(now, history.timezone).year:
            raise MultitudesError(f"year {wanted}", user_message=_(
                "{year} is not a year I can look back on: pick one up to {last}.").format(
                year=wanted, last=local(now, history.timezone).year))
        got = await offload(review, history, metas, report, wanted, now)
        chart = await offload(_chart, history, report, got, now)
        return replace(got, chart=chart)


def _chart(history: PersonHistory, report: PersonaReport, r: YearReview, now: datetime) -> Chart:
    caption = _year_title(r)
    with drawable():                            # the words drawn in the person's language where the font has them
        return Chart("year", caption, png(_draw(history, report, r, now)))


def _year_title(r: YearReview) -> str:
    return (_("Your {year} so far — episodes a month, by taste") if r.so_far
            else _("Your {year} — episodes a month, by taste")).format(year=r.year)


def _draw(history: PersonHistory, report: PersonaReport, r: YearReview, now: datetime) -> Figure:
    tz = history.timezone
    owner = {sid: i for i, p in enumerate(report.personas) for sid in p.member_ids}
    names = [p.name for p in report.personas] + [_("other shows")]
    months = [[0] * len(names) for _ in range(12)]
    for sid, s in history.shows.items():
        for w in s.watches:
            at = local(w.at, tz)
            if at.year == r.year:
                months[at.month - 1][owner.get(sid, len(names) - 1)] += 1
    last = local(now, tz).month if r.so_far else 12
    return draw_year(months, names, _year_title(r), last)
