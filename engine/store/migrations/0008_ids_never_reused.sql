-- rebuilds tables
-- Ids are never reused: a person created after another was forgotten must not inherit anything that still
-- points at the old id (a pending link, a message reference, a cached answer). SQLite reuses the largest rowid
-- after a delete unless the key is AUTOINCREMENT, which needs the table rebuilt (SQLite's 12-step recipe; the
-- runner turns foreign keys off around this migration and checks them before committing).
CREATE TABLE people_new (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    display_name  TEXT,
    created_at    TEXT NOT NULL,
    timezone      TEXT,
    trakt_user    TEXT,
    trakt_vip     INTEGER NOT NULL DEFAULT 0,
    watchlist_limit INTEGER,
    settings      TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO people_new(id, display_name, created_at, timezone, trakt_user, trakt_vip, watchlist_limit, settings)
    SELECT id, display_name, created_at, timezone, trakt_user, trakt_vip, watchlist_limit, settings FROM people;
DROP TABLE people;
ALTER TABLE people_new RENAME TO people;
CREATE UNIQUE INDEX people_trakt_user ON people(trakt_user) WHERE trakt_user IS NOT NULL;

CREATE TABLE personas_new (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id      INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    weight         REAL NOT NULL,
    medoid_show_id INTEGER REFERENCES shows(id),
    members        TEXT NOT NULL,
    centroid       BLOB,
    active         INTEGER NOT NULL DEFAULT 1,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
INSERT INTO personas_new SELECT id, person_id, name, description, weight, medoid_show_id, members, centroid, active,
    created_at, updated_at FROM personas;
DROP TABLE personas;
ALTER TABLE personas_new RENAME TO personas;
CREATE INDEX personas_person ON personas(person_id, active);

CREATE TABLE rec_events_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id   INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    show_id     INTEGER NOT NULL REFERENCES shows(id),
    request_id  TEXT NOT NULL,
    strategy    TEXT NOT NULL,
    persona_id  INTEGER,
    sources     TEXT NOT NULL,
    rank        INTEGER NOT NULL,
    mode        TEXT NOT NULL,
    score       REAL,
    reason      TEXT,
    llm         INTEGER NOT NULL DEFAULT 0,
    shown_at    TEXT NOT NULL,
    platform    TEXT,
    message_ref TEXT
);
INSERT INTO rec_events_new SELECT id, person_id, show_id, request_id, strategy, persona_id, sources, rank, mode, score,
    reason, llm, shown_at, platform, message_ref FROM rec_events;
DROP TABLE rec_events;
ALTER TABLE rec_events_new RENAME TO rec_events;
CREATE INDEX rec_events_person ON rec_events(person_id, shown_at);
CREATE INDEX rec_events_message ON rec_events(platform, message_ref);
CREATE INDEX rec_events_request ON rec_events(request_id);

CREATE TABLE alerts_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id   INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    show_id     INTEGER NOT NULL REFERENCES shows(id),
    season      INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    event_at    TEXT NOT NULL,
    due_at      TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    payload     TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending',
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    sent_at     TEXT,
    destination TEXT,
    message_ref TEXT,
    note        TEXT,
    UNIQUE (person_id, show_id, season, kind)
);
INSERT INTO alerts_new SELECT id, person_id, show_id, season, kind, event_at, due_at, expires_at, payload, status,
    attempts, created_at, sent_at, destination, message_ref, note FROM alerts;
DROP TABLE alerts;
ALTER TABLE alerts_new RENAME TO alerts;
CREATE INDEX alerts_due ON alerts(status, due_at);

-- feedback and adoption are read per event (success rates, the bandit, exclusion)
CREATE INDEX feedback_event ON feedback(event_id, kind, active);
