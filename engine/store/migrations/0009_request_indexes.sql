-- What every /recommend reads, answered from indexes alone (see tests/test_store.py, which EXPLAINs them):
-- a person's shows with their latest play (the co-watching input and the exclusion) without touching the plays
-- table itself; the older (person_id, show_id) index is a prefix of this one.
CREATE INDEX plays_person_show_time ON plays(person_id, show_id, watched_at);
DROP INDEX plays_person_show;
