-- A group watch with a deadline (``/groupwatch in:2h``): where it was asked and when its vote closes. After
-- ``closes_at`` no vote counts, and the scheduler announces the result in that chat once (``group_results``
-- claims it, whether the last vote or the deadline completes the tally).
CREATE TABLE group_sessions (
    request_id TEXT PRIMARY KEY,
    platform   TEXT NOT NULL,
    chat_id    TEXT NOT NULL,
    closes_at  TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX group_sessions_closes ON group_sessions(closes_at);
