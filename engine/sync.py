"""History sync: complete on the first run, incremental afterwards, resumable after any crash.

- ``/sync/last_activities`` decides which sections changed; with nothing changed a sync is one request.
- History pages are committed together with the job's resume point; a killed sync continues from the pages not
  yet committed, and plays are de-duplicated by Trakt history id, so re-reading a page is harmless.
- ``/sync/watched/shows`` (one request) then checks play counts per show: a back-dated or removed play (which a
  ``start_at`` window cannot see) makes exactly that show's history be read again and reconciled.
- One lease per person in SQLite (plus in-process task sharing) keeps two syncs of a person from running at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from .aio import run_all
from .clock import Clock, iso
from .config import SyncSettings
from .errors import SyncInProgress
from .models import ShowIds, ShowRef, SyncReport
from .sources.trakt import Page, TraktClient, parse_history_item, parse_show
from .store import Store

log = logging.getLogger(__name__)

Progress = Callable[[str], Any]

SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("settings", "account", "settings_at"),
    ("history", "episodes", "watched_at"),
    ("ratings", "shows", "rated_at"),
    ("watchlist", "shows", "watchlisted_at"),
    ("hidden", "shows", "hidden_at"),
    ("dropped", "shows", "dropped_at"),
)


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
    def __init__(self, store: Store, trakt: TraktClient, clock: Clock, settings: SyncSettings) -> None:
        self.store = store
        self.trakt = trakt
        self.clock = clock
        self.settings = settings
        self._running: dict[int, asyncio.Task[SyncReport]] = {}

    async def sync(self, person_id: int, progress: Progress | None = None) -> SyncReport:
        """Run (or join the already running) sync of one person."""
        task = self._running.get(person_id)
        if task is None or task.done():
            task = asyncio.create_task(self._leased(person_id, progress))
            self._running[person_id] = task
        try:
            return await asyncio.shield(task)
        finally:
            if task.done() and self._running.get(person_id) is task:
                del self._running[person_id]

    async def _leased(self, person_id: int, progress: Progress | None) -> SyncReport:
        owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        now = self.clock.now()
        ok = await self.store.acquire_lease(
            person_id, owner, now + timedelta(seconds=self.settings.lease_seconds), now, lease_is_stale
        )
        if not ok:
            raise SyncInProgress(f"person {person_id} is being synced by another process")
        error: str | None = None
        try:
            return await self._run(person_id, progress or (lambda _m: None))
        except BaseException as e:
            error = f"{type(e).__name__}: {e}"
            raise
        finally:
            await self.store.release_lease(person_id, owner, error, self.clock.now())

    async def _run(self, person_id: int, progress: Progress) -> SyncReport:
        start_requests = self.trakt.http.requests
        acts = await self.trakt.get("/sync/last_activities", person_id=person_id) or {}
        state = await self.store.sync_state(person_id)
        done: dict[str, Any] = state["activities"]
        todo = [
            (name, stamp) for name, group, key in SECTIONS
            if (stamp := _stamp(acts, group, key)) != done.get(name) or (name == "history" and state["job"])
        ]
        counts: dict[str, int] = {}
        for name, stamp in todo:
            progress(f"syncing {name}")
            counts.update(await getattr(self, f"_sync_{name}")(person_id, stamp, state))
        return SyncReport(
            new_plays=counts.get("added", 0), removed_plays=counts.get("removed", 0),
            shows_touched=counts.get("shows", 0), ratings=counts.get("ratings", 0),
            watchlist=counts.get("watchlist", 0), hidden=counts.get("hidden", 0) + counts.get("dropped", 0),
            requests=self.trakt.http.requests - start_requests, sections=tuple(n for n, _ in todo),
            unchanged=not todo,
        )

    # -- sections ----------------------------------------------------------------------------------------------
    async def _sync_settings(self, person_id: int, stamp: str | None, state: dict[str, Any]) -> dict[str, int]:
        body = await self.trakt.get("/users/settings", person_id=person_id) or {}
        user = body.get("user") or {}
        account = body.get("account") or {}
        limits = body.get("limits") or {}
        fields: dict[str, Any] = {"trakt_vip": int(bool(user.get("vip") or user.get("vip_ep")))}
        if account.get("timezone"):
            fields["timezone"] = account["timezone"]
        wl = (limits.get("watchlist") or {}).get("item_count")
        if isinstance(wl, int):
            fields["watchlist_limit"] = wl
        await self.store.update_person(person_id, **fields)
        await self.store.mark_section_synced(person_id, "settings", stamp)
        return {}

    async def _sync_history(self, person_id: int, stamp: str | None, state: dict[str, Any]) -> dict[str, int]:
        job: dict[str, Any] = state["job"] or {
            "start_at": state["history_cursor"],
            "end_at": None if state["history_cursor"] else iso(self.clock.now()),
            "pages_done": [],
        }
        params = {k: job[k] for k in ("start_at", "end_at") if job.get(k)}
        committed: set[int] = set(job["pages_done"])
        added = 0
        in_window: Counter[int] = Counter()

        async def on_page(pg: Page) -> None:
            nonlocal added
            plays = [p for item in pg.items if (p := parse_history_item(item)) is not None]
            in_window.update(p.show.ids.trakt for p in plays if p.show.ids.trakt is not None)
            snapshot = dict(job, pages_done=sorted(committed | {pg.page}))
            n = await self.store.commit_plays(person_id, plays, "trakt", snapshot, set_job=True)
            added += n   # (never `added += await …`: the read would happen before the await)
            committed.add(pg.page)

        await self.trakt.all_pages(
            "/sync/history/shows", person_id=person_id, params=params, on_page=on_page,
            skip_pages=frozenset(committed - {1}),
        )
        # Verify per show: a play count that disagrees, or a show Trakt says changed (last_updated_at) while the
        # window brought none of its plays, means back-dated or removed plays; re-read exactly those shows.
        watched = await self.trakt.get("/sync/watched/shows", person_id=person_id,
                                       params={"extended": "noseasons"}) or []
        remote: dict[int, tuple[int, ShowRef]] = {}
        updated: dict[int, tuple[int, str | None]] = {}
        for row in watched:
            ref = parse_show(row.get("show") or {})
            if ref.ids.trakt is not None:
                remote[ref.ids.trakt] = (int(row.get("plays") or 0), ref)
                updated[ref.ids.trakt] = (remote[ref.ids.trakt][0], row.get("last_updated_at"))
        if remote:
            await self.store.upsert_shows([r for _, r in remote.values()])   # refresh aired_episodes
        local = await self.store.trakt_play_counts(person_id)
        before = await self.store.trakt_show_state(person_id)
        stale = [t for t, (n, _) in remote.items() if local.get(t, 0) != n] + [t for t in local if t not in remote]
        stale += [
            t for t, (n, upd) in updated.items()
            if t not in stale and upd and t in before and before[t][1] and before[t][1] != upd and not in_window[t]
        ]
        removed = 0
        if stale:
            log.info("person %s: %d shows disagree on play counts; re-reading them", person_id, len(stale))
            sem = asyncio.Semaphore(self.trakt.settings.page_concurrency)

            async def reconcile(tid: int) -> None:
                nonlocal added, removed
                async with sem:
                    items = await self.trakt.all_pages(f"/sync/history/shows/{tid}", person_id=person_id) \
                        if tid in remote else []
                plays = [p for i in items if (p := parse_history_item(i)) is not None]
                ref = remote[tid][1] if tid in remote else await self._local_ref(tid)
                a, r = await self.store.replace_show_plays(person_id, ref, plays)
                added += a
                removed += r

            await run_all(reconcile(t) for t in stale)
        await self.store.save_trakt_show_state(person_id, updated)
        newest = await self.store.one(
            "SELECT MAX(watched_at) FROM plays WHERE person_id=? AND source='trakt'", (person_id,)
        )
        cursor = newest[0] if newest and newest[0] else state["history_cursor"]
        now_iso = iso(self.clock.now())
        if cursor and cursor > now_iso:
            cursor = now_iso
        await self.store.mark_section_synced(person_id, "history", stamp, history_cursor=cursor, job=None)
        state["job"] = None
        return {"added": added, "removed": removed, "shows": len(remote)}

    async def _local_ref(self, trakt_id: int) -> ShowRef:
        row = await self.store.one("SELECT title, year FROM shows WHERE trakt_id=?", (trakt_id,))
        return ShowRef(ShowIds(trakt=trakt_id), row[0] if row else "?", row[1] if row else None)

    async def _sync_ratings(self, person_id: int, stamp: str | None, state: dict[str, Any]) -> dict[str, int]:
        rows = await self.trakt.paginated_optional("/sync/ratings/shows", person_id=person_id)
        items = [(parse_show(r["show"]), r.get("rated_at"), int(r["rating"])) for r in rows
                 if r.get("show") and isinstance(r.get("rating"), int) and 1 <= r["rating"] <= 10]
        n = await self.store.replace_list("ratings", person_id, items)
        await self.store.mark_section_synced(person_id, "ratings", stamp)
        return {"ratings": n}

    async def _sync_watchlist(self, person_id: int, stamp: str | None, state: dict[str, Any]) -> dict[str, int]:
        rows = await self.trakt.paginated_optional("/sync/watchlist/shows", person_id=person_id)
        items = [(parse_show(r["show"]), r.get("listed_at"), None) for r in rows if r.get("show")]
        n = await self.store.replace_list("watchlist", person_id, items)
        await self.store.mark_section_synced(person_id, "watchlist", stamp)
        return {"watchlist": n}

    async def _hidden_section(self, person_id: int, stamp: str | None, section: str, kind: str,
                              params: dict[str, Any]) -> dict[str, int]:
        rows = await self.trakt.all_pages(f"/users/hidden/{section}", person_id=person_id, params=params)
        items = [(parse_show(r["show"]), r.get("hidden_at"), None) for r in rows if r.get("show")]
        n = await self.store.replace_list("hidden", person_id, items, kind=kind)
        await self.store.mark_section_synced(person_id, kind, stamp)
        return {kind: n}

    async def _sync_hidden(self, person_id: int, stamp: str | None, state: dict[str, Any]) -> dict[str, int]:
        return await self._hidden_section(person_id, stamp, "progress_watched", "hidden", {"type": "show"})

    async def _sync_dropped(self, person_id: int, stamp: str | None, state: dict[str, Any]) -> dict[str, int]:
        return await self._hidden_section(person_id, stamp, "dropped", "dropped", {"type": "show"})

