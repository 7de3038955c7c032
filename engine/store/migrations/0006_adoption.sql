-- Implicit feedback: a shown pick that later appears in the history was started; past a share of its aired
-- episodes, finished. One row per event, upgraded as the person watches.
CREATE TABLE adoptions (
    event_id   INTEGER PRIMARY KEY REFERENCES rec_events(id) ON DELETE CASCADE,
    person_id  INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    state      TEXT NOT NULL,          -- started | finished
    episodes   INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
