-- The weekly digest is claimed like an alert (issue 15): the insert claims it (status 'claimed', who, when) while
-- the picks are computed, 'sending' right before the first platform call, 'sent' after. A claim left by a process
-- that died before sending anything is taken again once older than alerts.claim_minutes; a 'sending' one is not.
ALTER TABLE digests ADD COLUMN claimed_by TEXT;
ALTER TABLE digests ADD COLUMN claimed_at TEXT;
