"""Around the watching: what is next in each show a person is in the middle of (``/next``), and a plan for the
time they have tonight (``/tonight 90m``).

Everything comes from what the store already holds — the person's plays, the cached show metadata (TMDB's last
aired and next announced episode, seasons with their episode counts, runtime, where it streams) — so neither
command waits on an outside service. Where a source's episode numbers are constructed (the bundled demo viewer),
a show is resumed by season and no episode number is shown as a fact.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from engine.formats.ics import Airing, calendar
from engine.plumbing.clock import Clock
from engine.plumbing.compute import offload
from engine.ports.trakt import CalendarEntry, TraktPort
from engine.recommend.mood import read_mood
from engine.recommend.service import Recommender
from engine.store import Store
from engine.store.records import PlayRow, ShowRecord
from engine.store.repos.history import CONSTRUCTED
from engine.taste.history import ShowHistory, Watch
from engine.taste.temporal import BINGE, WEEKLY, local, show_style
from engine.usecases.feedback import FeedbackService
from engine.values.errors import MultitudesError, NotLinked, ServiceUnavailable, TraktReauthRequired
from engine.values.filters import passes
from engine.values.i18n import N_, _, day, ngettext
from engine.values.meta import ShowMeta
from engine.values.models import Filters, Mode, RecommendRequest
from engine.values.plans import MAX_TONIGHT, MIN_TONIGHT, CalendarFile, NextUp, PlanItem, Tonight

IN_PROGRESS_DAYS = 180      # a show counts as in progress when played this close to the person's latest play
BINGE_CAP = 4               # episodes of one show in one evening, at most
SHORTEST_PICK = 20          # below this many minutes left, no new show is suggested
DAYPARTS = ((5, "morning"), (12, "afternoon"), (17, "evening"), (23, "night"))


USUALLY = {"morning": N_("you usually watch it in the morning"),
           "afternoon": N_("you usually watch it in the afternoon"),
           "evening": N_("you usually watch it in the evening"), "night": N_("you usually watch it in the night")}


def daypart(hour: int) -> str:
    name = "night"
    for start, part in DAYPARTS:
        if hour >= start:
            name = part
    return name


def next_episode(plays: Sequence[PlayRow], meta: ShowMeta, aired_episodes: int | None, now: datetime
                 ) -> tuple[int, int, bool, int | None, datetime | None] | None:
    """(season, episode, opens a season, aired episodes left in that season, air time) after where the person
    stopped, or None when they are through everything that exists. Where they are: the furthest episode of their
    latest viewing day (a rewatch of season 1 is where they are; an episode watched out of order that day is not)."""
    numbered = [p for p in plays if p.season > 0 and p.episode is not None]
    if not numbered:
        return None
    last_day = max(p.watched_at for p in numbered) - timedelta(hours=20)
    s, e = max((p.season, p.episode or 0) for p in numbered if p.watched_at >= last_day)
    counts = {si.season: si.episodes for si in meta.seasons if si.season and si.episodes}
    last = meta.last_episode
    aired_last = (last.season, last.episode) if last and last.season and last.episode else None
    nxt, opens = (s, e + 1), False
    if counts.get(s) is not None and e >= counts[s]:
        nxt, opens = (s + 1, 1), True
        if s + 1 not in counts and (meta.ended or (meta.number_of_seasons or 0) <= s):
            return None                                 # the last season, finished
    elif not counts and aired_episodes and len({(p.season, p.episode) for p in numbered}) >= aired_episodes:
        return None                                     # no seasons known: every aired episode watched
    when: datetime | None = None
    ann = meta.next_episode
    if ann is not None and (ann.season, ann.episode) == nxt:
        when = ann.at                                   # announced, maybe not out yet
    elif aired_last is not None and nxt > aired_last:
        return None                                     # caught up, and that episode is not announced
    aired = aired_last[1] if aired_last and aired_last[0] == nxt[0] else counts.get(nxt[0])
    left = max(0, aired - nxt[1] + 1) if aired is not None and (when is None or when <= now) else None
    return nxt[0], nxt[1], opens, left, when


class Watching:
    def __init__(self, store: Store, clock: Clock, recommender: Recommender, feedback: FeedbackService,
                 trakt: TraktPort | None = None) -> None:
        self.store = store
        self.clock = clock
        self.recommender = recommender
        self.feedback = feedback
        self.trakt = trakt

    async def calendar(self, person_id: int, days: int = 60) -> CalendarFile:
        """The next ``days`` of episodes of the shows the person follows (watched or listed, not hidden): every
        episode with its exact time from Trakt's calendar of their shows where they linked Trakt, and TMDB's next
        announced episode (a date) for the shows Trakt did not list."""
        if not 1 <= days <= 366:
            raise MultitudesError(f"calendar {days}", user_message=_("A calendar covers 1 to 366 days."))
        now = self.clock.now()
        async with self.store.read() as uow:
            person = await uow.people.get(person_id)
            linked = await uow.tokens.exists(person_id)
            followed = await uow.history.followed_shows(person_id)
            hidden = await uow.history.hidden(person_id)
            shows = await uow.shows.many(followed)
        region = person.settings.region if person is not None else None
        items: list[Airing] = []
        note = None
        if linked and self.trakt is not None:
            try:
                entries = await self._trakt_calendar(person_id, now, days)
            except (ServiceUnavailable, TraktReauthRequired, NotLinked) as failed:
                entries = []
                note = (_("Trakt did not answer, so this holds only the next episode TMDB announces for each show "
                          "(dates, no times).") if isinstance(failed, ServiceUnavailable) else
                        _("Trakt no longer accepts your link (/link again), so this holds TMDB's dates only."))
            async with self.store.read() as uow:
                known = await uow.shows.by_trakt_ids(e.show.ids.trakt for e in entries if e.show.ids.trakt)
            for e in entries:
                rec = known.get(e.show.ids.trakt or 0)
                if rec is not None and rec.id in hidden:
                    continue
                meta = rec.meta if rec is not None else None
                items.append(Airing(e.show.ids, rec.id if rec else 0, meta.display_title if meta and meta.title
                                    else e.show.title, e.season, e.episode, e.first_aired, True, e.title,
                                    e.runtime or (round(meta.runtime) if meta and meta.runtime else None),
                                    meta.providers_in(region) if meta else ()))
        from_trakt = {a.show_id for a in items}          # Trakt listed these shows' episodes: its times stand
        end = (now + timedelta(days=days)).date()
        for sid, rec in shows.items():
            nxt = rec.meta.next_episode
            when = nxt.at if nxt is not None else None
            if (nxt is None or when is None or nxt.season is None or not now.date() <= when.date() < end
                    or sid in from_trakt):
                continue
            items.append(Airing(rec.trusted_ids, sid, rec.meta.display_title if rec.meta.title else rec.title,
                                nxt.season, nxt.episode, when, False, nxt.name,
                                round(rec.meta.runtime) if rec.meta.runtime else None,
                                rec.meta.providers_in(region)))
        tz = person.settings.timezone if person is not None else None
        data = calendar(items, tz, now)
        return CalendarFile("multitudes-upcoming.ics", data, len(items), sum(a.exact for a in items), days, note)

    async def _trakt_calendar(self, person_id: int, now: datetime, days: int) -> list[CalendarEntry]:
        assert self.trakt is not None
        out: list[CalendarEntry] = []
        start, left = now.date(), days
        while left > 0:                             # Trakt answers at most 33 days a request
            n = min(33, left)
            out += [e for e in await self.trakt.my_calendar(person_id, start, n) if e.first_aired >= now]
            start, left = start + timedelta(days=n), left - n
        return out

    async def up_next(self, person_id: int) -> list[NextUp]:
        """The next episode of every show in progress — the binge they are in the middle of first, then weekly shows
        with an episode out since they last watched (newest first), then the rest by when they last watched; shows
        whose next episode is announced but not out come last (``aired_at`` in the future)."""
        async with self.store.read() as uow:
            person = await uow.people.get(person_id)
            plays = await uow.history.plays(person_id)
            hidden = await uow.history.hidden(person_id)
            by_show: dict[int, list[PlayRow]] = defaultdict(list)
            for p in plays:
                if p.season > 0 and p.show_id not in hidden:
                    by_show[p.show_id].append(p)
            if not by_show:
                return []
            newest = max(p.watched_at for ps in by_show.values() for p in ps)
            recent = {sid: ps for sid, ps in by_show.items()
                      if max(p.watched_at for p in ps) >= newest - timedelta(days=IN_PROGRESS_DAYS)}
            shows = await uow.shows.many(recent)
        tz = person.settings.timezone if person is not None else None
        region = person.settings.region if person is not None else None
        now = self.clock.now()
        return await offload(_up_next, recent, shows, tz, region, now)     # a heavy history: in a worker

    async def tonight(self, person_id: int, minutes: int, *, filters: Filters | None = None, mood: str | None = None,
                      platform: str | None = None) -> Tonight:
        """A plan for ``minutes``: next episodes of shows in progress (several of a binge, one of a weekly show),
        the ones usually watched at this hour first, then — where time is left — one new pick whose episodes fit.
        The plan never runs over the time asked for."""
        if not MIN_TONIGHT <= minutes <= MAX_TONIGHT:
            raise MultitudesError(f"tonight {minutes}", user_message=_(
                "Give me between {low} minutes and {high} hours, e.g. `tonight 90m` or `tonight 2h`.").format(
                low=MIN_TONIGHT, high=MAX_TONIGHT // 60))
        filters = filters or Filters()
        async with self.store.read() as uow:
            person = await uow.people.get(person_id)
        tz = person.settings.timezone if person is not None else None
        now = self.clock.now()
        part = daypart(local(now, tz).hour)
        ready = [n for n in await self.up_next(person_id) if n.aired_at is None or n.aired_at <= now]
        habits = await self._hour_share(person_id, [n.show_id for n in ready], tz, part)
        metas = await self._metas([n.show_id for n in ready])
        ready = [n for n in ready if n.show_id not in metas or passes(metas[n.show_id], filters)]
        read = read_mood(mood) if mood else None
        if read is not None and (read.genres or read.short):     # in a mood: the shows in progress that fit it
            ready = [n for n in ready if n.show_id in metas and read.fits(metas[n.show_id])]
        order = sorted(ready, key=lambda n: (rank_of(n, now)[0] > 0, -habits.get(n.show_id, 0.0)))
        left, items, too_long = minutes, [], []
        for n in order:
            if n.runtime is None:
                continue
            if n.runtime > left:
                too_long.append(n)
                continue
            if n.style == BINGE:
                most = min(BINGE_CAP, left // n.runtime, n.left if n.left else BINGE_CAP)
                count = max(1, most)
            else:
                count = 1
            items.append(PlanItem(n, count, count * n.runtime, self._why(n, count, habits.get(n.show_id, 0.0), part)))
            left -= count * n.runtime
            if len(items) == 3 or left < SHORTEST_PICK:
                break
        pick, pick_minutes = None, 0
        if left >= SHORTEST_PICK:
            pick, pick_minutes = await self._new_pick(person_id, left, filters, mood, platform, bool(items))
        note = None
        if not items and pick is None:
            shortest = min((n.runtime for n in too_long if n.runtime), default=None)
            note = (_("Nothing fits in {n} minutes: the shortest episode of your shows in progress runs {shortest} "
                      "minutes, and no new show I would suggest is that short.") if shortest else
                    _("Nothing fits in {n} minutes that I can stand behind right now.")).format(
                n=minutes, shortest=shortest)
        return Tonight(minutes, tuple(items), pick, pick_minutes, note)

    @staticmethod
    def _why(n: NextUp, count: int, habit: float, part: str) -> str:
        bits = []
        if n.style == BINGE:
            bits.append(ngettext("you binge this one, {n} aired episode left in the season",
                                 "you binge this one, {n} aired episodes left in the season", n.left).format(n=n.left)
                        if n.left else _("you binge this one"))
        elif n.style == WEEKLY:
            bits.append(_("an episode a week is how you watch it") + (
                "; " + _("out since {day}").format(day=day(n.aired_at))
                if n.aired_at is not None and n.aired_at > n.last_watched else ""))
        else:
            bits.append(_("you last watched it on {day}").format(day=day(n.last_watched, "MMM dd")))
        if habit >= 0.5:
            bits.append(_(USUALLY.get(part, part)))
        if n.new_season and n.episode is not None:
            bits.append(_("a new season starts"))
        return "; ".join(bits)

    async def _hour_share(self, person_id: int, show_ids: list[int], tz: str | None, part: str) -> dict[int, float]:
        """Per show, the share of its timed plays that fell in this part of the day."""
        async with self.store.read() as uow:
            rows = await uow.history.watches(person_id)
        wanted = set(show_ids)
        total: Counter[int] = Counter()
        here: Counter[int] = Counter()
        for w in rows:
            if w.show_id in wanted and w.timed:
                total[w.show_id] += 1
                here[w.show_id] += daypart(local(w.at, tz).hour) == part
        return {sid: here[sid] / n for sid, n in total.items() if n}

    async def _metas(self, show_ids: list[int]) -> dict[int, ShowMeta]:
        async with self.store.read() as uow:
            return {sid: r.meta for sid, r in (await uow.shows.many(show_ids)).items() if r.has_meta}

    async def _new_pick(self, person_id: int, left: int, filters: Filters, mood: str | None, platform: str | None,
                        after_plan: bool) -> tuple[Any, int]:
        """One new show whose episode runtime is known and fits ``left`` (the recommender's own ranking, time of
        day included); the other candidates asked for are withdrawn, never counted as shown."""
        cap = left if filters.max_runtime is None else min(left, filters.max_runtime)
        req = RecommendRequest(person_id, mode=Mode.MOOD if mood else Mode.AUTO, mood=mood, k=3, platform=platform,
                               filters=replace(filters, max_runtime=cap))
        got = await self.recommender.recommend(req)
        chosen = next((r for r in got.items if r.runtime and r.runtime <= left), None)
        spare = [r.event_id for r in got.items if r is not chosen and r.event_id]
        if spare:
            await self.feedback.withdraw(spare)
        if chosen is None:
            return None, 0
        return replace(got, items=(chosen,)), chosen.runtime or 0


def _up_next(recent: dict[int, list[PlayRow]], shows: dict[int, ShowRecord], tz: str | None, region: str | None,
             now: datetime) -> list[NextUp]:
    out = [n for sid, ps in recent.items() if sid in shows for n in [next_up(shows[sid], ps, tz, region, now)]
           if n is not None]
    return sorted(out, key=lambda n: rank_of(n, now))


def next_up(rec: ShowRecord, plays: list[PlayRow], tz: str | None, region: str | None, now: datetime
          ) -> NextUp | None:
    meta = rec.meta
    found = next_episode(plays, meta, rec.aired_episodes, now)
    if found is None:
        return None
    season, episode, opens, left, when = found
    constructed = any(p.source in CONSTRUCTED for p in plays)
    made_up = constructed or meta.made_up("episodes_per_season")
    hist = ShowHistory(rec.id, [Watch(p.season, p.episode, p.watched_at) for p in plays])
    style, _ = show_style(hist, tz)
    last = max(plays, key=lambda p: (p.watched_at, p.season, p.episode or 0))
    ann = meta.next_episode
    title = ann.name if ann is not None and (ann.season, ann.episode) == (season, episode) else None
    return NextUp(
        rec.id, meta.display_title if meta.title or meta.name else rec.title, rec.year or meta.first_year,
        season, None if constructed else episode, (last.season, None if constructed else last.episode),
        last.watched_at, style, episode_title=title, runtime=round(meta.runtime) if meta.runtime else None,
        aired_at=when, left=None if made_up else left, new_season=opens,
        where=meta.providers_in(region), where_unknown=region if meta.region_unknown(region) else None)


def rank_of(n: NextUp, now: datetime) -> tuple[int, float]:
    waiting = n.aired_at is not None and n.aired_at > now
    since = (now - n.last_watched).total_seconds()
    if waiting:
        return 3, (n.aired_at - now).total_seconds() if n.aired_at else 0.0
    if n.style == BINGE and not n.new_season and since <= 14 * 86400:
        return 0, since                             # in the middle of a binge
    if n.style == WEEKLY and n.aired_at is not None and n.aired_at > n.last_watched:
        return 1, (now - n.aired_at).total_seconds()    # out since they last watched: its air day
    return 2, since
