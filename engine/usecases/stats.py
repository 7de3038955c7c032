"""What a person watches, in numbers, and what the feedback loop learned (for them, or everyone's for owners)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime

from engine.recommend.service import Recommender
from engine.store import Store
from engine.taste.service import PersonaService
from engine.usecases.feedback import FeedbackService
from engine.values.stats import Learning, ShowStat, Stats


class StatsService:
    def __init__(self, store: Store, feedback: FeedbackService, personas: PersonaService,
                 recommender: Recommender) -> None:
        self.store = store
        self.feedback = feedback
        self.personas = personas
        self.recommender = recommender

    async def stats(self, person_id: int) -> Stats:
        async with self.store.read() as uow:
            rows = await uow.history.show_stats(person_id)
            per_year = await uow.history.plays_per_year(person_id)
            ratings, watchlist, hidden, first, last = await uow.history.counts(person_id)
            sync = await uow.sync.state(person_id)
        genres: Counter[str] = Counter()
        minutes = 0.0
        shows: list[ShowStat] = []
        for r in rows:
            for g in r.meta.genres:
                genres[g] += r.plays
            minutes += r.plays * float(r.meta.runtime or 45)
            shows.append(ShowStat(r.title, r.year, r.plays, r.episodes, None if r.meta.made_up("episodes_per_season")
                                  else r.aired_episodes or r.meta.number_of_episodes,
                                  r.last or datetime.min.replace(tzinfo=UTC)))
        shows.sort(key=lambda x: (-x.plays, x.title))
        return Stats(
            plays=sum(x.plays for x in shows), shows=len(shows), episodes=sum(x.episodes for x in shows),
            first_play=first, last_play=last, hours_watched=round(minutes / 60, 1), ratings=ratings,
            watchlist=watchlist, hidden=hidden, top_shows=tuple(shows[:10]), top_genres=tuple(genres.most_common(8)),
            plays_per_year=tuple(per_year), last_sync=sync.last_finished_at)

    async def learning(self, person_id: int | None) -> Learning:
        """Success rates by strategy, mode, persona (named) and source, and the bandit's posteriors for the person
        (``None``: everyone's rates, for the bot owner; no bandit state)."""
        rates = await self.feedback.rates_by(person_id, ("strategy", "mode", "persona", "source"))
        if person_id is None:
            return Learning(None, rates, ())
        report = await self.personas.stored(person_id)
        personas = report.personas if report is not None else ()
        names = {str(p.id): p.name for p in personas}
        rates["persona"] = [replace(r, key=names.get(r.key.removeprefix("persona "), r.key)) for r in rates["persona"]]
        arms = [replace(a, arm=names.get(a.arm, a.arm)) if a.kind == "persona" else a
                for a in await self.recommender.bandit.arm_states(person_id, personas, fresh=True)]
        return Learning(person_id, rates, tuple(arms))
