-- A large import is written in chunks (other people's requests use the store between them) into this staging
-- table, then moved into plays in one statement: the person's history gets all of the file or none of it.
CREATE TABLE import_staging (
    import_id     TEXT NOT NULL,
    person_id     INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    play_key      TEXT NOT NULL,
    show_id       INTEGER NOT NULL REFERENCES shows(id),
    season        INTEGER NOT NULL,
    episode       INTEGER,
    episode_title TEXT,
    watched_at    TEXT NOT NULL,
    history_id    INTEGER,
    action        TEXT,
    source        TEXT NOT NULL
);
CREATE INDEX import_staging_import ON import_staging(import_id);
