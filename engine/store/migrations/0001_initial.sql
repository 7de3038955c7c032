-- People and how they reach us
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
CREATE UNIQUE INDEX people_trakt_user ON people(trakt_user) WHERE trakt_user IS NOT NULL;

CREATE TABLE identities (
    platform         TEXT NOT NULL,   -- discord | telegram | console
    platform_user_id TEXT NOT NULL,
    person_id        INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    created_at       TEXT NOT NULL,
    PRIMARY KEY (platform, platform_user_id)
);
CREATE INDEX identities_person ON identities(person_id);

-- OAuth tokens, encrypted (Fernet) as one JSON blob: access, refresh, created_at, expires_in
CREATE TABLE trakt_tokens (
    person_id   INTEGER PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
    ciphertext  BLOB NOT NULL,
    expires_at  TEXT NOT NULL,
    generation  INTEGER NOT NULL DEFAULT 1,
    updated_at  TEXT NOT NULL
);

-- Shows: one row per real show, whatever id a source knows it by
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
CREATE INDEX plays_person_show ON plays(person_id, show_id);
CREATE INDEX plays_person_time ON plays(person_id, watched_at);

CREATE TABLE ratings (
    person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    show_id   INTEGER NOT NULL REFERENCES shows(id),
    rating    INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 10),
    rated_at  TEXT,
    PRIMARY KEY (person_id, show_id)
) WITHOUT ROWID;

CREATE TABLE watchlist (
    person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    show_id   INTEGER NOT NULL REFERENCES shows(id),
    listed_at TEXT,
    PRIMARY KEY (person_id, show_id)
) WITHOUT ROWID;

CREATE TABLE hidden (
    person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    show_id   INTEGER NOT NULL REFERENCES shows(id),
    kind      TEXT NOT NULL,         -- dropped | hidden
    hidden_at TEXT,
    PRIMARY KEY (person_id, show_id, kind)
) WITHOUT ROWID;

-- Incremental sync: last_activities per section, resumable job state, a lease so one sync runs per person
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

-- What /sync/watched/shows said per show at the last sync (play count, last_updated_at)
CREATE TABLE trakt_show_state (
    person_id       INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    trakt_id        INTEGER NOT NULL,
    plays           INTEGER NOT NULL,
    last_updated_at TEXT,
    PRIMARY KEY (person_id, trakt_id)
) WITHOUT ROWID;

-- Generic HTTP response cache (TMDB, OMDb, Trakt public lists)
CREATE TABLE api_cache (
    key         TEXT PRIMARY KEY,
    body        TEXT NOT NULL,
    fetched_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
