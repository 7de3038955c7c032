-- A group watch as it was asked (``/groupwatch in:2h at:21:00 genre:+comedy``): where its result is said, when its
-- vote closes (``closes_at``; none without a deadline or a time), when they watch, and the filters asked for (a
-- re-roll asks again the same way). After ``closes_at`` no vote counts, and the scheduler announces the result in
-- that chat once (``group_results`` claims it, whether the last vote or the deadline completes the tally).
CREATE TABLE group_sessions (
    request_id TEXT PRIMARY KEY,
    platform   TEXT NOT NULL,
    chat_id    TEXT NOT NULL,
    closes_at  TEXT,
    event_at   TEXT,                      -- ``at:21:00``: when they watch the winner (a Discord scheduled event)
    filters    TEXT NOT NULL DEFAULT '', -- as ``engine.filters.filters_text`` writes them
    created_at TEXT NOT NULL
);
CREATE INDEX group_sessions_closes ON group_sessions(closes_at);
