-- Release-calendar alerts are rows: one per person, show, season and kind, ever. The scan inserts them with the
-- moment they are due (the person's morning, outside quiet hours); delivery claims a row (pending -> sending)
-- before sending and marks it sent after, so a restart never sends twice. A row left in 'sending' by a crash is
-- not retried (a missed alert beats a duplicate). Past expires_at an unsent alert is stale and skipped.
CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY,
    person_id   INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    show_id     INTEGER NOT NULL REFERENCES shows(id),
    season      INTEGER NOT NULL,
    kind        TEXT NOT NULL,            -- premiere | binge | returning | catchup
    event_at    TEXT NOT NULL,            -- the premiere or finale it is about (UTC)
    due_at      TEXT NOT NULL,            -- when to send (UTC)
    expires_at  TEXT NOT NULL,
    payload     TEXT NOT NULL,            -- JSON: title, episodes left, style, …
    status      TEXT NOT NULL DEFAULT 'pending',   -- pending | sending | sent | skipped
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    sent_at     TEXT,
    destination TEXT,                     -- platform:target it went to
    message_ref TEXT,
    note        TEXT,                     -- why skipped
    UNIQUE (person_id, show_id, season, kind)
);
CREATE INDEX alerts_due ON alerts(status, due_at);

-- The opt-in weekly digest: one row per person and ISO week, claimed before sending like an alert.
CREATE TABLE digests (
    person_id   INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    week        TEXT NOT NULL,            -- ISO year-week, e.g. 2026-W48, in the person's time zone
    status      TEXT NOT NULL,            -- sending | sent | skipped
    sent_at     TEXT,
    destination TEXT,
    PRIMARY KEY (person_id, week)
);
