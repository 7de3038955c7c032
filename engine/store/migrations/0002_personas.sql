-- Personas: stable identities across recomputations (feedback and alerts point at persona ids)
CREATE TABLE personas (
    id             INTEGER PRIMARY KEY,
    person_id      INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    weight         REAL NOT NULL,
    medoid_show_id INTEGER REFERENCES shows(id),
    members        TEXT NOT NULL,      -- JSON {show_id: engagement weight}
    centroid       BLOB,               -- float32 feature centroid at the last computation
    active         INTEGER NOT NULL DEFAULT 1,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX personas_person ON personas(person_id, active);

-- The last computed report, and the history fingerprint it was computed from
CREATE TABLE persona_state (
    person_id   INTEGER PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL,
    computed_at TEXT NOT NULL,
    report      TEXT NOT NULL
);
