-- A show row an upload created holds what a file said (ids, title): it stays unverified until a trusted source
-- (Trakt, TMDB, the bundled catalogue) names the show, which then replaces those fields. Links, watchlist writes
-- and outside look-ups use only verified ids. Rows from before this migration came from trusted sources or were
-- checked against them at import; they count as verified.
ALTER TABLE shows ADD COLUMN verified INTEGER NOT NULL DEFAULT 1;
