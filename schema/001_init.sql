-- 001_init.sql - the first dumpscout schema: dumps and their queue state, triage, analyses with
-- contexts and root chains, crash and root-signature buckets, the mail outbox and the service status.
-- Applied by core/store.c inside one transaction; PRAGMA user_version is set by the store, not here.
-- Every table and column is described in docs/schema.md. Times are INTEGER milliseconds since the
-- Unix epoch (UTC) unless the column name says otherwise (mtime_ns). Addresses are TEXT "0x..." (they
-- do not fit SQLite's signed 64-bit integers). Enumerations are TEXT with a CHECK.

-- Buckets come first: dumps, roots and the outbox refer to them.
CREATE TABLE buckets (
	id          INTEGER PRIMARY KEY,
	kind        TEXT NOT NULL CHECK (kind IN ('crash', 'root')),
	key         TEXT NOT NULL,
	title       TEXT NOT NULL,
	first_seen  INTEGER NOT NULL,
	last_seen   INTEGER NOT NULL,
	count       INTEGER NOT NULL DEFAULT 0 CHECK (count >= 0),
	UNIQUE (kind, key)
);
CREATE INDEX buckets_kind_count ON buckets (kind, count DESC);
CREATE INDEX buckets_kind_last_seen ON buckets (kind, last_seen DESC);
CREATE INDEX buckets_first_seen ON buckets (first_seen);

CREATE TABLE dumps (
	id               INTEGER PRIMARY KEY,
	path             TEXT NOT NULL,
	file_name        TEXT NOT NULL,
	size             INTEGER NOT NULL CHECK (size >= 0),
	mtime_ns         INTEGER NOT NULL,
	discovered_at    INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL,
	sha256           TEXT CHECK (sha256 IS NULL OR length(sha256) = 64),
	state            TEXT NOT NULL DEFAULT 'discovered'
	                 CHECK (state IN ('discovered', 'triaged', 'analyzing', 'done', 'failed', 'unsupported')),
	attempts         INTEGER NOT NULL DEFAULT 0,
	next_attempt_at  INTEGER NOT NULL DEFAULT 0,
	lease_until      INTEGER,
	last_error       TEXT,
	duplicate_of     INTEGER REFERENCES dumps (id) ON DELETE SET NULL,
	replaced_at      INTEGER,
	replaced_by      INTEGER REFERENCES dumps (id) ON DELETE SET NULL,
	deleted_at       INTEGER,
	-- triage (NULL until recorded)
	triaged_at       INTEGER,
	app              TEXT,
	format           TEXT,
	writer           TEXT,
	os               TEXT,
	os_version       TEXT,
	arch             TEXT,
	pid              INTEGER,
	process_name     TEXT,
	app_version      TEXT,
	command_line     TEXT,
	dump_time        INTEGER,
	exception_code   INTEGER,
	exception_name   TEXT,
	exception_address TEXT,
	fault_address    TEXT,
	crashing_thread  INTEGER,
	thread_count     INTEGER,
	module_count     INTEGER,
	runtime_name     TEXT,
	runtime_version  TEXT,
	has_heap         INTEGER CHECK (has_heap IS NULL OR has_heap IN (0, 1)),
	crash_bucket_id  INTEGER REFERENCES buckets (id),
	triage_json      TEXT,
	-- analysis summary, kept in step with the analyses row by the store
	has_leak         INTEGER NOT NULL DEFAULT 0 CHECK (has_leak IN (0, 1))
);
-- One live row per path; a replaced file keeps its old row (replaced_at set) for history.
CREATE UNIQUE INDEX dumps_path_live ON dumps (path) WHERE replaced_at IS NULL;
CREATE INDEX dumps_discovered ON dumps (discovered_at DESC, id DESC);
CREATE INDEX dumps_app_discovered ON dumps (app, discovered_at DESC, id DESC);
CREATE INDEX dumps_state_discovered ON dumps (state, discovered_at DESC, id DESC);
CREATE INDEX dumps_state_due ON dumps (state, next_attempt_at);
CREATE INDEX dumps_crash_bucket ON dumps (crash_bucket_id, discovered_at DESC);
CREATE INDEX dumps_leak ON dumps (discovered_at DESC, id DESC) WHERE has_leak = 1;
CREATE INDEX dumps_sha256 ON dumps (sha256) WHERE sha256 IS NOT NULL;
CREATE INDEX dumps_duplicate_of ON dumps (duplicate_of) WHERE duplicate_of IS NOT NULL;
-- Covering indexes: retention and `status` (present raw files), `report` (counts by day/state/app).
CREATE INDEX dumps_raw ON dumps (discovered_at, size) WHERE deleted_at IS NULL;
CREATE INDEX dumps_report ON dumps (discovered_at, app, state, has_leak);

CREATE TABLE analyses (
	id                 INTEGER PRIMARY KEY,
	dump_id            INTEGER NOT NULL UNIQUE REFERENCES dumps (id) ON DELETE CASCADE,
	engine             TEXT NOT NULL,
	engine_version     TEXT,
	status             TEXT NOT NULL
	                   CHECK (status IN ('ok', 'timeout', 'engine_missing', 'no_dac', 'unsupported_host',
	                                     'failed', 'parse_error')),
	started_at         INTEGER NOT NULL,
	finished_at        INTEGER NOT NULL,
	duration_ms        INTEGER NOT NULL,
	error              TEXT,
	exception_type     TEXT,
	exception_message  TEXT,
	result_json        TEXT
);

CREATE TABLE contexts (
	id                INTEGER PRIMARY KEY,
	analysis_id       INTEGER NOT NULL REFERENCES analyses (id) ON DELETE CASCADE,
	ordinal           INTEGER NOT NULL,
	name              TEXT,
	loader_allocator  TEXT,
	state             TEXT,
	UNIQUE (analysis_id, ordinal)
);

CREATE TABLE roots (
	id                   INTEGER PRIMARY KEY,
	context_id           INTEGER NOT NULL REFERENCES contexts (id) ON DELETE CASCADE,
	dump_id              INTEGER NOT NULL REFERENCES dumps (id) ON DELETE CASCADE,
	ordinal              INTEGER NOT NULL,
	kind                 TEXT NOT NULL,
	culprit              TEXT,
	signature            TEXT NOT NULL,
	probable_false_root  INTEGER NOT NULL DEFAULT 0 CHECK (probable_false_root IN (0, 1)),
	thread               INTEGER,
	frame                TEXT,
	catalogue_id         TEXT,
	chain_text           TEXT,
	chain_json           TEXT,
	bucket_id            INTEGER REFERENCES buckets (id),
	UNIQUE (context_id, ordinal)
);
CREATE INDEX roots_bucket ON roots (bucket_id);
CREATE INDEX roots_dump ON roots (dump_id);

-- Which dumps are in which bucket: a dump counts once per bucket however often it is recorded.
CREATE TABLE dump_buckets (
	dump_id    INTEGER NOT NULL REFERENCES dumps (id) ON DELETE CASCADE,
	bucket_id  INTEGER NOT NULL REFERENCES buckets (id) ON DELETE CASCADE,
	app        TEXT NOT NULL,
	seen_at    INTEGER NOT NULL,
	PRIMARY KEY (dump_id, bucket_id)
) WITHOUT ROWID;
CREATE INDEX dump_buckets_bucket ON dump_buckets (bucket_id, seen_at DESC);
CREATE INDEX dump_buckets_seen ON dump_buckets (seen_at);

CREATE TABLE bucket_apps (
	bucket_id   INTEGER NOT NULL REFERENCES buckets (id) ON DELETE CASCADE,
	app         TEXT NOT NULL,
	first_seen  INTEGER NOT NULL,
	last_seen   INTEGER NOT NULL,
	count       INTEGER NOT NULL DEFAULT 0 CHECK (count >= 0),
	PRIMARY KEY (bucket_id, app)
) WITHOUT ROWID;
CREATE INDEX bucket_apps_top ON bucket_apps (bucket_id, count DESC, app);

CREATE TABLE outbox (
	id               INTEGER PRIMARY KEY,
	kind             TEXT NOT NULL CHECK (kind IN ('digest', 'alert', 'test')),
	dedupe_key       TEXT UNIQUE,
	created_at       INTEGER NOT NULL,
	message_id       TEXT NOT NULL UNIQUE,
	subject          TEXT NOT NULL,
	to_addrs         TEXT NOT NULL,
	body_text        TEXT,
	body_html        TEXT,
	mime             TEXT,
	bucket_id        INTEGER REFERENCES buckets (id) ON DELETE SET NULL,
	state            TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sending', 'sent', 'failed')),
	attempts         INTEGER NOT NULL DEFAULT 0,
	next_attempt_at  INTEGER NOT NULL DEFAULT 0,
	last_error       TEXT,
	sent_at          INTEGER
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at, id);

-- The single row (id = 1) the service keeps up to date; the CLI's `status` reads it.
CREATE TABLE service_status (
	id               INTEGER PRIMARY KEY CHECK (id = 1),
	version          TEXT,
	pid              INTEGER,
	hostname         TEXT,
	started_at       INTEGER,
	heartbeat_at     INTEGER,
	config_json      TEXT,
	collection_json  TEXT,
	last_error       TEXT,
	last_error_at    INTEGER
);

-- Small named values the service keeps across restarts (e.g. when the last digest was mailed).
CREATE TABLE service_kv (
	key         TEXT PRIMARY KEY,
	value       TEXT,
	updated_at  INTEGER NOT NULL
) WITHOUT ROWID;
