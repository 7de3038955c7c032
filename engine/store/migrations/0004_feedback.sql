-- Explicit feedback on a shown recommendation: the current state per (event, kind), so redelivered or
-- reordered reaction events (add, remove, add) converge and count once.
CREATE TABLE feedback (
    person_id  INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    event_id   INTEGER NOT NULL REFERENCES rec_events(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,          -- liked | not_for_me | seen | watchlist
    active     INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (person_id, event_id, kind)
) WITHOUT ROWID;
