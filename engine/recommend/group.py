"""Group watch: a list every member can live with, votes on it, re-rolls."""

from __future__ import annotations

import logging
import re
import shlex
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol

from engine.plumbing.compute import offload
from engine.recommend.known import known_words
from engine.recommend.pipeline import PersonaVec, PersonView
from engine.recommend.ranking import Job, fits, rank
from engine.recommend.service import Recommender
from engine.values.errors import MultitudesError
from engine.values.filters import filters_text, parse_filter_tokens
from engine.values.i18n import _, speaking
from engine.values.models import Filters, GroupTally, Mode, RecommendationList, RecommendRequest

log = logging.getLogger(__name__)


class Notices(Protocol):
    """The part of a front end's notifier (``engine.usecases.alerts.Notifier``) a group watch's deadline speaks
    through."""

    async def send_notice(self, target: str, text: str) -> str: ...


MAX_VOTE = timedelta(days=7)


class GroupWatch:
    """Shows a group can watch together: least misery over everyone's personas, votes, re-rolls. Built on the
    recommender (the same deployment, persona vectors, cards and recording)."""

    def __init__(self, rec: Recommender) -> None:
        self.rec = rec

    async def group_for(self, person_ids: Sequence[int], chat: tuple[str, str], k: int = 3, *,
                        filters: Filters | None = None, closes_at: datetime | None = None,
                        event_at: datetime | None = None, announce_to: str | None = None) -> RecommendationList:
        """Least misery over everyone's personas; only people who opted in to group picks in this chat take part
        (an opt-in elsewhere, or an opt-out elsewhere, says nothing here). ``filters`` narrow the picks as for one
        person (``provider:mine``: the services the members share); ``closes_at``: the vote's deadline."""
        platform, chat_id = chat
        ids = list(dict.fromkeys(person_ids))
        if len(ids) < 2:
            raise MultitudesError("group of one", user_message=_("A group watch needs at least two people."))
        async with self.rec.store.read() as uow:
            people = {p.id: p for p in await uow.people.many(ids)}
            here = set(await uow.people.chat_members(platform, chat_id, opted_in=True))
        refused = [p for p in ids if p not in people or p not in here]
        if refused:
            names = [(people[p].display_name if p in people else None) or _("person {n}").format(n=p)
                     for p in refused]
            raise MultitudesError(
                f"not opted in: {refused}",
                user_message=_("Not everyone opted in to group picks here: {names}. They can turn it on with /settings "
                               "group:on (here) — until then their history stays private.").format(
                    names=", ".join(names)))
        now = self.rec.clock.now()
        if closes_at is not None and not now < closes_at <= now + MAX_VOTE:
            raise MultitudesError("bad deadline", user_message=_(
                "A vote's deadline is from a few minutes to a week ahead, e.g. `in:2h` or `in:45m`."))
        if event_at is not None and not (closes_at or now) < event_at <= now + MAX_VOTE:
            raise MultitudesError("bad watch time", user_message=_(
                "The time to watch comes after the vote closes and within a week, e.g. `in:1h at:21:00`."))
        got = await self.group(ids, k, platform=platform, filters=filters or Filters())
        if got.items:
            async with self.rec.store.unit() as uow:      # no deadline: the vote closes when they start watching
                # where the result is said: the channel asked from (a Discord server's id is not a channel's)
                await uow.events.open_session(got.request_id, platform, announce_to or chat_id,
                                              closes_at or event_at, now, event_at, filters_text(filters or Filters()))
        return got

    async def reroll_group(self, request_id: str, person_id: int, chat: tuple[str, str], k: int = 3
                           ) -> RecommendationList:
        """The same group again, less whoever opted out here since (their history stays out of it)."""
        async with self.rec.store.read() as uow:
            events = await uow.events.of_request(request_id)
            here = set(await uow.people.chat_members(chat[0], chat[1], opted_in=True))
            closes, event_at, asked, said_in = await uow.events.session(request_id)
        members = list(dict.fromkeys(e.person_id for e in events if e.mode == Mode.GROUP))
        if person_id not in members:
            raise MultitudesError("not a member", user_message=_("Only people in that group watch can re-roll it."))
        staying = [m for m in members if m in here]
        if person_id not in staying or len(staying) < 2:
            raise MultitudesError("opted out", user_message=_(
                "Fewer than two of that group watch are opted in here now; start a new one with /groupwatch."))
        now = self.rec.clock.now()          # asked again the same way: its filters, and its times while ahead
        closes = closes if closes is not None and closes > now and closes != event_at else None
        return await self.group_for(staying, chat, k, filters=parse_filter_tokens(shlex.split(asked)),
                                    closes_at=closes, event_at=event_at if event_at and event_at > now else None,
                                    announce_to=said_in)

    async def ledger(self, person_ids: Sequence[int]) -> list[float]:
        """How much each member weighs tonight, from the last group night any of them had: who voted 👎 on its
        winner 1.5, who did not vote on it 1.2, everyone else (and anyone who was not there) 1.0."""
        async with self.rec.store.read() as uow:
            last = await uow.events.last_group_night(list(person_ids))
        if last is None:
            return [1.0] * len(person_ids)
        members, votes = last
        return [1.0 if p not in members else (1.0 if votes.get(p) else 1.5 if p in votes else 1.2)
                for p in person_ids]

    async def announce_due(self, notifiers: Mapping[str, Notices]) -> int:
        """Announce the result of every group watch whose deadline passed, in its chat, once; with a time to
        watch, the platform's own event too where it has one (a Discord scheduled event)."""
        sent = 0
        for platform, chat_id, said, winner, event_at, lang in await self.close_due():
            notifier = notifiers.get(platform)
            if notifier is None:
                continue
            schedule = getattr(notifier, "schedule_event", None)
            text = said
            if winner and event_at is not None and schedule is not None:
                try:
                    if await schedule(f"channel:{chat_id}", winner, event_at):
                        with speaking(lang):
                            text += " " + _("It is in the server's events.")
                except Exception:               # the result still goes out; the event is a courtesy
                    log.warning("%s: could not schedule a group watch", platform, exc_info=True)
            await notifier.send_notice(f"channel:{chat_id}", text)
            sent += 1
        return sent

    async def close_due(self) -> list[tuple[str, str, str, str | None, datetime | None, str | None]]:
        """Group watches whose deadline passed: the result from the votes so far, claimed once (every process may
        run this); (platform, chat, announcement, winner, time to watch, language) for each — said in the language
        of whoever asked for the group watch."""
        now = self.rec.clock.now()
        out = []
        async with self.rec.store.read() as uow:
            due = await uow.events.due_sessions(now)
        for request_id, platform, chat_id, event_at in due:
            async with self.rec.store.unit() as uow:
                events = [e for e in await uow.events.of_request(request_id) if e.mode == Mode.GROUP]
                if not events:
                    continue
                await uow.events.hold(min(e.id for e in events))
                votes = await uow.events.votes(request_id)
                ranks = {e.rank: e.show_id for e in events}
                titles = {sid: r.title for sid, r in (await uow.shows.many(set(ranks.values()))).items()}
                score = {r: (sum(1 for v in votes if v[0] == r and v[2]), sum(1 for v in votes if v[0] == r
                                                                                and not v[2])) for r in ranks}
                winner = min(ranks, key=lambda r: (-(score[r][0] - score[r][1]), -score[r][0], r))
                asker = await uow.people.get(events[0].person_id)
                lang = asker.settings.lang if asker is not None else None
                with speaking(lang):
                    text = self._result(votes, winner, score, titles.get(ranks[winner], "?"), len(
                        {e.person_id for e in events}), event_at)
                if await uow.events.claim_result(request_id, winner if votes else 0, now):
                    out.append((platform, chat_id, text, titles.get(ranks[winner]) if votes else None, event_at,
                                lang))
        return out

    @staticmethod
    def _result(votes: Sequence[tuple[int, int, bool]], winner: int, score: Mapping[int, tuple[int, int]],
                title: str, members: int, event_at: datetime | None) -> str:
        if not votes:
            return _("The vote closed and nobody voted: no winner this time. /groupwatch asks again.")
        up, down = score[winner]
        return _("The vote closed: {title} it is (👍 {up} · 👎 {down}, {voted} of {members} voted).").format(
            title=title, up=up, down=down, voted=len({v[1] for v in votes}), members=members) + (
            " " + _("Watching together at {time} UTC.").format(time=f"{event_at:%H:%M}") if event_at is not None
            else "")

    async def group_vote(self, event_id: int, person_id: int, up: bool) -> GroupTally:
        """A member's vote on one pick of a group watch (the pick's message carries one event of it; any member
        may vote, once per pick, changeable)."""
        async with self.rec.store.read() as uow:
            ev = await uow.events.get(event_id)
            events = await uow.events.of_request(ev.request_id) if ev is not None else []
        group = [e for e in events if e.mode == Mode.GROUP]
        if ev is None or not group:
            raise MultitudesError("not a group pick", user_message=_("That vote is no longer valid."))
        members = sorted({e.person_id for e in group})
        if person_id not in members:
            raise MultitudesError("not a member", user_message=_("Only people in this group watch can vote."))
        ranks = {e.rank: e.show_id for e in group}
        announce = False
        async with self.rec.store.read() as uow:
            closes, event_at, _asked, _said_in = await uow.events.session(ev.request_id)
        if closes is not None and closes <= self.rec.clock.now():
            raise MultitudesError("vote closed", user_message=_(
                "That vote closed at {time} UTC; /groupwatch starts a new one.").format(time=f"{closes:%H:%M}"))
        async with self.rec.store.unit() as uow:
            # votes on one group watch are counted one after another (the request's first pick held): the vote
            # that completes the tally sees every other, and claims the announcement once
            await uow.events.hold(min(e.id for e in group))
            await uow.events.vote(ev.request_id, ev.rank, person_id, up, self.rec.clock.now())
            votes = await uow.events.votes(ev.request_id)
            titles = {sid: rec.title for sid, rec in (await uow.shows.many(set(ranks.values()))).items()}
            done = all(any(v[0] == r and v[1] == m for v in votes) for r in ranks for m in members)
            score: dict[int, tuple[int, int]] = {}
            for r in ranks:
                ups = sum(1 for v in votes if v[0] == r and v[2])
                score[r] = (ups, sum(1 for v in votes if v[0] == r and not v[2]))
            winner = min(ranks, key=lambda r: (-(score[r][0] - score[r][1]), -score[r][0], r)) if done else None
            if winner is not None:
                announce = await uow.events.claim_result(ev.request_id, winner, self.rec.clock.now())
        here = [v for v in votes if v[0] == ev.rank]
        return GroupTally(ev.request_id, ev.rank, titles.get(ev.show_id, "?"), sum(v[2] for v in here),
                          sum(not v[2] for v in here), len(members), len(here), done,
                          titles.get(ranks[winner], "?") if winner is not None else None,
                          *(score[winner] if winner is not None else (0, 0)), announce=announce, event_at=event_at)

    async def group(self, person_ids: Sequence[int], k: int, *, platform: str | None = None,
                    filters: Filters = Filters()) -> RecommendationList:  # noqa: B008 (a frozen value)
        """A pick nobody has started, seen, rated, dropped or dismissed, that every member's best-fitting persona
        can live with (least misery)."""
        reports = [await self.rec.personas.personas(p) for p in person_ids]
        if any(not r.personas for r in reports):
            raise MultitudesError("member without history",
                                  user_message=_("Everyone in the group needs some history first (/sync or /import)."))
        dep = await self.rec.deployments.current()
        async with self.rec.store.read() as uow:
            people = {p.id: p for p in await uow.people.many(person_ids)}
            since = self.rec.clock.now() - timedelta(days=self.rec.recent_days)
            seen: set[int] = set()
            for p in person_ids:
                seen |= await uow.events.excluded(p, 0, since)
                seen |= await uow.history.played_shows(p)
        names: dict[int, str] = {p: (people[p].display_name if p in people else None) or f"person {p}"
                                 for p in person_ids}
        vecs: list[PersonaVec] = []
        titles: dict[int, str] = {}
        groups: list[tuple[str, list[int]]] = []
        genres: dict[str, float] = {}
        for p, r in zip(person_ids, reports, strict=True):
            pc = await self.rec.vectors(p, r, dep)
            major = [v for v in pc.vecs if v.weight >= 0.1] or pc.vecs
            groups.append((names[p], list(range(len(vecs), len(vecs) + len(major)))))
            vecs += [replace(v, weight=v.weight / len(person_ids)) for v in major]
            titles |= pc.titles
            for g, share in pc.genres.items():
                genres[g] = genres.get(g, 0.0) + share / len(person_ids)
        # the services everyone who named theirs has (what the group can put on together), in a country they share
        named = [people[p].settings.services for p in person_ids if p in people and people[p].settings.services]
        shared = tuple(s for s in named[0] if all(s in other for other in named[1:])) if named else ()
        regions = {people[p].settings.region for p in person_ids if p in people}
        region = regions.pop() if len(regions) == 1 else None
        note = (_("You have no streaming service in common, so these come from anywhere.") if len(named) > 1
                and not shared else "")
        view = PersonView(vecs, seen, {}, None, None, [], genres, services=shared, region=region)
        weights = await self.ledger(person_ids)
        job = Job(RecommendRequest(person_ids[0], mode=Mode.GROUP, k=k, platform=platform), dep, view, Mode.GROUP,
                  titles=titles, now=self.rec.clock.now(), group=groups, group_weights=weights)
        if filters.provider and filters.provider.casefold() == "mine":
            if not shared:
                raise MultitudesError("no shared service", user_message=_(
                    "provider:mine needs a streaming service you all have: each of you can name theirs with "
                    "/settings services:… — right now you share none."))
            filters = replace(filters, provider=None, services=shared)
        filters = replace(filters, region=filters.region or region)
        known_words(filters, dep)
        job.ok, job.filters = fits(filters, None), filters
        ranked = await offload(rank, job, self.rec.profile)
        if not ranked.picks:
            return RecommendationList(uuid.uuid4().hex[:12], Mode.GROUP, (),
                                      note=_("Nothing new fits everyone right now."))
        ids = await self.rec.ids(ranked)
        shown = Filters(region=region, services=shared)
        items = [self.rec.item(ranked, p, reason, n + 1, (), ids, shown) for n, (p, reason) in
                 enumerate(zip(ranked.picks, ranked.reasons, strict=True))]
        request_id = uuid.uuid4().hex[:12]
        # what is stored names nobody: a member's name and taste side said to the group stay in that message, not
        # in every other member's rows (forgetting one of them must leave no trace of them)
        stored = [replace(i, reason=nameless(i.reason, names.values())) for i in items]
        first = RecommendRequest(person_ids[0], mode=Mode.GROUP, k=k, platform=platform)
        recorded = await self.rec.record(first, request_id, stored, False, ranked)
        for p in person_ids[1:]:   # every member gets the event: their feedback and adoption trace back to it
            await self.rec.record(RecommendRequest(p, mode=Mode.GROUP, k=k, platform=platform), request_id, stored,
                                  False, ranked)
        favoured = [names[p] for p, w in zip(person_ids, weights, strict=True) if w == max(weights) and w > 1.0]
        if favoured:                # said to the group, never stored (the rows stay nameless)
            items = [replace(i, reason=i.reason + " " + _("{name}'s taste weighs a little more tonight: last time's "
                                                          "pick was not theirs.").format(name=favoured[0]))
                     for i in items]
        spoken = {i.show_id: i.reason for i in items}
        return RecommendationList(request_id, Mode.GROUP, tuple(replace(r, reason=spoken[r.show_id])
                                                                for r in recorded), note=note)


def nameless(reason: str, names: Iterable[str]) -> str:
    """A group pick's reason without the members' names ("Ann's comedies side" -> "a member's comedies side"), in
    whichever language the reason is written."""
    member = _("a member")
    for n in sorted(set(names), key=len, reverse=True):
        reason = re.sub(rf"(?<!\w){re.escape(n)}(?!\w)", lambda _m: member, reason)
    return reason
