"""The one scheduler in the bot process (APScheduler 3, asyncio, UTC, jobs persisted in their own SQLite file).

Fixed jobs, each a module-level function (a persistent job store keeps a reference, not an object):

* ``sync.wave`` every ``sync.wave_minutes`` (with Trakt configured and ``sync.background``): incremental syncs of
  everyone whose history is older than ``sync.stale_after_minutes``, within a Trakt request budget
  (``Engine.sync_wave``), so adoption, the bandit and the alert scan read fresh history;
* ``alerts.scan`` every ``alerts.scan_every_hours``: decide alerts (``Engine.scan_alerts``), then deliver;
* ``alerts.deliver`` every ``alerts.deliver_every_minutes``: send what is due (``Engine.deliver_alerts``);
* ``digest.weekly`` hourly: send the opt-in weekly digests that are due in each person's time zone;
* ``groups.close`` every minute: announce the result of each group watch whose vote deadline (``in:2h``) passed,
  once, in its chat (every process runs it; the result row is claimed once);
* ``crowd.refresh`` every ``crowd.every_minutes`` (with Trakt configured and ``crowd.enabled``): similar Trakt
  members for the people whose crowd is missing or older than ``crowd.refresh_days``, within ``crowd.run_requests``
  (``Engine.crowd_wave``) — the only place the public graph is read.

With several processes on one PostgreSQL database, every process runs a scheduler, and the jobs split in two:

* work only one process should do — the alert *scan* and the crowd refresh (both read public data for everyone) —
  runs in the process holding the ``scheduler`` lease (``Engine.lead``); every job run takes or renews it (so at
  least every ``alerts.deliver_every_minutes``), and when the leader dies another process takes over once the lease
  lapses (``LEADER_TTL``);
* work that divides — alert *delivery*, the weekly digests, the sync wave — runs in every process: alerts are
  claimed in batches (``FOR UPDATE SKIP LOCKED``), a digest per person and week by one insert, a sync by the
  person's lease taken only while they are still due; so three processes send three shares, and each thing once.

What must survive a restart lives in the engine's database (alert and digest rows, claimed before sending); the
job store keeps the cadence, so a restart neither rescans at once nor forgets a scan that fell due while the bot
was down (``coalesce``: many missed runs become one; no misfire grace limit). python-telegram-bot's JobQueue is an
APScheduler too and is not used: one scheduler only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from engine.plumbing.leases import new_owner
from engine.usecases.alerts import Notifier
from engine.usecases.refresh import summary

if TYPE_CHECKING:
    from engine.facade import Engine

log = logging.getLogger(__name__)

_CURRENT: dict[str, Scheduler] = {}
LEADER_TTL = timedelta(minutes=15)


async def scan_job() -> None:
    s = _CURRENT.get("scheduler")
    if s is not None:
        await s.run_scan()


async def deliver_job() -> None:
    s = _CURRENT.get("scheduler")
    if s is not None:
        await s.run_deliver()


async def votes_job() -> None:
    s = _CURRENT.get("scheduler")
    if s is not None:
        await s.run_votes()


async def sync_job() -> None:
    s = _CURRENT.get("scheduler")
    if s is not None:
        await s.run_sync()


async def media_job() -> None:
    s = _CURRENT.get("scheduler")
    if s is not None:
        await s.run_media()


async def publish_job() -> None:
    s = _CURRENT.get("scheduler")
    if s is not None:
        await s.run_publish()


async def crowd_job() -> None:
    s = _CURRENT.get("scheduler")
    if s is not None:
        await s.run_crowd()


async def digest_job() -> None:
    s = _CURRENT.get("scheduler")
    if s is not None:
        await s.run_digest()


class Scheduler:
    def __init__(self, engine: Engine, notifiers: Mapping[str, Notifier], *, store_path: str | None = None) -> None:
        self.engine = engine
        self.notifiers = dict(notifiers)
        self.settings = engine.settings.alerts
        db = Path(engine.settings.storage.path)
        self.store_path = store_path or self.settings.scheduler_store or str(db.with_name(db.stem + ".scheduler.db"))
        self._sched: AsyncIOScheduler | None = None
        self.runs: dict[str, int] = {"scan": 0, "deliver": 0, "digest": 0, "sync": 0, "crowd": 0, "votes": 0,
                                     "media": 0, "publish": 0}
        self.owner = new_owner()
        self.ttl = max(LEADER_TTL, timedelta(minutes=3 * self.settings.deliver_every_minutes))
        self.followed = 0                   # job runs skipped because another process leads
        self._ran = asyncio.Condition()

    async def _done(self, kind: str) -> None:
        self.runs[kind] += 1
        async with self._ran:
            self._ran.notify_all()

    async def wait_runs(self, kind: str, n: int) -> None:
        """Until job ``kind`` has run ``n`` times in this process (tests and operators: no polling)."""
        async with self._ran:
            await self._ran.wait_for(lambda: self.runs[kind] >= n)

    def run_soon(self, job_id: str) -> None:
        """Run a fixed job now, outside its cadence (its next regular run is planned from then)."""
        assert self._sched is not None, "not started"
        job = self._sched.get_job(job_id)
        if job is None:
            raise KeyError(job_id)
        job.modify(next_run_time=datetime.now(UTC))

    def jobs(self) -> dict[str, tuple[Any, IntervalTrigger]]:
        s = self.settings
        jobs: dict[str, tuple[Any, IntervalTrigger]] = {
            "alerts.scan": (scan_job, IntervalTrigger(hours=s.scan_every_hours, timezone=UTC)),
            "alerts.deliver": (deliver_job, IntervalTrigger(minutes=s.deliver_every_minutes, timezone=UTC)),
            "digest.weekly": (digest_job, IntervalTrigger(hours=1, timezone=UTC)),
            "groups.close": (votes_job, IntervalTrigger(minutes=1, timezone=UTC)),
        }
        sync = self.engine.settings.sync
        if sync.background and not self.engine.demo:
            jobs["sync.wave"] = (sync_job, IntervalTrigger(minutes=sync.wave_minutes, timezone=UTC))
        if self.engine.settings.mediaserver_enabled and sync.background:
            jobs["media.sync"] = (media_job, IntervalTrigger(minutes=sync.wave_minutes, timezone=UTC))
        if self.engine.settings.mediaserver_enabled or not self.engine.demo:
            jobs["publish.daily"] = (publish_job, IntervalTrigger(hours=24, timezone=UTC))
        crowd = self.engine.settings.crowd
        if crowd.enabled and not self.engine.demo:
            jobs["crowd.refresh"] = (crowd_job, IntervalTrigger(minutes=crowd.every_minutes, timezone=UTC))
        return jobs

    async def start(self) -> None:
        if "scheduler" in _CURRENT:
            raise RuntimeError("one scheduler per process")
        Path(self.store_path).parent.mkdir(parents=True, exist_ok=True)
        sched = AsyncIOScheduler(
            timezone=UTC, jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{self.store_path}")},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None})
        _CURRENT["scheduler"] = self
        sched.start(paused=True)
        now = datetime.now(UTC)
        wanted = self.jobs()
        for job in sched.get_jobs():
            if job.id not in wanted:                       # e.g. background sync switched off since
                job.remove()
        for job_id, (func, trigger) in wanted.items():
            ref = f"{func.__module__}:{func.__name__}"
            have = sched.get_job(job_id)
            if have is not None and have.func_ref == ref and str(have.trigger) == str(trigger):
                continue                                  # keep the persisted cadence across restarts
            first = (now + timedelta(seconds=5) if job_id in ("alerts.scan", "sync.wave", "digest.weekly", "media.sync")
                     else now + timedelta(minutes=2) if job_id == "crowd.refresh" else None)
            sched.add_job(ref, trigger, id=job_id, name=job_id, replace_existing=True,
                          **({"next_run_time": first} if first else {}))
        sched.resume()
        self._sched = sched
        log.info("scheduler started: %s", ", ".join(f"{j.id} next {j.next_run_time}" for j in sched.get_jobs()))

    async def stop(self) -> None:
        if self._sched is not None:
            self._sched.shutdown(wait=False)
            self._sched = None
        _CURRENT.pop("scheduler", None)

    def next_runs(self) -> dict[str, datetime | None]:
        return {j.id: j.next_run_time for j in self._sched.get_jobs()} if self._sched else {}

    # -- what the jobs do (never raise into the scheduler) ---------------------------------------------------
    async def leading(self) -> bool:
        """Whether this process leads (taking or renewing the lease); an error counts as not leading."""
        try:
            return await self.engine.lead("scheduler", self.owner, self.ttl)
        except Exception:
            log.exception("could not take the scheduler lease")
            return False

    async def _job(self, kind: str, what: str, work: Callable[[], Awaitable[None]], *, shared: bool = False) -> None:
        """One run of a fixed job. Every run takes or renews the leadership; a ``shared`` job (its work claimed row
        by row) works in every process, the others only in the leader. A failure is logged, never raised into the
        scheduler; the run is counted either way."""
        if await self.leading() or shared:
            try:
                await work()
            except Exception:
                log.exception("%s failed", what)
        else:
            self.followed += 1
        await self._done(kind)

    async def run_scan(self) -> None:
        await self._job("scan", "alert scan", self._scan)

    async def _scan(self) -> None:
        try:
            log.info("alert scan: %s", await self.engine.scan_alerts())
        finally:
            await self.run_deliver()                 # what the scan decided goes out now, even after a failure

    async def run_deliver(self) -> None:
        async def deliver() -> None:
            rep = await self.engine.deliver_alerts(self.notifiers)
            if rep.sent or rep.failed:
                log.info("alerts delivered: %s", rep)
        await self._job("deliver", "alert delivery", deliver, shared=True)

    async def run_digest(self) -> None:
        async def digest() -> None:
            n = await self.engine.send_digests(self.notifiers)
            if n:
                log.info("weekly digests sent: %s", n)
        await self._job("digest", "weekly digest", digest, shared=True)

    async def run_votes(self) -> None:
        async def votes() -> None:
            n = await self.engine.close_group_votes(self.notifiers)
            if n:
                log.info("group votes closed and announced: %s", n)
        await self._job("votes", "group vote deadlines", votes, shared=True)

    async def run_crowd(self) -> None:
        async def crowd() -> None:
            rep = await self.engine.crowd_wave()
            if rep.due:
                log.info("crowd refresh: %s due, %s refreshed, %s failed, %s requests", rep.due, rep.refreshed,
                         rep.failed, rep.requests)
        await self._job("crowd", "crowd refresh", crowd)

    async def run_media(self) -> None:
        async def media() -> None:
            synced, failed = await self.engine.media_wave()
            if synced or failed:
                log.info("media-server sync: %s synced, %s failed", synced, failed)
        await self._job("media", "media-server sync", media)

    async def run_publish(self) -> None:
        async def publish() -> None:
            rep = await self.engine.publish()
            if rep.people:
                log.info("published the picks of %s people: %s lists, %s collections, %s failed", rep.people,
                         rep.lists, rep.collections, len(rep.failed))
        await self._job("publish", "publishing picks", publish)

    async def run_sync(self) -> None:
        async def sync() -> None:
            rep = await self.engine.sync_wave(self.notifiers)
            if rep.due:
                log.info("sync wave: %s", summary(rep))
        await self._job("sync", "sync wave", sync, shared=True)
