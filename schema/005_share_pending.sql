-- 005_share_pending.sql - a copy to the fleet's dump share is made off the service's loop thread, after
-- the dump's triage is recorded: the triage's transaction now also records that the copy is wanted
-- ('pending'), so a copy cut short by a stop or a crash is made by the next start. SQLite cannot change a
-- CHECK constraint in place: the table is made again with the new state and its rows copied.
-- Written by core/store_share.c.

CREATE TABLE share_files_005 (
	dump_id     INTEGER PRIMARY KEY REFERENCES dumps(id) ON DELETE CASCADE,
	state       TEXT NOT NULL CHECK (state IN ('pending', 'copied', 'failed')),
	path        TEXT,                      -- the copy's full path, when copied
	written_at  INTEGER,                   -- when it was copied (ms since the epoch)
	attempts    INTEGER NOT NULL DEFAULT 0, -- failed attempts since the last success
	last_error  TEXT,
	updated_at  INTEGER NOT NULL
);
INSERT INTO share_files_005 (dump_id, state, path, written_at, attempts, last_error, updated_at)
	SELECT dump_id, state, path, written_at, attempts, last_error, updated_at FROM share_files;
DROP TABLE share_files;
ALTER TABLE share_files_005 RENAME TO share_files;
CREATE INDEX share_files_state ON share_files (state, written_at);
