-- Group-watch votes: every member of a group pick votes on each pick (one vote per person and pick, changeable).
CREATE TABLE group_votes (
    request_id TEXT NOT NULL,
    rank       INTEGER NOT NULL,
    person_id  INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    up         INTEGER NOT NULL,
    voted_at   TEXT NOT NULL,
    PRIMARY KEY (request_id, rank, person_id)
);
