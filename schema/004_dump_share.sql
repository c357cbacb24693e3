-- 004_dump_share.sql - copies of raw dumps on the fleet's dump share (fleet.dump_share, docs/fleet.md).
-- share_files lists exactly the files this service wrote there (or tried to): the copy's path goes into
-- the dump's fleet snapshot ("share_path"), and retries and the share's retention work from this list, so
-- nothing else on the share is ever deleted. A table of its own, like dump_identity, so the local
-- `show --json` (SELECT * FROM dumps) is unchanged. Written by core/store_share.c.

CREATE TABLE share_files (
	dump_id     INTEGER PRIMARY KEY REFERENCES dumps(id) ON DELETE CASCADE,
	state       TEXT NOT NULL CHECK (state IN ('copied', 'failed')),
	path        TEXT,                      -- the copy's full path, when copied
	written_at  INTEGER,                   -- when it was copied (ms since the epoch)
	attempts    INTEGER NOT NULL DEFAULT 0, -- failed attempts since the last success
	last_error  TEXT,
	updated_at  INTEGER NOT NULL
);
CREATE INDEX share_files_state ON share_files (state, written_at);
