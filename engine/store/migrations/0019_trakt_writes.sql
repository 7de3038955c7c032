-- What the bot wrote to a person's Trakt account on their behalf (``/settings trakt:write``): one row per person,
-- show and kind, taken before the write is sent, so a write that has no natural idempotency on Trakt's side
-- (``POST /sync/history`` adds plays every time) is sent at most once, whatever retries, repeats or restarts.
CREATE TABLE trakt_writes (
    person_id  INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    show_id    INTEGER NOT NULL REFERENCES shows(id),
    kind       TEXT NOT NULL,          -- watched
    at         TEXT NOT NULL,
    PRIMARY KEY (person_id, show_id, kind)
);
