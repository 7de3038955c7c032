-- Group picks are opted into per group chat / server ("/settings group:on" said there), not globally: a person
-- is paired only with people who opted in where the group watch is asked. Those who had opted in globally keep
-- it in the chats they were seen in.
ALTER TABLE chat_members ADD COLUMN opted_in INTEGER NOT NULL DEFAULT 0;
UPDATE chat_members SET opted_in = 1 WHERE person_id IN (
    SELECT id FROM people WHERE settings LIKE '%"group_opt_in":true%' OR settings LIKE '%"group_opt_in": true%');
