-- A group watch's result is announced once: the vote that completes the tally claims it here (a later change of
-- vote, or two last votes at the same moment, never announce it again).
CREATE TABLE group_results (
    request_id   TEXT PRIMARY KEY,
    rank         INTEGER NOT NULL,
    announced_at TEXT NOT NULL
);
