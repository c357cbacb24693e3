-- 002_file_identity.sql - the identity of each dump file as triage opened it (docs/service.md "File
-- identity"): "DEV:INO:SIZE:MTIME_NS" (Windows: volume serial, file index). Only a dump that triage read
-- as a dump has one; retention deletes nothing else, and re-checks it right before the unlink. A table of
-- its own so `show --json` (SELECT * FROM dumps) does not print machine-specific numbers.
CREATE TABLE dump_identity (
	dump_id  INTEGER PRIMARY KEY REFERENCES dumps (id) ON DELETE CASCADE,
	file_id  TEXT NOT NULL
);
