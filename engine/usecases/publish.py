"""Out of the bot: a person's current picks written where they already look — a private Trakt list ("Multitudes
picks") and, on the owner's media server, a collection of the ones it has ("Multitudes for <their user>"; on Plex,
in the TV library that holds most of them).

Opt-in per person (``/settings publish:on``; a collection is seen by everyone on the server, which the setting says).
``multitudes publish`` runs it for everyone who opted in, and the scheduler's ``publish.daily`` once a day. Current
picks: their own picks shown in the last 30 days that they have not dismissed, marked seen or started, most recent
first. Each run makes the list and the collection hold exactly those (adding and removing, never duplicating), and
remembers which list or collection is theirs; a list deleted on Trakt, or a collection deleted on the server, is made
again. One person's failure (a revoked token, a full account) is reported and the others go on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from engine.plumbing.clock import Clock
from engine.ports.mediaserver import NAMES, MediaServerPort
from engine.ports.trakt import TraktPort
from engine.store import Store
from engine.values.errors import MultitudesError

log = logging.getLogger(__name__)

LIST_NAME = "Multitudes picks"
LIST_ABOUT = "What Multitudes recommends to you right now, kept current by the bot."
RECENT = timedelta(days=30)
MOST = 30


@dataclass
class PublishReport:
    people: int = 0
    lists: int = 0                  # Trakt lists written
    collections: int = 0            # media-server collections written
    failed: list[str] = field(default_factory=list)


class Publisher:
    def __init__(self, store: Store, clock: Clock, trakt: TraktPort | None, server: MediaServerPort | None) -> None:
        self.store = store
        self.clock = clock
        self.trakt = trakt
        self.server = server

    async def publish(self, person_ids: list[int] | None = None) -> PublishReport:
        """Everyone who opted in (or these people, if they did)."""
        async with self.store.read() as uow:
            people = [p for p in await uow.people.many(person_ids) if p.settings.publish]
        rep = PublishReport(people=len(people))
        for person in people:
            try:
                lists, boxes = await self._one(person.id)
                rep.lists += lists
                rep.collections += boxes
            except MultitudesError as e:
                rep.failed.append(f"person {person.id}: {type(e).__name__}")
                log.warning("publishing the picks of person %s failed: %s", person.id, type(e).__name__)
        return rep

    async def _one(self, person_id: int) -> tuple[int, int]:
        now = self.clock.now()
        async with self.store.read() as uow:
            picks = await uow.providers.current_picks(person_id, now - RECENT, MOST)
            shows = await uow.shows.many(picks)
            linked = await uow.tokens.exists(person_id)
            link = await uow.media.link(person_id)
            in_lib = {} if link is None or self.server is None else await uow.media.items_of(self.server.kind, picks)
            box = await uow.providers.published(person_id, link.server) if link is not None else None
        lists = boxes = 0
        if self.trakt is not None and linked:
            ids = [shows[s].trusted_ids for s in picks if s in shows]
            await self.trakt.publish_list(person_id, LIST_NAME, LIST_ABOUT, [i for i in ids if i.trakt])
            async with self.store.unit() as uow:
                await uow.providers.set_published(person_id, "trakt", LIST_NAME, len(ids), now)
            lists = 1
        if self.server is not None and link is not None:
            items = [in_lib[s] for s in picks if s in in_lib]
            name = f"Multitudes for {link.user_name or link.server_user}"
            ref = await self.server.publish_collection(name, box, items)
            if ref is not None:
                async with self.store.unit() as uow:
                    await uow.providers.set_published(person_id, link.server, ref, len(items), now)
                boxes = 1
            else:
                log.info("%s: collections are not written there", NAMES.get(self.server.kind, self.server.kind))
        return lists, boxes
