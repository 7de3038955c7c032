-- A group watch with a deadline (``/groupwatch in:2h``) or a time to watch (``at:21:00``): where it was asked, when
-- its vote closes, and when they watch. After
-- ``closes_at`` no vote counts, and the scheduler announces the result in that chat once (``group_results``
-- claims it, whether the last vote or the deadline completes the tally).
CREATE TABLE group_sessions (
    request_id TEXT PRIMARY KEY,
    platform   TEXT NOT NULL,
    chat_id    TEXT NOT NULL,
    closes_at  TEXT NOT NULL,
    event_at   TEXT,                      -- ``at:21:00``: when they watch the winner (a Discord scheduled event)
    created_at TEXT NOT NULL
);
CREATE INDEX group_sessions_closes ON group_sessions(closes_at);
