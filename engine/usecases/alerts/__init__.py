"""Release-calendar alerts: a scan that decides, a delivery that sends exactly once.

**Scan** (every ``alerts.scan_every_hours``, for everyone with alerts on). The cost grows with shows, not with
people × shows: one query finds every person's shows (watched or listed, not hidden), show metadata is refreshed
only where its cache ran out (``next_episode``, ``last_episode``, ``status``, seasons; 24 h for airing shows, 30 days
for ended ones) and shared by everyone who watches the show, and Trakt's public calendars (premieres, finales) are
two requests per scan, cached. Then, per person and show:

* **catchup** — a season premieres within ``catchup_days`` and the person is behind (stopped midway, or the show is
  on their watchlist and not started): "N episodes to go before S3 starts on …", due early enough to catch up;
* **returning** — a premiere after ``returning_gap_days`` or more without new episodes, a week ahead;
* **premiere** — weekly viewers (how they watched this show; else their overall style), the morning of the day;
* **binge** — binge viewers, the morning after a season's finale, when the whole season is out.

Each becomes at most one row per person, show, season and kind (``alerts``), due at the person's
``morning_hour`` in their time zone and outside their quiet hours.

**Delivery** (every ``alerts.deliver_every_minutes``, in every process on the database): due rows are *claimed* in
batches of ``CLAIM_BATCH`` (pending -> claimed in one statement; on PostgreSQL with ``FOR UPDATE SKIP LOCKED``, so
several processes split the due rows without waiting on each other), re-checked (opted out since? stale? quiet hours
now? a front end reaching the person in this process?), moved claimed -> sending right before the platform call,
then marked sent. What cannot go out now goes back to pending. A restart between scan and send sends once; a batch
claimed by a process that died is claimed again after ``alerts.claim_minutes`` (none of it was tried); a crash
between "sending" and "sent" leaves that one row unsent rather than risk a duplicate.
"""

from engine.usecases.alerts.service import AlertService
from engine.usecases.alerts.values import (
           DeliveryReport,
           Notifier,
           ScanReport,
           allowed_at,
           in_quiet,
           morning,
           typed,
           tz_of,
)

__all__ = ["AlertService", "DeliveryReport", "Notifier", "ScanReport", "allowed_at", "in_quiet", "morning", "typed",
           "tz_of"]
