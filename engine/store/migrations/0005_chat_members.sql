-- People seen using the bot in a group chat (Telegram groups, Discord servers): who a group watch can include
CREATE TABLE chat_members (
    platform  TEXT NOT NULL,
    chat_id   TEXT NOT NULL,
    person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    seen_at   TEXT NOT NULL,
    PRIMARY KEY (platform, chat_id, person_id)
) WITHOUT ROWID;
