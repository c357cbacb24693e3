-- fleet_gen.sql - fills a fresh fleet schema (schema/fleet/) with a generated fleet for bench/fleet.sh:
-- :hosts hosts x :per dumps each over the last 90 days, 300 crash buckets (skewed: a few big ones, a long
-- tail), one dump in ten leaking through one of 60 root signatures (an analysis, a context, a root), and
-- the bucket, per-app and per-host counts the ingest function would have kept. Deterministic (no
-- random()): the same parameters give the same database. psql -v hosts=N -v per=N -v now=MS -f ...
\set ON_ERROR_STOP on
SET synchronous_commit = off;

INSERT INTO fleet.hosts (id, hostname, os, version, first_seen, last_seen, backlog, dumps, events)
SELECT md5('bench-host/' || h)::uuid, 'host-' || lpad(h::text, 4, '0'), 'Linux 6.1.0', '0.1.0',
	:now - 90::bigint * 86400000, :now - (h % 60) * 1000, 0, :per, :per
FROM generate_series(1, :hosts) h;

INSERT INTO fleet.buckets (id, kind, key, title, first_seen, last_seen, count, alerted)
SELECT fleet.bucket_uuid('crash', k), 'crash', k, k, 0, 0, 0, true
FROM (SELECT b, 'App' || (b % 40) || '.exe|mod' || (b % 17) || '.dll+0x' || to_hex(b * 4099) || '|0xc0000005' AS k
	FROM generate_series(1, 300) b) x ORDER BY b;
INSERT INTO fleet.buckets (id, kind, key, title, first_seen, last_seen, count, alerted)
SELECT fleet.bucket_uuid('root', k), 'root', k, 'Plugin' || r || '.Registry.Cache', 0, 0, 0, true
FROM (SELECT r, 'static|Plugin' || r || '.Registry.Cache' AS k FROM generate_series(1, 60) r) x ORDER BY r;

SELECT fleet.ensure_partition(m) FROM generate_series(:now - 91::bigint * 86400000, :now, 86400000::bigint) m;

-- i -> host, local id, time (spread over 90 days), crash bucket (cubic skew towards the first ones)
CREATE TEMP TABLE gen AS
SELECT i, md5('bench-host/' || (1 + i % :hosts))::uuid AS host_id, (i / :hosts + 1)::bigint AS local_id,
	:now - (i::bigint * 2654435761 % 7776000000) AS t,
	1 + floor(299 * power(((i::bigint * 40503) % 10007) / 10007.0, 3))::int AS b
FROM generate_series(0, :hosts * :per - 1) i;

INSERT INTO fleet.dumps (id, host_id, local_id, path, file_name, size, sha256, discovered_at, updated_at, state, attempts,
	triaged_at, app, format, writer, os, os_version, arch, pid, process_name, dump_time, exception_code, exception_name,
	thread_count, module_count, runtime_name, runtime_version, has_heap, has_leak, crash_bucket_id)
SELECT fleet.dump_uuid(g.host_id, g.local_id), g.host_id, g.local_id,
	'/var/lib/dumpscout/dumps/App' || (g.b % 40) || '.' || g.local_id || '.dmp', 'App' || (g.b % 40) || '.' || g.local_id || '.dmp',
	1048576 + g.i % 100000000, NULL, g.t, g.t, 'done', 1, g.t, 'App' || (g.b % 40) || '.exe', 'minidump', 'windows',
	'windows', '10.0.20348', 'amd64', 1000 + g.i % 30000, 'App' || (g.b % 40) || '.exe', g.t - 1000, 3221225477,
	'EXCEPTION_ACCESS_VIOLATION_READ', 20 + g.i % 30, 120 + g.i % 60, 'coreclr', '8.0.10', true, g.i % 10 = 0,
	(SELECT id FROM fleet.buckets WHERE kind = 'crash' AND seq = g.b)
FROM gen g;

INSERT INTO fleet.dump_buckets (dump_id, bucket_id, host_id, app, seen_at)
SELECT d.id, d.crash_bucket_id, d.host_id, d.app, d.discovered_at FROM fleet.dumps d;

-- the leaks: an analysis with one held context and one root each
INSERT INTO fleet.analyses (id, dump_id, host_id, engine, engine_version, status, started_at, finished_at, duration_ms)
SELECT md5(d.id::text || '/analysis')::uuid, d.id, d.host_id, 'clrmd', '3.1', 'ok', d.discovered_at, d.discovered_at + 5000, 5000
FROM fleet.dumps d WHERE d.has_leak;
INSERT INTO fleet.contexts (id, analysis_id, dump_id, ordinal, name, loader_allocator, state)
SELECT md5(a.id::text || '/0')::uuid, a.id, a.dump_id, 0, 'PluginContext', '0x7f00' || to_hex(d.local_id), 'unloading_held'
FROM fleet.analyses a JOIN fleet.dumps d ON d.id = a.dump_id;
INSERT INTO fleet.roots (id, context_id, dump_id, host_id, ordinal, kind, culprit, signature, thread, chain_text, chain, bucket_id)
SELECT md5(c.id::text || '/0')::uuid, c.id, c.dump_id, d.host_id, 0, 'static', b.title, b.key, NULL,
	b.title || ' -> ' || 'System.Reflection.LoaderAllocator', '["System.Object[]", "System.Reflection.LoaderAllocator"]', b.id
FROM fleet.contexts c JOIN fleet.dumps d ON d.id = c.dump_id
JOIN fleet.buckets b ON b.kind = 'root' AND b.seq = 300 + 1 + (d.local_id + d.pid) % 60;
INSERT INTO fleet.dump_buckets (dump_id, bucket_id, host_id, app, seen_at)
SELECT r.dump_id, r.bucket_id, r.host_id, d.app, d.discovered_at FROM fleet.roots r JOIN fleet.dumps d ON d.id = r.dump_id;

-- the counts fleet.link keeps
UPDATE fleet.buckets b SET count = x.n, first_seen = x.f, last_seen = x.l
FROM (SELECT bucket_id, count(*) AS n, min(seen_at) AS f, max(seen_at) AS l FROM fleet.dump_buckets GROUP BY bucket_id) x
WHERE b.id = x.bucket_id;
INSERT INTO fleet.bucket_apps (bucket_id, app, first_seen, last_seen, count)
SELECT bucket_id, app, min(seen_at), max(seen_at), count(*) FROM fleet.dump_buckets GROUP BY bucket_id, app;
INSERT INTO fleet.bucket_hosts (bucket_id, host_id, first_seen, last_seen, count)
SELECT bucket_id, host_id, min(seen_at), max(seen_at), count(*) FROM fleet.dump_buckets GROUP BY bucket_id, host_id;
DELETE FROM fleet.buckets b WHERE b.count = 0;
ANALYZE;
