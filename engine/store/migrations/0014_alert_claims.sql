-- Several processes deliver alerts at once (issue 15). Delivery claims a batch of due rows (pending -> claimed, with
-- the claiming process and the time; on PostgreSQL with FOR UPDATE SKIP LOCKED, so processes never wait on each
-- other's rows), then moves each claimed -> sending right before the platform call and -> sent after it. A batch
-- left 'claimed' by a process that died is claimed again once the claim is older than alerts.claim_minutes: none
-- of it was attempted. A row left in 'sending' is still never retried (a missed alert beats a duplicate).
ALTER TABLE alerts ADD COLUMN claimed_by TEXT;
ALTER TABLE alerts ADD COLUMN claimed_at TEXT;
