-- Every recommendation shown is an event: what, why, where it was shown (feedback and adoption trace back here)
CREATE TABLE rec_events (
    id          INTEGER PRIMARY KEY,
    person_id   INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    show_id     INTEGER NOT NULL REFERENCES shows(id),
    request_id  TEXT NOT NULL,
    strategy    TEXT NOT NULL,           -- persona | all | bridge | like | mood | auto
    persona_id  INTEGER,
    sources     TEXT NOT NULL,           -- JSON list of candidate sources
    rank        INTEGER NOT NULL,
    mode        TEXT NOT NULL,
    score       REAL,
    reason      TEXT,
    llm         INTEGER NOT NULL DEFAULT 0,
    shown_at    TEXT NOT NULL,
    platform    TEXT,
    message_ref TEXT                     -- platform message id, set by the front end once it is sent
);
CREATE INDEX rec_events_person ON rec_events(person_id, shown_at);
CREATE INDEX rec_events_message ON rec_events(platform, message_ref);

-- Shows a person said "not for me" to (never recommended again)
CREATE TABLE dismissed (
    person_id  INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    show_id    INTEGER NOT NULL REFERENCES shows(id),
    at         TEXT NOT NULL,
    reason     TEXT,
    PRIMARY KEY (person_id, show_id)
) WITHOUT ROWID;
