"""History sync: complete on the first run, incremental afterwards, resumable after any crash.

- ``/sync/last_activities`` decides which sections changed; with nothing changed a sync is one request.
- History pages are committed together with the job's resume point; a killed sync continues from the pages not
  yet committed, and plays are de-duplicated by Trakt history id, so re-reading a page is harmless.
- ``/sync/watched/shows`` (one request) then checks play counts per show: a back-dated or removed play (which a
  ``start_at`` window cannot see) makes exactly that show's history be read again and reconciled.
- One lease per person in the store (plus in-process task sharing) keeps two syncs of a person from running at
  once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

from engine.plumbing.aio import run_all
from engine.plumbing.clock import Clock
from engine.plumbing.config import SyncSettings
from engine.plumbing.leases import new_owner
from engine.ports.trakt import TraktPort
from engine.store import Store, Unit
from engine.store.records import SyncState
from engine.values.errors import SyncInProgress
from engine.values.i18n import N_, _
from engine.values.models import Play, ShowIds, ShowRef, SyncReport
from engine.values.times import iso

log = logging.getLogger(__name__)

Progress = Callable[[str], Any]

FLUSH_PLAYS = 500          # history pages are committed in batches of about this many plays

SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("settings", "account", "settings_at"),
    ("history", "episodes", "watched_at"),
    ("ratings", "shows", "rated_at"),
    ("watchlist", "shows", "watchlisted_at"),
    ("hidden", "shows", "hidden_at"),
    ("dropped", "shows", "dropped_at"),
)
SECTION_WORDS = (N_("settings"), N_("history"), N_("ratings"), N_("watchlist"), N_("hidden"), N_("dropped"))


def _stamp(acts: dict[str, Any], group: str, key: str) -> str | None:
    g = acts.get(group)
    if isinstance(g, dict) and g.get(key):
        return str(g[key])
    return str(acts["all"]) if acts.get("all") else None  # older payloads lack newer keys: fall back to "all"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lease_is_stale(owner: str) -> bool:
    """A lease held by a process on this host that no longer exists is stale (e.g. the sync was SIGKILLed)."""
    try:
        host, pid, _ = owner.split(":", 2)
        return host == socket.gethostname() and not _pid_alive(int(pid))
    except ValueError:
        return False


class TraktSync:
    def __init__(self, store: Store, trakt: TraktPort, clock: Clock, settings: SyncSettings,
                 page_concurrency: int = 4, on_shows: Callable[[list[int]], Any] | None = None) -> None:
        self.store = store
        self.trakt = trakt
        self.clock = clock
        self.settings = settings
        self.page_concurrency = page_concurrency
        self.on_shows = on_shows        # told the internal ids of shows as their plays land (metadata can start)
        self._running: dict[int, asyncio.Task[SyncReport]] = {}
        self._owners: dict[int, str] = {}          # person -> the lease owner of the sync running here
        self._renewed: dict[int, datetime] = {}    # person -> when that lease was last extended

    async def sync(self, person_id: int, progress: Progress | None = None, *,
                   due_before: datetime | None = None) -> SyncReport:
        """Run (or join the already running) sync of one person; with ``due_before``, only if their last sync
        finished before it (SyncInProgress otherwise: another process synced them since they were found due)."""
        task = self._running.get(person_id)
        if task is None or task.done():
            task = asyncio.create_task(self._leased(person_id, progress, due_before))
            self._running[person_id] = task
        try:
            return await asyncio.shield(task)
        finally:
            if task.done() and self._running.get(person_id) is task:
                del self._running[person_id]

    async def _keep_lease(self, person_id: int) -> None:
        """Extend this process's lease on the person once a third of it has passed since it was last extended: a
        long sync that makes progress never outlives its lease and overlaps another process's sync of them."""
        owner = self._owners.get(person_id)
        now = self.clock.now()
        if owner is None or now - self._renewed.get(person_id, now) < timedelta(seconds=self.settings.lease_seconds
                                                                                  / 3):
            return
        async with self.store.unit() as uow:
            kept = await uow.sync.renew_lease(person_id, owner, now + timedelta(seconds=self.settings.lease_seconds))
        self._renewed[person_id] = now
        if not kept:
            log.warning("sync of person %s: the lease lapsed and was taken (%s)", person_id, owner)

    async def _leased(self, person_id: int, progress: Progress | None, due_before: datetime | None) -> SyncReport:
        owner = new_owner()
        now = self.clock.now()
        async with self.store.unit() as uow:
            ok = await uow.sync.acquire_lease(person_id, owner, now + timedelta(seconds=self.settings.lease_seconds),
                                              now, lease_is_stale, due_before=due_before)
        if not ok:
            raise SyncInProgress(f"person {person_id} is being synced by another process (or was just synced)")
        log.info("sync of person %s started (%s)", person_id, owner)
        error: str | None = None
        self._owners[person_id] = owner
        self._renewed[person_id] = now
        try:
            return await self._run(person_id, progress or (lambda _m: None))
        except BaseException as e:
            error = f"{type(e).__name__}: {e}"
            raise
        finally:
            self._owners.pop(person_id, None)
            self._renewed.pop(person_id, None)
            async with self.store.unit() as uow:
                await uow.sync.release_lease(person_id, owner, error, self.clock.now())
            log.info("sync of person %s ended (%s)%s", person_id, owner, f": {error.split(':')[0]}" if error else "")

    async def _run(self, person_id: int, progress: Progress) -> SyncReport:
        start_requests = self.trakt.requests
        acts = await self.trakt.last_activities(person_id)
        async with self.store.read() as uow:
            state = await uow.sync.state(person_id)
        done: dict[str, Any] = state.activities
        todo = [
            (name, stamp) for name, group, key in SECTIONS
            if (stamp := _stamp(acts, group, key)) != done.get(name) or (name == "history" and state.job)
        ]
        counts: dict[str, int] = {}

        async def section(name: str, stamp: str | None) -> None:
            progress(_("syncing {section}").format(section=_(name)))
            counts.update(await getattr(self, f"_sync_{name}")(person_id, stamp, state))

        # the sections are independent (each commits its own rows and its own mark): read them side by side, so
        # the small ones ride along the history's pages instead of queueing after them
        await run_all(section(name, stamp) for name, stamp in todo)
        return SyncReport(
            new_plays=counts.get("added", 0), removed_plays=counts.get("removed", 0),
            shows_touched=counts.get("shows", 0), ratings=counts.get("ratings", 0),
            watchlist=counts.get("watchlist", 0), hidden=counts.get("hidden", 0) + counts.get("dropped", 0),
            requests=self.trakt.requests - start_requests, sections=tuple(n for n, _ in todo),
            unchanged=not todo,
        )

    # -- sections ----------------------------------------------------------------------------------------------
    async def _sync_settings(self, person_id: int, stamp: str | None, state: SyncState) -> dict[str, int]:
        acc = await self.trakt.account(person_id)
        async with self.store.unit() as uow:
            await uow.people.set_trakt_account(person_id, vip=acc.vip, timezone=acc.timezone,
                                               watchlist_limit=acc.watchlist_limit)
            await uow.sync.mark_section(person_id, "settings", stamp)
        return {}

    async def _sync_history(self, person_id: int, stamp: str | None, state: SyncState) -> dict[str, int]:
        job: dict[str, Any] = state.job or {
            "start_at": state.history_cursor,
            "end_at": None if state.history_cursor else iso(self.clock.now()),
            "pages_done": [],
        }
        committed: set[int] = set(job["pages_done"])
        added = 0
        in_window: Counter[int] = Counter()

        buffered: dict[int, list[Play]] = {}
        writing = asyncio.Lock()

        async def flush() -> None:
            nonlocal added
            async with writing:
                batch = dict(buffered)
                buffered.clear()
                if not batch:
                    return
                snapshot = dict(job, pages_done=sorted(committed | set(batch)))
                shows: set[int] = set()
                async with self.store.unit() as uow:      # the pages and the resume point land together
                    got = await uow.history.add_plays(person_id, [p for ps in batch.values() for p in ps], "trakt",
                                                      shows)
                    await uow.sync.set_job(person_id, snapshot)
                added += got
                committed.update(batch)
                if self.on_shows is not None:
                    self.on_shows(sorted(shows))

        async def on_page(n: int, plays: list[Play]) -> None:
            await self._keep_lease(person_id)           # a sync that makes progress keeps its lease
            in_window.update(p.show.ids.trakt for p in plays if p.show.ids.trakt is not None)
            buffered[n] = plays
            # a few pages per transaction: fewer round trips to the database while the next pages are in
            # flight; a crash loses at most the buffered pages, which the next run reads again
            if sum(len(ps) for ps in buffered.values()) >= FLUSH_PLAYS and not writing.locked():
                await flush()

        # the play-count check is one request that does not depend on the pages: it rides along with them
        watched_task = asyncio.create_task(self.trakt.watched_shows(person_id))
        try:
            await self.trakt.history(person_id, start_at=job.get("start_at"), end_at=job.get("end_at"),
                                     on_page=on_page, skip_pages=frozenset(committed - {1}))
        except BaseException:
            watched_task.cancel()
            await asyncio.gather(watched_task, return_exceptions=True)
            raise
        finally:
            await flush()                                   # what arrived before a failure is kept
        # Verify per show: a play count that disagrees, or a show Trakt says changed (last_updated_at) while the
        # window brought none of its plays, means back-dated or removed plays; re-read exactly those shows.
        watched = await watched_task
        remote = {w.show.ids.trakt: w for w in watched if w.show.ids.trakt is not None}
        updated = {t: (w.plays, w.last_updated_at) for t, w in remote.items()}
        async with self.store.unit() as uow:
            if remote:
                await uow.shows.upsert(w.show for w in remote.values())   # refresh aired_episodes
            local = await uow.history.trakt_play_counts(person_id)
            before = await uow.history.trakt_show_state(person_id)
        stale = [t for t, w in remote.items() if local.get(t, 0) != w.plays] + [t for t in local if t not in remote]
        stale += [
            t for t, (_, upd) in updated.items()
            if t not in stale and upd and t in before and before[t][1] and before[t][1] != upd and not in_window[t]
        ]
        removed = 0
        if stale:
            log.info("person %s: %d shows disagree on play counts; re-reading them", person_id, len(stale))
            sem = asyncio.Semaphore(self.page_concurrency)

            async def reconcile(tid: int) -> None:
                nonlocal added, removed
                async with sem:
                    plays = await self.trakt.show_history(person_id, tid) if tid in remote else []
                async with self.store.unit() as uow:
                    ref = remote[tid].show if tid in remote else await _local_ref(uow, tid)
                    a, r = await uow.history.replace_show_plays(person_id, ref, plays)
                added += a
                removed += r

            await run_all(reconcile(t) for t in stale)
        now_iso = iso(self.clock.now())
        async with self.store.unit() as uow:
            await uow.history.save_trakt_show_state(person_id, updated)
            cursor = await uow.history.newest_play(person_id, "trakt") or state.history_cursor
            if cursor and cursor > now_iso:
                cursor = now_iso
            await uow.sync.mark_section(person_id, "history", stamp, history_cursor=cursor, clear_job=True)
        return {"added": added, "removed": removed, "shows": len(remote)}

    async def _sync_ratings(self, person_id: int, stamp: str | None, state: SyncState) -> dict[str, int]:
        items = await self.trakt.ratings(person_id)
        async with self.store.unit() as uow:
            n = await uow.history.replace_ratings(person_id, items)
            await uow.sync.mark_section(person_id, "ratings", stamp)
        return {"ratings": n}

    async def _sync_watchlist(self, person_id: int, stamp: str | None, state: SyncState) -> dict[str, int]:
        items = await self.trakt.watchlist(person_id)
        async with self.store.unit() as uow:
            n = await uow.history.replace_watchlist(person_id, items)
            await uow.sync.mark_section(person_id, "watchlist", stamp)
        return {"watchlist": n}

    async def _hidden_section(self, person_id: int, stamp: str | None, section: Literal["progress_watched",
                              "dropped"], kind: Literal["hidden", "dropped"]) -> dict[str, int]:
        items = await self.trakt.hidden(person_id, section)
        async with self.store.unit() as uow:
            n = await uow.history.replace_hidden(person_id, kind, items)
            await uow.sync.mark_section(person_id, kind, stamp)
        return {kind: n}

    async def _sync_hidden(self, person_id: int, stamp: str | None, state: SyncState) -> dict[str, int]:
        return await self._hidden_section(person_id, stamp, "progress_watched", "hidden")

    async def _sync_dropped(self, person_id: int, stamp: str | None, state: SyncState) -> dict[str, int]:
        return await self._hidden_section(person_id, stamp, "dropped", "dropped")


async def _local_ref(uow: Unit, trakt_id: int) -> ShowRef:
    rec = await uow.shows.by_ids(ShowIds(trakt=trakt_id))
    return rec.ref if rec is not None else ShowRef(ShowIds(trakt=trakt_id), "?", None)
