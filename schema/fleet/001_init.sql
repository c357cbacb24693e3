-- 001_init.sql - the central fleet schema (PostgreSQL 15+), applied by `dumpscout fleet init` in one
-- transaction (core/fleetdb.c records the version in fleet.schema_version). Everything lives in the
-- schema "fleet". Agents publish through fleet.ingest() only; people, dashboards and the CLI read the
-- tables, the documented views (fleet.v_*) and the api_* functions. docs/fleet.md describes it all.
--
-- Identity: hosts are random UUIDs made by each agent once; a dump's UUID is derived from (host, the
-- agent's local dump id) by fleet.dump_uuid, so every replay of it lands on the same row. Buckets are
-- fleet-wide and keyed by (kind, key): the same crash on two machines is one bucket. Times are bigint
-- milliseconds since the Unix epoch (UTC), like the agents' SQLite; the views add timestamptz columns.
-- dumps and seq numbers: `seq` is a short number for people (`dumpscout --fleet show 42`).

CREATE SCHEMA IF NOT EXISTS fleet;

DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dumpscout_ingest') THEN
		CREATE ROLE dumpscout_ingest NOLOGIN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dumpscout_read') THEN
		CREATE ROLE dumpscout_read NOLOGIN;
	END IF;
END $$;

CREATE TABLE fleet.hosts (
	id          uuid PRIMARY KEY,
	hostname    text NOT NULL,
	os          text,
	version     text,
	first_seen  bigint NOT NULL,
	last_seen   bigint NOT NULL,
	backlog     bigint NOT NULL DEFAULT 0,   -- the agent's unsent snapshots when it last called in
	overflowed  bigint NOT NULL DEFAULT 0,   -- snapshots its bounded outbox had to defer (resynced later)
	dumps       bigint NOT NULL DEFAULT 0,
	events      bigint NOT NULL DEFAULT 0    -- snapshots applied
);
CREATE INDEX hosts_hostname ON fleet.hosts (hostname);

-- Every applied event (one outbox row of an agent): the exactly-once ledger.
CREATE TABLE fleet.ingested (
	event_id    uuid PRIMARY KEY,
	host_id     uuid NOT NULL,
	dump_id     uuid NOT NULL,
	applied_at  bigint NOT NULL
);

CREATE TABLE fleet.buckets (
	id          uuid PRIMARY KEY,
	seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
	kind        text NOT NULL CHECK (kind IN ('crash', 'root')),
	key         text NOT NULL,
	title       text NOT NULL,
	first_seen  bigint NOT NULL,
	last_seen   bigint NOT NULL,
	count       bigint NOT NULL DEFAULT 0 CHECK (count >= 0),
	alerted     boolean NOT NULL DEFAULT false,   -- a fleet alert covered it (fleet.alert_claim)
	UNIQUE (kind, key)
);
CREATE INDEX buckets_unalerted ON fleet.buckets (seq) WHERE NOT alerted;
CREATE INDEX buckets_kind_count ON fleet.buckets (kind, count DESC, seq);
CREATE INDEX buckets_kind_last ON fleet.buckets (kind, last_seen DESC, seq);
CREATE INDEX buckets_first ON fleet.buckets (first_seen DESC, seq);
CREATE INDEX buckets_count ON fleet.buckets (count DESC, seq);
CREATE INDEX buckets_last ON fleet.buckets (last_seen DESC, seq);

CREATE SEQUENCE fleet.dump_seq;

