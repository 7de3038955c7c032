-- Ids are never reused: PostgreSQL's identity columns never hand out a number twice, so the table rebuild SQLite
-- needs for AUTOINCREMENT (migrations/0008_ids_never_reused.sql) has nothing to do here.
SELECT 1;
