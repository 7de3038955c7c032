PRAGMA user_version=7;
BEGIN TRANSACTION;
CREATE TABLE adoptions (
    event_id   INTEGER PRIMARY KEY REFERENCES rec_events(id) ON DELETE CASCADE,
    person_id  INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    state      TEXT NOT NULL,          -- started | finished
    episodes   INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
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
CREATE TABLE api_cache (
    key         TEXT PRIMARY KEY,
    body        TEXT NOT NULL,
    fetched_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE TABLE chat_members (
    platform  TEXT NOT NULL,
    chat_id   TEXT NOT NULL,
    person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    seen_at   TEXT NOT NULL,
    PRIMARY KEY (platform, chat_id, person_id)
) WITHOUT ROWID;
CREATE TABLE digests (
    person_id   INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    week        TEXT NOT NULL,            -- ISO year-week, e.g. 2026-W48, in the person's time zone
    status      TEXT NOT NULL,            -- sending | sent | skipped
    sent_at     TEXT,
    destination TEXT,
    PRIMARY KEY (person_id, week)
);
CREATE TABLE dismissed (
    person_id  INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    show_id    INTEGER NOT NULL REFERENCES shows(id),
    at         TEXT NOT NULL,
    reason     TEXT,
    PRIMARY KEY (person_id, show_id)
) WITHOUT ROWID;
CREATE TABLE feedback (
    person_id  INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    event_id   INTEGER NOT NULL REFERENCES rec_events(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,          -- liked | not_for_me | seen | watchlist
    active     INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (person_id, event_id, kind)
) WITHOUT ROWID;
INSERT INTO "feedback" VALUES(1,1,'liked',1,'2026-11-24T09:00:00.000Z');
CREATE TABLE hidden (
    person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    show_id   INTEGER NOT NULL REFERENCES shows(id),
    kind      TEXT NOT NULL,         -- dropped | hidden
    hidden_at TEXT,
    PRIMARY KEY (person_id, show_id, kind)
) WITHOUT ROWID;
CREATE TABLE identities (
    platform         TEXT NOT NULL,   -- discord | telegram | console
    platform_user_id TEXT NOT NULL,
    person_id        INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    created_at       TEXT NOT NULL,
    PRIMARY KEY (platform, platform_user_id)
);
INSERT INTO "identities" VALUES('telegram','1',1,'2026-11-24T09:00:00.000Z');
CREATE TABLE people (
    id            INTEGER PRIMARY KEY,
    display_name  TEXT,
    created_at    TEXT NOT NULL,
    timezone      TEXT,
    trakt_user    TEXT,            -- Trakt username/slug once linked
    trakt_vip     INTEGER NOT NULL DEFAULT 0,
    watchlist_limit INTEGER,
    settings      TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO "people" VALUES(1,'Ann','2026-11-24T09:00:00.000Z',NULL,NULL,0,NULL,'{}');
CREATE TABLE persona_state (
    person_id   INTEGER PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL,
    computed_at TEXT NOT NULL,
    report      TEXT NOT NULL
);
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
CREATE TABLE plays (
    person_id   INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    play_key    TEXT NOT NULL,       -- 'trakt:<history id>' or 'import:<source>:…' : de-duplication key
    show_id     INTEGER NOT NULL REFERENCES shows(id),
    season      INTEGER NOT NULL,
    episode     INTEGER,             -- NULL when an import knows only the episode title
    episode_title TEXT,
    watched_at  TEXT NOT NULL,
    history_id  INTEGER,
    action      TEXT,
    source      TEXT NOT NULL,       -- trakt | trakt-export | netflix | sample
    PRIMARY KEY (person_id, play_key)
) WITHOUT ROWID;
INSERT INTO "plays" VALUES(1,'trakt:1',1,1,1,NULL,'2026-11-24T09:00:00.000Z',1,NULL,'trakt');
CREATE TABLE ratings (
    person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    show_id   INTEGER NOT NULL REFERENCES shows(id),
    rating    INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 10),
    rated_at  TEXT,
    PRIMARY KEY (person_id, show_id)
) WITHOUT ROWID;
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
INSERT INTO "rec_events" VALUES(1,1,1,'r1','blend',NULL,'["trending"]',1,'auto',0.5,'why',0,'2026-11-24T09:00:00.000Z','telegram',NULL);
CREATE TABLE shows (
    id             INTEGER PRIMARY KEY,
    trakt_id       INTEGER UNIQUE,
    tmdb_id        INTEGER UNIQUE,
    imdb_id        TEXT UNIQUE,
    tvdb_id        INTEGER,
    slug           TEXT,
    title          TEXT NOT NULL,
    year           INTEGER,
    aired_episodes INTEGER,          -- from Trakt: episodes that have aired (never announced counts)
    trakt_updated_at TEXT,
    meta           TEXT,             -- normalised TMDB (+OMDb) metadata, JSON
    meta_fetched_at TEXT,
    meta_expires_at TEXT
);
INSERT INTO "shows" VALUES(1,9,NULL,NULL,NULL,NULL,'T',NULL,NULL,NULL,NULL,NULL,NULL);
CREATE TABLE sync_state (
    person_id       INTEGER PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
    activities      TEXT NOT NULL DEFAULT '{}',   -- section -> timestamp already synced
    history_cursor  TEXT,                         -- newest watched_at fully synced
    job             TEXT,                         -- JSON of an unfinished history job (resume point)
    lease_owner     TEXT,
    lease_until     TEXT,
    last_started_at TEXT,
    last_finished_at TEXT,
    last_error      TEXT
);
CREATE TABLE trakt_show_state (
    person_id       INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    trakt_id        INTEGER NOT NULL,
    plays           INTEGER NOT NULL,
    last_updated_at TEXT,
    PRIMARY KEY (person_id, trakt_id)
) WITHOUT ROWID;
CREATE TABLE trakt_tokens (
    person_id   INTEGER PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
    ciphertext  BLOB NOT NULL,
    expires_at  TEXT NOT NULL,
    generation  INTEGER NOT NULL DEFAULT 1,
    updated_at  TEXT NOT NULL
);
CREATE TABLE watchlist (
    person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    show_id   INTEGER NOT NULL REFERENCES shows(id),
    listed_at TEXT,
    PRIMARY KEY (person_id, show_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX people_trakt_user ON people(trakt_user) WHERE trakt_user IS NOT NULL;
CREATE INDEX identities_person ON identities(person_id);
CREATE INDEX plays_person_show ON plays(person_id, show_id);
CREATE INDEX plays_person_time ON plays(person_id, watched_at);
CREATE INDEX personas_person ON personas(person_id, active);
CREATE INDEX rec_events_person ON rec_events(person_id, shown_at);
CREATE INDEX rec_events_message ON rec_events(platform, message_ref);
CREATE INDEX alerts_due ON alerts(status, due_at);
COMMIT;