-- Dumps, by month of discovery (the partitions are made on demand by fleet.ingest: a fleet's dumps
-- grow with time, and old months are detached or dropped whole).
CREATE TABLE fleet.dumps (
	id                uuid NOT NULL,
	seq               bigint NOT NULL DEFAULT nextval('fleet.dump_seq'),
	host_id           uuid NOT NULL,
	local_id          bigint NOT NULL,
	path              text NOT NULL,
	file_name         text NOT NULL,
	size              bigint NOT NULL,
	sha256            text,
	discovered_at     bigint NOT NULL,
	updated_at        bigint,
	state             text NOT NULL,
	attempts          integer,
	last_error        text,
	deleted_at        bigint,
	triaged_at        bigint,
	app               text,
	format            text,
	writer            text,
	os                text,
	os_version        text,
	arch              text,
	pid               bigint,
	process_name      text,
	app_version       text,
	command_line      text,
	dump_time         bigint,
	exception_code    bigint,
	exception_name    text,
	exception_address text,
	fault_address     text,
	crashing_thread   bigint,
	thread_count      bigint,
	module_count      bigint,
	runtime_name      text,
	runtime_version   text,
	has_heap          boolean,
	has_leak          boolean NOT NULL DEFAULT false,
	crash_bucket_id   uuid,
	triage            jsonb,
	share_path        text,
	PRIMARY KEY (id, discovered_at)
) PARTITION BY RANGE (discovered_at);
CREATE INDEX dumps_time ON fleet.dumps (discovered_at DESC, seq DESC);
CREATE INDEX dumps_host_time ON fleet.dumps (host_id, discovered_at DESC, seq DESC);
CREATE INDEX dumps_app_time ON fleet.dumps (app, discovered_at DESC, seq DESC);
CREATE INDEX dumps_state_time ON fleet.dumps (state, discovered_at DESC, seq DESC);
CREATE INDEX dumps_bucket_time ON fleet.dumps (crash_bucket_id, discovered_at DESC, seq DESC);
CREATE INDEX dumps_leak_time ON fleet.dumps (discovered_at DESC, seq DESC) WHERE has_leak;
CREATE INDEX dumps_seq ON fleet.dumps (seq);

CREATE TABLE fleet.analyses (
	id                 uuid PRIMARY KEY,
	dump_id            uuid NOT NULL UNIQUE,
	host_id            uuid NOT NULL,
	engine             text NOT NULL,
	engine_version     text,
	status             text NOT NULL,
	started_at         bigint,
	finished_at        bigint,
	duration_ms        bigint,
	error              text,
	exception_type     text,
	exception_message  text,
	result             jsonb
);

CREATE TABLE fleet.contexts (
	id                uuid PRIMARY KEY,
	analysis_id       uuid NOT NULL REFERENCES fleet.analyses (id) ON DELETE CASCADE,
	dump_id           uuid NOT NULL,
	ordinal           integer NOT NULL,
	name              text,
	loader_allocator  text,
	state             text,
	UNIQUE (analysis_id, ordinal)
);

CREATE TABLE fleet.roots (
	id                   uuid PRIMARY KEY,
	context_id           uuid NOT NULL REFERENCES fleet.contexts (id) ON DELETE CASCADE,
	dump_id              uuid NOT NULL,
	host_id              uuid NOT NULL,
	ordinal              integer NOT NULL,
	kind                 text NOT NULL,
	culprit              text,
	signature            text NOT NULL,
	probable_false_root  boolean NOT NULL DEFAULT false,
	thread               bigint,
	frame                text,
	catalogue_id         text,
	chain_text           text,
	chain                jsonb,
	bucket_id            uuid REFERENCES fleet.buckets (id),
	UNIQUE (context_id, ordinal)
);
CREATE INDEX roots_bucket ON fleet.roots (bucket_id, context_id);
CREATE INDEX roots_dump ON fleet.roots (dump_id);

-- Which dumps are in which bucket (a dump counts once per bucket), with per-app and per-host counts.
CREATE TABLE fleet.dump_buckets (
	dump_id    uuid NOT NULL,
	bucket_id  uuid NOT NULL REFERENCES fleet.buckets (id),
	host_id    uuid NOT NULL,
	app        text NOT NULL,
	seen_at    bigint NOT NULL,
	PRIMARY KEY (dump_id, bucket_id)
);
CREATE INDEX dump_buckets_bucket ON fleet.dump_buckets (bucket_id, seen_at DESC);
CREATE INDEX dump_buckets_host ON fleet.dump_buckets (host_id, bucket_id, seen_at DESC);
CREATE INDEX dump_buckets_seen ON fleet.dump_buckets (seen_at);

