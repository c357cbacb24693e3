-- 003_fleet_outbox.sql - the fleet outbox (docs/fleet.md): what this service still has to publish to the
-- central PostgreSQL. A row is written by core/store_fleet.c in the same transaction that records a
-- dump's triage or analysis, holding a snapshot of the dump (triage fields, crash bucket, analysis with
-- contexts and roots) as JSON under a fresh event UUID; it is deleted only after PostgreSQL committed it.
-- Rows are written only while fleet_state.enabled (the service sets it from the "fleet" config section).

CREATE TABLE fleet_outbox (
	id          INTEGER PRIMARY KEY,
	event_id    TEXT NOT NULL UNIQUE CHECK (length(event_id) = 36),
	dump_id     INTEGER NOT NULL,
	created_at  INTEGER NOT NULL,
	payload     TEXT NOT NULL,
	attempts    INTEGER NOT NULL DEFAULT 0
);

-- The single row (id = 1): whether publishing is on, the backlog bound, and what the publisher did.
CREATE TABLE fleet_state (
	id             INTEGER PRIMARY KEY CHECK (id = 1),
	enabled        INTEGER NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),
	max_backlog    INTEGER NOT NULL DEFAULT 100000 CHECK (max_backlog > 0),
	-- the lowest dump id whose snapshot was not written because the backlog was full (NULL: none);
	-- the publisher writes fresh snapshots of it and every later dump once the backlog has room
	overflow_from  INTEGER,
	overflowed     INTEGER NOT NULL DEFAULT 0,
	sent           INTEGER NOT NULL DEFAULT 0,
	last_sent_at   INTEGER,
	last_error     TEXT,
	last_error_at  INTEGER
);
INSERT INTO fleet_state (id) VALUES (1);
