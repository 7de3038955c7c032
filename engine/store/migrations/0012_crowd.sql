-- A person's crowd (issue 14): the Trakt members found through the public graph around their shows, kept as rows
-- of ratings by internal show id (never a username), refreshed in the background within a request budget.
CREATE TABLE crowd (
    person_id    INTEGER PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
    members      TEXT,                        -- JSON: [[[show_id, rating, rated_at or null], ...], ...]
    people       INTEGER NOT NULL DEFAULT 0,
    requests     INTEGER NOT NULL DEFAULT 0,  -- what the last refresh put on the wire
    computed_at  TEXT,                        -- the last refresh that finished
    attempted_at TEXT NOT NULL,               -- the last refresh that started
    error        TEXT
);