CREATE TABLE fleet.bucket_apps (
	bucket_id   uuid NOT NULL REFERENCES fleet.buckets (id),
	app         text NOT NULL,
	first_seen  bigint NOT NULL,
	last_seen   bigint NOT NULL,
	count       bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (bucket_id, app)
);
CREATE INDEX bucket_apps_top ON fleet.bucket_apps (bucket_id, count DESC, app);

CREATE TABLE fleet.bucket_hosts (
	bucket_id   uuid NOT NULL REFERENCES fleet.buckets (id),
	host_id     uuid NOT NULL,
	first_seen  bigint NOT NULL,
	last_seen   bigint NOT NULL,
	count       bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (bucket_id, host_id)
);
CREATE INDEX bucket_hosts_host ON fleet.bucket_hosts (host_id, count DESC);

-- Fleet-wide mail: a digest period or a bucket alert is claimed once, by whichever agent holds the
-- sender lock (fleet.mail_claim), so a fleet sends one digest per period and one alert per new bucket.
CREATE TABLE fleet.mail_log (
	key         text PRIMARY KEY,
	host_id     uuid NOT NULL,
	claimed_at  bigint NOT NULL
);

-- ---- helpers ----

CREATE FUNCTION fleet.now_ms() RETURNS bigint LANGUAGE sql STABLE
AS $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint $$;

CREATE FUNCTION fleet.dump_uuid(p_host uuid, p_local bigint) RETURNS uuid LANGUAGE sql IMMUTABLE
AS $$ SELECT md5(p_host::text || '/dump/' || p_local::text)::uuid $$;

CREATE FUNCTION fleet.bucket_uuid(p_kind text, p_key text) RETURNS uuid LANGUAGE sql IMMUTABLE
AS $$ SELECT md5(p_kind || '/' || p_key)::uuid $$;

