-- Named leases across processes (issue 15): the scheduler's fixed jobs run in one process at a time, the one that
-- holds the "scheduler" lease; it renews it at every job it runs, and another process takes over once it lapses.
CREATE TABLE leases (
    name   TEXT PRIMARY KEY,
    owner  TEXT NOT NULL,
    until  TEXT NOT NULL
);
