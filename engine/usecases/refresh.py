"""Always current: the scheduler's sync wave keeps every linked person's history fresh without anyone typing /sync.

Every ``sync.wave_minutes`` the wave takes the linked people whose last sync finished more than
``sync.stale_after_minutes`` ago (oldest attempt first, nobody whose sync is running), and syncs them
incrementally — one ``/sync/last_activities`` request for a person whose Trakt account did not change — a few at a
time, until the wave's request budget (``sync.wave_requests``) is spent. The budget holds the bot's Trakt traffic
for background syncs at ``wave_requests`` per ``wave_minutes`` whatever the number of people: with more people than
one wave can serve, each is synced less often, never in a burst (Trakt allows 1,000 GETs per 5 minutes).

A sync runs the same path as ``/sync``: the history, then metadata, then adoption (a pick that shows up in the
history is *started*), so the bandit and the alert scan that follow read fresh history. A person whose Trakt
authorisation was revoked is unlinked by the Trakt client (the refresh was refused) and told once, where their
alerts go.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from engine.plumbing.clock import Clock
from engine.plumbing.config import SyncSettings
from engine.plumbing.http import counting
from engine.store import Store
from engine.values.errors import MultitudesError, SyncInProgress, TraktReauthRequired, TraktRenewalLost
from engine.values.i18n import N_
from engine.values.models import SyncReport

log = logging.getLogger(__name__)

Notify = Callable[[int, str], Awaitable[bool]]

RELINK_NOTICE = N_("Your Trakt authorisation was revoked or has expired, so I unlinked your account and stopped "
                 "syncing it. Run /link to connect it again; nothing you did here is lost.")
RENEWAL_LOST_NOTICE = N_("Trakt renewed your link while it was not answering me, so I never got the new keys and "
                       "stopped syncing. Run /link to connect it again; nothing you did here is lost.")


@dataclass(slots=True)
class WaveReport:
    due: int = 0
    synced: int = 0
    unchanged: int = 0
    failed: int = 0
    unlinked: int = 0
    requests: int = 0
    left: int = 0                          # due people the budget did not reach (next wave)
    errors: list[str] = field(default_factory=list)


class BackgroundSync:
    def __init__(self, store: Store, clock: Clock, settings: SyncSettings,
                 sync: Callable[..., Awaitable[SyncReport]], service: str = "Trakt") -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self._sync = sync
        self.service = service              # whose requests the budget counts (the HTTP service's name)

    async def wave(self, notify: Notify | None = None) -> WaveReport:
        """Sync the people who are due, within the budget; ``notify(person, text)`` tells a person something
        (returns whether it reached them)."""
        s = self.settings
        now = self.clock.now()
        async with self.store.read() as uow:
            due = await uow.sync.due(now - timedelta(minutes=s.stale_after_minutes), now, s.wave_people)
        rep = WaveReport(due=len(due))
        if not due:
            return rep
        queue = list(due)
        lock = asyncio.Lock()
        stale = now - timedelta(minutes=s.stale_after_minutes)
        with counting() as spent:          # the wave's own requests, not what /recommend sends meanwhile

            async def worker() -> None:
                while True:
                    async with lock:
                        # each sync costs at least one request: start one only while the budget has room for it
                        if not queue or spent[self.service] >= s.wave_requests:
                            return
                        pid = queue.pop(0)
                    await self._one(pid, rep, notify, stale)

            await asyncio.gather(*(worker() for _ in range(max(1, s.wave_concurrency))))
        rep.requests = spent[self.service]
        rep.left = len(queue)
        return rep

    async def _one(self, person_id: int, rep: WaveReport, notify: Notify | None, stale: datetime) -> None:
        try:
            got = await self._sync(person_id, due_before=stale)
        except SyncInProgress:
            return                       # a sync of theirs is running, or another process just did it: fresh enough
        except TraktReauthRequired as e:
            rep.unlinked += 1
            await self._unlinked(person_id, notify, e)
        except MultitudesError as e:                   # an outage or a rate limit: the next wave tries again
            rep.failed += 1
            rep.errors.append(f"{type(e).__name__}")
            log.warning("background sync of person %s failed: %s", person_id, type(e).__name__)
        except Exception:
            rep.failed += 1
            rep.errors.append("unexpected")
            log.exception("background sync of person %s failed", person_id)
        else:
            rep.synced += 1
            rep.unchanged += got.unchanged

    async def _unlinked(self, person_id: int, notify: Notify | None, why: TraktReauthRequired) -> None:
        if why.generation is not None:                  # only the tokens found dead: never a newer link's
            async with self.store.unit() as uow:
                await uow.tokens.delete(person_id, why.generation)
        if notify is not None:
            try:
                told = await notify(person_id, RENEWAL_LOST_NOTICE if isinstance(why, TraktRenewalLost)
                                    else RELINK_NOTICE)
            except Exception:
                log.warning("could not tell person %s their Trakt link ended", person_id, exc_info=True)
                told = False
            log.info("person %s: Trakt authorisation revoked, unlinked (told: %s)", person_id, told)


def summary(rep: WaveReport) -> Mapping[str, int]:
    return {"due": rep.due, "synced": rep.synced, "unchanged": rep.unchanged, "failed": rep.failed,
            "unlinked": rep.unlinked, "requests": rep.requests, "left": rep.left}