-- Makes the month partition of fleet.dumps that holds ms (UTC), once; concurrent callers wait on an
-- advisory lock so two agents never race on the same CREATE.
CREATE FUNCTION fleet.ensure_partition(p_ms bigint) RETURNS void LANGUAGE plpgsql
SET search_path = fleet, pg_temp
AS $$
DECLARE
	m timestamptz := date_trunc('month', to_timestamp(p_ms / 1000.0) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
	name text := 'dumps_' || to_char(m AT TIME ZONE 'UTC', 'YYYY_MM');
	lo bigint := (extract(epoch FROM m) * 1000)::bigint;
	hi bigint := (extract(epoch FROM m + interval '1 month') * 1000)::bigint;
BEGIN
	IF to_regclass('fleet.' || name) IS NOT NULL THEN
		RETURN;
	END IF;
	PERFORM pg_advisory_xact_lock(hashtext('fleet.ensure_partition'));
	-- another agent's transaction may have made it while this one waited for the lock
	BEGIN
		EXECUTE format('CREATE TABLE IF NOT EXISTS fleet.%I PARTITION OF fleet.dumps FOR VALUES FROM (%s) TO (%s)',
			name, lo, hi);
	EXCEPTION WHEN duplicate_table THEN
		NULL;
	END;
END $$;

-- Links a dump to a bucket once, keeping the bucket's, its apps' and its hosts' counts.
CREATE FUNCTION fleet.link(p_dump uuid, p_bucket uuid, p_host uuid, p_app text, p_seen bigint) RETURNS void
LANGUAGE plpgsql SET search_path = fleet, pg_temp
AS $$
BEGIN
	INSERT INTO dump_buckets (dump_id, bucket_id, host_id, app, seen_at)
	VALUES (p_dump, p_bucket, p_host, p_app, p_seen) ON CONFLICT DO NOTHING;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	UPDATE buckets SET count = count + 1, first_seen = least(first_seen, p_seen),
		last_seen = greatest(last_seen, p_seen) WHERE id = p_bucket;
	INSERT INTO bucket_apps AS a (bucket_id, app, first_seen, last_seen, count) VALUES (p_bucket, p_app, p_seen, p_seen, 1)
	ON CONFLICT (bucket_id, app) DO UPDATE SET count = a.count + 1, first_seen = least(a.first_seen, p_seen),
		last_seen = greatest(a.last_seen, p_seen);
	INSERT INTO bucket_hosts AS h (bucket_id, host_id, first_seen, last_seen, count) VALUES (p_bucket, p_host, p_seen, p_seen, 1)
	ON CONFLICT (bucket_id, host_id) DO UPDATE SET count = h.count + 1, first_seen = least(h.first_seen, p_seen),
		last_seen = greatest(h.last_seen, p_seen);
END $$;

CREATE FUNCTION fleet.unlink(p_dump uuid, p_bucket uuid) RETURNS void LANGUAGE plpgsql
SET search_path = fleet, pg_temp
AS $$
DECLARE l dump_buckets;
BEGIN
	DELETE FROM dump_buckets WHERE dump_id = p_dump AND bucket_id = p_bucket RETURNING * INTO l;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	UPDATE buckets SET count = count - 1 WHERE id = p_bucket;
	UPDATE bucket_apps SET count = count - 1 WHERE bucket_id = p_bucket AND app = l.app;
	DELETE FROM bucket_apps WHERE bucket_id = p_bucket AND app = l.app AND count <= 0;
	UPDATE bucket_hosts SET count = count - 1 WHERE bucket_id = p_bucket AND host_id = l.host_id;
	DELETE FROM bucket_hosts WHERE bucket_id = p_bucket AND host_id = l.host_id AND count <= 0;
END $$;

CREATE FUNCTION fleet.bucket_upsert(p_kind text, p_key text, p_title text, p_seen bigint) RETURNS uuid
LANGUAGE plpgsql SET search_path = fleet, pg_temp
AS $$
DECLARE b uuid := bucket_uuid(p_kind, p_key);
BEGIN
	INSERT INTO buckets (id, kind, key, title, first_seen, last_seen) VALUES (b, p_kind, p_key, p_title, p_seen, p_seen)
	ON CONFLICT (id) DO NOTHING;
	RETURN b;
END $$;

-- Applies one snapshot (an agent's fleet_outbox payload, schema/002_fleet_outbox.sql): the dump row
-- (inserted or brought up to date), its crash bucket, and its analysis (replaced when it differs).
CREATE FUNCTION fleet.apply_snapshot(p_host uuid, p_event uuid, d jsonb) RETURNS uuid LANGUAGE plpgsql
SET search_path = fleet, pg_temp
AS $$
DECLARE
	did uuid := dump_uuid(p_host, (d->>'local_id')::bigint);
	seen bigint := (d->>'discovered_at')::bigint;
	v_app text := coalesce(d->>'app', '');
	cb uuid;
	aid uuid;
	cid uuid;
	an jsonb := d->'analysis';
	c jsonb;
	r jsonb;
	rb uuid;
	old record;
	is_new boolean;
BEGIN
	PERFORM ensure_partition(seen);
	is_new := NOT EXISTS (SELECT 1 FROM dumps WHERE id = did AND discovered_at = seen);
	IF jsonb_typeof(d->'crash_bucket') = 'object' THEN
		cb := bucket_upsert('crash', d->'crash_bucket'->>'key', coalesce(d->'crash_bucket'->>'title', d->'crash_bucket'->>'key'), seen);
	END IF;
	INSERT INTO dumps (id, host_id, local_id, path, file_name, size, sha256, discovered_at, updated_at, state, attempts,
		last_error, deleted_at, triaged_at, app, format, writer, os, os_version, arch, pid, process_name, app_version,
		command_line, dump_time, exception_code, exception_name, exception_address, fault_address, crashing_thread,
		thread_count, module_count, runtime_name, runtime_version, has_heap, has_leak, crash_bucket_id, triage)
	VALUES (did, p_host, (d->>'local_id')::bigint, d->>'path', d->>'file_name', (d->>'size')::bigint, d->>'sha256', seen,
		(d->>'updated_at')::bigint, d->>'state', (d->>'attempts')::int, d->>'last_error', (d->>'deleted_at')::bigint,
		(d->>'triaged_at')::bigint, d->>'app', d->>'format', d->>'writer', d->>'os', d->>'os_version', d->>'arch',
		(d->>'pid')::bigint, d->>'process_name', d->>'app_version', d->>'command_line', (d->>'dump_time')::bigint,
		(d->>'exception_code')::bigint, d->>'exception_name', d->>'exception_address', d->>'fault_address',
		(d->>'crashing_thread')::bigint, (d->>'thread_count')::bigint, (d->>'module_count')::bigint,
		d->>'runtime_name', d->>'runtime_version', (d->>'has_heap')::int <> 0, coalesce((d->>'has_leak')::int, 0) <> 0,
		cb, d->'triage')
	ON CONFLICT (id, discovered_at) DO UPDATE SET updated_at = excluded.updated_at, state = excluded.state,
		attempts = excluded.attempts, last_error = excluded.last_error, deleted_at = excluded.deleted_at,
		triaged_at = excluded.triaged_at, app = excluded.app, format = excluded.format, writer = excluded.writer,
		os = excluded.os, os_version = excluded.os_version, arch = excluded.arch, pid = excluded.pid,
		process_name = excluded.process_name, app_version = excluded.app_version,
		command_line = excluded.command_line, dump_time = excluded.dump_time,
		exception_code = excluded.exception_code, exception_name = excluded.exception_name,
		exception_address = excluded.exception_address, fault_address = excluded.fault_address,
		crashing_thread = excluded.crashing_thread, thread_count = excluded.thread_count,
		module_count = excluded.module_count, runtime_name = excluded.runtime_name,
		runtime_version = excluded.runtime_version, has_heap = excluded.has_heap, has_leak = excluded.has_leak,
		crash_bucket_id = excluded.crash_bucket_id, triage = excluded.triage, sha256 = excluded.sha256;
	IF is_new THEN
		UPDATE hosts SET dumps = dumps + 1 WHERE id = p_host;
	END IF;
	-- the crash bucket: leave the old one when it changed, join the new one once
	FOR old IN SELECT l.bucket_id FROM dump_buckets l JOIN buckets b ON b.id = l.bucket_id
		WHERE l.dump_id = did AND b.kind = 'crash' AND (cb IS NULL OR l.bucket_id <> cb OR l.app <> v_app) LOOP
		PERFORM unlink(did, old.bucket_id);
	END LOOP;
	IF cb IS NOT NULL THEN
		PERFORM link(did, cb, p_host, v_app, seen);
	END IF;
	IF an IS NULL OR jsonb_typeof(an) <> 'object' THEN
		RETURN did;
	END IF;
	-- the analysis: replaced as a whole (the agent replaces it as a whole too)
	FOR old IN SELECT l.bucket_id FROM dump_buckets l JOIN buckets b ON b.id = l.bucket_id
		WHERE l.dump_id = did AND b.kind = 'root' LOOP
		PERFORM unlink(did, old.bucket_id);
	END LOOP;
	DELETE FROM analyses WHERE dump_id = did;
	aid := md5(p_event::text || '/analysis')::uuid;
	INSERT INTO analyses (id, dump_id, host_id, engine, engine_version, status, started_at, finished_at, duration_ms, error,
		exception_type, exception_message, result)
	VALUES (aid, did, p_host, an->>'engine', an->>'engine_version', an->>'status', (an->>'started_at')::bigint,
		(an->>'finished_at')::bigint, (an->>'duration_ms')::bigint, an->>'error', an->>'exception_type',
		an->>'exception_message', an->'result');
	FOR c IN SELECT * FROM jsonb_array_elements(CASE WHEN jsonb_typeof(an->'contexts') = 'array' THEN an->'contexts' ELSE '[]' END) LOOP
		cid := md5(aid::text || '/' || (c->>'ordinal'))::uuid;
		INSERT INTO contexts (id, analysis_id, dump_id, ordinal, name, loader_allocator, state)
		VALUES (cid, aid, did, (c->>'ordinal')::int, c->>'name', c->>'loader_allocator', c->>'state');
		FOR r IN SELECT * FROM jsonb_array_elements(CASE WHEN jsonb_typeof(c->'roots') = 'array' THEN c->'roots' ELSE '[]' END) LOOP
			rb := NULL;
			IF coalesce(r->>'signature', '') <> '' THEN
				rb := bucket_upsert('root', r->>'signature', coalesce(r->>'culprit', r->>'signature'), seen);
				PERFORM link(did, rb, p_host, v_app, seen);
			END IF;
			INSERT INTO roots (id, context_id, dump_id, host_id, ordinal, kind, culprit, signature, probable_false_root, thread,
				frame, catalogue_id, chain_text, chain, bucket_id)
			VALUES (md5(cid::text || '/' || (r->>'ordinal'))::uuid, cid, did, p_host, (r->>'ordinal')::int, r->>'kind',
				r->>'culprit', coalesce(r->>'signature', ''), coalesce((r->>'probable_false_root')::int, 0) <> 0,
				(r->>'thread')::bigint, r->>'frame', r->>'catalogue_id', r->>'chain_text', r->'chain', rb);
		END LOOP;
	END LOOP;
	RETURN did;
END $$;

-- The agents' one entry point. p_host_info: {"hostname", "os", "version", "backlog", "overflowed"};
-- p_events: [{"id": EVENT_UUID, "data": SNAPSHOT}, ...] in the agent's outbox order. An event already in
-- fleet.ingested is skipped, so a batch sent again after a lost reply changes nothing. Returns how many
-- events were applied. Runs as the schema's owner: the ingest role has no other right.
CREATE FUNCTION fleet.ingest(p_host uuid, p_host_info jsonb, p_events jsonb) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = fleet, pg_temp
AS $$
DECLARE
	ev jsonb;
	n integer := 0;
	t_now bigint := now_ms();
	did uuid;
BEGIN
	IF p_host IS NULL OR coalesce(p_host_info->>'hostname', '') = '' THEN
		RAISE EXCEPTION 'fleet.ingest: a host id and a hostname are required';
	END IF;
	INSERT INTO hosts AS h (id, hostname, os, version, first_seen, last_seen, backlog, overflowed)
	VALUES (p_host, p_host_info->>'hostname', p_host_info->>'os', p_host_info->>'version', t_now, t_now,
		coalesce((p_host_info->>'backlog')::bigint, 0), coalesce((p_host_info->>'overflowed')::bigint, 0))
	ON CONFLICT (id) DO UPDATE SET hostname = excluded.hostname, os = excluded.os, version = excluded.version,
		last_seen = excluded.last_seen, backlog = excluded.backlog, overflowed = excluded.overflowed;
	IF p_events IS NULL OR jsonb_typeof(p_events) <> 'array' THEN
		RETURN 0;
	END IF;
	FOR ev IN SELECT * FROM jsonb_array_elements(p_events) LOOP
		did := dump_uuid(p_host, (ev->'data'->>'local_id')::bigint);
		INSERT INTO ingested (event_id, host_id, dump_id, applied_at) VALUES ((ev->>'id')::uuid, p_host, did, t_now)
		ON CONFLICT DO NOTHING;
		IF FOUND THEN
			PERFORM apply_snapshot(p_host, (ev->>'id')::uuid, ev->'data');
			n := n + 1;
		END IF;
	END LOOP;
	UPDATE hosts SET events = events + n WHERE id = p_host;
	RETURN n;
END $$;

-- Claims a fleet-wide mail (a digest period, a bucket alert) for p_host; true only for the first claim.
CREATE FUNCTION fleet.mail_claim(p_host uuid, p_key text) RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER
SET search_path = fleet, pg_temp
AS $$
BEGIN
	INSERT INTO mail_log (key, host_id, claimed_at) VALUES (p_key, p_host, now_ms()) ON CONFLICT DO NOTHING;
	RETURN FOUND;
END $$;

-- ---- views for people and dashboards (times as timestamptz, host names joined) ----

CREATE VIEW fleet.v_hosts AS
SELECT h.id AS host_id, h.hostname, h.os, h.version, to_timestamp(h.first_seen / 1000.0) AS first_seen,
	to_timestamp(h.last_seen / 1000.0) AS last_seen, h.backlog, h.dumps, h.events
FROM fleet.hosts h;

CREATE VIEW fleet.v_dumps AS
SELECT d.seq AS id, d.id AS dump_uuid, h.hostname AS host, d.host_id, d.local_id, d.file_name, d.size,
	to_timestamp(d.discovered_at / 1000.0) AS discovered_at, d.state, d.app, d.process_name, d.pid, d.os, d.arch,
	to_timestamp(d.dump_time / 1000.0) AS dump_time, d.exception_name, d.exception_code, d.runtime_version,
	d.has_heap, d.has_leak, b.seq AS crash_bucket_id, b.title AS crash_bucket, d.share_path
FROM fleet.dumps d JOIN fleet.hosts h ON h.id = d.host_id LEFT JOIN fleet.buckets b ON b.id = d.crash_bucket_id;

CREATE VIEW fleet.v_buckets AS
SELECT b.seq AS id, b.kind, b.key, b.title, to_timestamp(b.first_seen / 1000.0) AS first_seen,
	to_timestamp(b.last_seen / 1000.0) AS last_seen, b.count,
	(SELECT count(*) FROM fleet.bucket_hosts bh WHERE bh.bucket_id = b.id) AS hosts,
	(SELECT count(*) FROM fleet.bucket_apps ba WHERE ba.bucket_id = b.id) AS apps
FROM fleet.buckets b;

CREATE VIEW fleet.v_bucket_hosts AS
SELECT b.seq AS bucket_id, b.kind, b.title, h.hostname AS host, bh.count, to_timestamp(bh.first_seen / 1000.0) AS first_seen,
	to_timestamp(bh.last_seen / 1000.0) AS last_seen
FROM fleet.bucket_hosts bh JOIN fleet.buckets b ON b.id = bh.bucket_id JOIN fleet.hosts h ON h.id = bh.host_id;

CREATE VIEW fleet.v_roots AS
SELECT d.seq AS dump_id, h.hostname AS host, r.kind, r.culprit, r.signature, r.probable_false_root, r.catalogue_id,
	b.seq AS bucket_id, c.name AS context, c.state AS context_state, to_timestamp(d.discovered_at / 1000.0) AS discovered_at
FROM fleet.roots r JOIN fleet.contexts c ON c.id = r.context_id JOIN fleet.dumps d ON d.id = r.dump_id
JOIN fleet.hosts h ON h.id = r.host_id LEFT JOIN fleet.buckets b ON b.id = r.bucket_id;

-- ---- rights ----

REVOKE ALL ON SCHEMA fleet FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA fleet FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA fleet FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA fleet FROM PUBLIC;
GRANT USAGE ON SCHEMA fleet TO dumpscout_ingest, dumpscout_read;
GRANT EXECUTE ON FUNCTION fleet.ingest(uuid, jsonb, jsonb), fleet.mail_claim(uuid, text) TO dumpscout_ingest;
GRANT SELECT ON ALL TABLES IN SCHEMA fleet TO dumpscout_read;
-- agents check the schema version before they publish
GRANT SELECT ON fleet.schema_version TO dumpscout_ingest;
