-- 002_read_api.sql - the read side of the fleet: one function per CLI question, each returning JSON in
-- the shapes the agents' SQLite store gives the CLI (core/store.h), plus "host" columns. `dumpscout
-- --fleet list/show/buckets/roots/report` and `fleet status` call them (core/fleetdb.c), so the same
-- renderers print both. Ids shown to people are the short `seq` numbers. Filters come as one jsonb
-- object; every key is optional. They run as the schema's owner (SECURITY DEFINER) so the ingest role
-- can build the fleet digest without SELECT rights on the tables.

-- The dump summary of listings (store_dump_list's fields, "id" the seq, plus host, host_id, uuid).
CREATE FUNCTION fleet.dump_summary(d fleet.dumps) RETURNS jsonb LANGUAGE sql STABLE
SET search_path = fleet, pg_temp
AS $$
	SELECT jsonb_build_object('id', d.seq, 'uuid', d.id, 'host', h.hostname, 'host_id', d.host_id, 'local_id', d.local_id,
		'path', d.path, 'file_name', d.file_name, 'size', d.size, 'discovered_at', d.discovered_at, 'state', d.state,
		'attempts', d.attempts, 'last_error', d.last_error, 'duplicate_of', NULL, 'deleted_at', d.deleted_at,
		'app', d.app, 'process_name', d.process_name, 'pid', d.pid, 'os', d.os, 'arch', d.arch,
		'dump_time', d.dump_time, 'exception_name', d.exception_name, 'exception_code', d.exception_code,
		'runtime_version', d.runtime_version, 'has_heap', d.has_heap, 'has_leak', d.has_leak,
		'crash_bucket_id', b.seq, 'bucket_title', b.title, 'share_path', d.share_path)
	FROM (SELECT 1) one LEFT JOIN hosts h ON h.id = d.host_id LEFT JOIN buckets b ON b.id = d.crash_bucket_id
$$;

-- A host filter: a host id (UUID text) or a hostname; NULL: every host. An unknown name matches none.
CREATE FUNCTION fleet.host_ids(p_host text) RETURNS uuid[] LANGUAGE sql STABLE
SET search_path = fleet, pg_temp
AS $$
	SELECT CASE WHEN p_host IS NULL THEN NULL
		ELSE coalesce((SELECT array_agg(id) FROM hosts WHERE hostname = p_host OR id::text = lower(p_host)), '{}') END
$$;

-- list: f = {host, app, since, until, state, bucket (seq), leak, limit, offset, sort: newest|oldest|size|app|state}
CREATE FUNCTION fleet.api_list(f jsonb) RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = fleet, pg_temp
AS $$
DECLARE
	hosts uuid[] := host_ids(f->>'host');
	bucket uuid;
	ord text;
	lim bigint := coalesce((f->>'limit')::bigint, 0);
	res jsonb;
BEGIN
	IF f->>'bucket' IS NOT NULL THEN
		bucket := coalesce((SELECT id FROM buckets WHERE seq = (f->>'bucket')::bigint), '00000000-0000-0000-0000-000000000000');
	END IF;
	ord := CASE coalesce(f->>'sort', 'newest')
		WHEN 'oldest' THEN 'd.discovered_at, d.seq'
		WHEN 'size' THEN 'd.size DESC, d.seq DESC'
		WHEN 'app' THEN 'd.app, d.discovered_at DESC, d.seq DESC'
		WHEN 'state' THEN 'd.state, d.discovered_at DESC, d.seq DESC'
		ELSE 'd.discovered_at DESC, d.seq DESC' END;
	-- the page is chosen on dumps alone (an ordered scan of the partitions' indexes), then described
	EXECUTE 'SELECT coalesce(jsonb_agg(dump_summary(p) ORDER BY n), ''[]'') FROM (SELECT d, row_number() OVER () AS n FROM '
		|| '(SELECT d FROM dumps d WHERE ($1 IS NULL OR d.host_id = ANY ($1)) AND ($2 IS NULL OR d.app = $2) '
		|| 'AND ($3 IS NULL OR d.discovered_at >= $3) AND ($4 IS NULL OR d.discovered_at < $4) '
		|| 'AND ($5 IS NULL OR d.state = $5) AND (NOT $6 OR d.has_leak) '
		|| 'AND ($7 IS NULL OR d.crash_bucket_id = $7 OR d.id IN (SELECT l.dump_id FROM dump_buckets l WHERE l.bucket_id = $7)) '
		|| 'ORDER BY ' || ord || ' LIMIT $8 OFFSET $9) s(d)) q(p, n)'
	INTO res
	USING hosts, f->>'app', (f->>'since')::bigint, (f->>'until')::bigint, f->>'state',
		coalesce((f->>'leak')::boolean, false), bucket, CASE WHEN lim > 0 THEN lim END,
		coalesce((f->>'offset')::bigint, 0);
	RETURN res;
END $$;

-- show: one dump by seq, as store_dump_get (triage, buckets, analysis with contexts and roots).
CREATE FUNCTION fleet.api_show(p_seq bigint) RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = fleet, pg_temp
AS $$
DECLARE
	d dumps;
	res jsonb;
	an jsonb;
BEGIN
	SELECT * INTO d FROM dumps WHERE seq = p_seq;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	SELECT to_jsonb(a) - 'id' - 'dump_id' - 'host_id' || jsonb_build_object('id', NULL, 'dump_id', p_seq,
		'contexts', coalesce((SELECT jsonb_agg(to_jsonb(c) - 'id' - 'analysis_id' - 'dump_id' || jsonb_build_object('roots',
			coalesce((SELECT jsonb_agg(to_jsonb(r) - 'id' - 'context_id' - 'dump_id' - 'host_id' - 'bucket_id'
				|| jsonb_build_object('bucket_id', (SELECT seq FROM buckets WHERE id = r.bucket_id)) ORDER BY r.ordinal)
				FROM roots r WHERE r.context_id = c.id), '[]')) ORDER BY c.ordinal)
			FROM contexts c WHERE c.analysis_id = a.id), '[]'))
	INTO an FROM analyses a WHERE a.dump_id = d.id;
	res := to_jsonb(d) - 'id' - 'seq' - 'crash_bucket_id' || dump_summary(d) || jsonb_build_object(
		'buckets', coalesce((SELECT jsonb_agg(jsonb_build_object('id', b.seq, 'kind', b.kind, 'key', b.key, 'title', b.title,
			'first_seen', b.first_seen, 'last_seen', b.last_seen, 'count', b.count) ORDER BY b.kind, b.seq)
			FROM dump_buckets l JOIN buckets b ON b.id = l.bucket_id WHERE l.dump_id = d.id), '[]'),
		'analysis', an, 'duplicates', '[]'::jsonb);
	RETURN res;
END $$;

-- The top apps (and hosts) of a bucket, as the store's "apps" arrays.
CREATE FUNCTION fleet.bucket_apps_json(p_bucket uuid, p_max integer) RETURNS jsonb LANGUAGE sql STABLE
SET search_path = fleet, pg_temp
AS $$
	SELECT coalesce(jsonb_agg(jsonb_build_object('app', a.app, 'count', a.count, 'first_seen', a.first_seen,
		'last_seen', a.last_seen) ORDER BY a.count DESC, a.app), '[]')
	FROM (SELECT * FROM bucket_apps WHERE bucket_id = p_bucket ORDER BY count DESC, app LIMIT p_max) a
$$;

CREATE FUNCTION fleet.bucket_hosts_json(p_bucket uuid, p_max integer) RETURNS jsonb LANGUAGE sql STABLE
SET search_path = fleet, pg_temp
AS $$
	SELECT coalesce(jsonb_agg(jsonb_build_object('host', h.hostname, 'host_id', h.id, 'count', x.count,
		'first_seen', x.first_seen, 'last_seen', x.last_seen) ORDER BY x.count DESC, h.hostname), '[]')
	FROM (SELECT * FROM bucket_hosts WHERE bucket_id = p_bucket ORDER BY count DESC LIMIT p_max) x
	JOIN hosts h ON h.id = x.host_id
$$;

-- A bucket row as store_bucket_list gives it, the counts for the hosts in p_hosts (NULL: all).
CREATE FUNCTION fleet.bucket_json(b fleet.buckets, p_hosts uuid[], p_since bigint, p_before bigint) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = fleet, pg_temp
AS $$
	SELECT jsonb_build_object('id', b.seq, 'kind', b.kind, 'key', b.key, 'title', b.title,
		'first_seen', coalesce(hc.first_seen, b.first_seen), 'last_seen', coalesce(hc.last_seen, b.last_seen),
		'count', coalesce(hc.count, b.count),
		'app_count', (SELECT count(*) FROM bucket_apps ba WHERE ba.bucket_id = b.id),
		'host_count', (SELECT count(*) FROM bucket_hosts bh WHERE bh.bucket_id = b.id),
		'count_since', CASE WHEN coalesce(p_since, 0) <= 0 THEN coalesce(hc.count, b.count)
			ELSE (SELECT count(*) FROM dump_buckets x WHERE x.bucket_id = b.id AND x.seen_at >= p_since
				AND (p_hosts IS NULL OR x.host_id = ANY (p_hosts))) END,
		'count_before', CASE WHEN coalesce(p_since, 0) <= 0 OR coalesce(p_before, 0) <= 0 THEN NULL
			ELSE (SELECT count(*) FROM dump_buckets x WHERE x.bucket_id = b.id AND x.seen_at >= p_before
				AND x.seen_at < p_since AND (p_hosts IS NULL OR x.host_id = ANY (p_hosts))) END,
		'apps', bucket_apps_json(b.id, 5), 'hosts', bucket_hosts_json(b.id, 5))
	FROM (SELECT sum(count) AS count, min(first_seen) AS first_seen, max(last_seen) AS last_seen
		FROM bucket_hosts WHERE p_hosts IS NOT NULL AND bucket_id = b.id AND host_id = ANY (p_hosts)) hc
$$;

-- buckets: f = {host, kind, sort: count|last_seen|first_seen, since, before, limit}
CREATE FUNCTION fleet.api_buckets(f jsonb) RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = fleet, pg_temp
AS $$
DECLARE
	hosts uuid[] := host_ids(f->>'host');
	ord text;
	lim bigint := coalesce((f->>'limit')::bigint, 0);
	res jsonb;
BEGIN
	ord := CASE coalesce(f->>'sort', 'count') WHEN 'last_seen' THEN 'b.last_seen DESC, b.seq'
		WHEN 'first_seen' THEN 'b.first_seen DESC, b.seq' ELSE 'b.count DESC, b.seq' END;
	EXECUTE 'SELECT coalesce(jsonb_agg(bucket_json(b, $1, $4, $5) ORDER BY n), ''[]'') FROM (SELECT b, row_number() OVER () AS n '
		|| 'FROM (SELECT b FROM buckets b WHERE ($2 IS NULL OR b.kind = $2) AND ($1 IS NULL OR EXISTS '
		|| '(SELECT 1 FROM bucket_hosts bh WHERE bh.bucket_id = b.id AND bh.host_id = ANY ($1))) ORDER BY ' || ord
		|| ' LIMIT $3) s(b)) q(b, n)'
	INTO res USING hosts, f->>'kind', CASE WHEN lim > 0 THEN lim END, (f->>'since')::bigint, (f->>'before')::bigint;
	RETURN res;
END $$;

-- show bucket: one bucket (all its apps and hosts) with its newest dumps.
CREATE FUNCTION fleet.api_bucket(p_seq bigint, p_dump_limit bigint, p_host text) RETURNS jsonb LANGUAGE plpgsql STABLE
SECURITY DEFINER SET search_path = fleet, pg_temp
AS $$
DECLARE
	b buckets;
	res jsonb;
BEGIN
	SELECT * INTO b FROM buckets WHERE seq = p_seq;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	res := bucket_json(b, host_ids(p_host), NULL, NULL) || jsonb_build_object('apps', bucket_apps_json(b.id, 1000000),
		'hosts', bucket_hosts_json(b.id, 1000000),
		'dumps', api_list(jsonb_build_object('bucket', p_seq, 'host', p_host, 'limit', p_dump_limit)));
	RETURN res;
END $$;

-- roots: the leak view (store_roots_list's fields), root buckets last seen at or after since.
CREATE FUNCTION fleet.api_roots(p_since bigint, p_limit bigint, p_host text) RETURNS jsonb LANGUAGE plpgsql STABLE
SECURITY DEFINER SET search_path = fleet, pg_temp
AS $$
DECLARE
	hosts uuid[] := host_ids(p_host);
	res jsonb;
BEGIN
	SELECT coalesce(jsonb_agg(x.j ORDER BY x.count DESC, x.seq), '[]') INTO res FROM (
		SELECT b.seq, coalesce(hc.count, b.count) AS count, jsonb_build_object('bucket_id', b.seq, 'signature', b.key,
			'culprit', r.culprit, 'kind', r.kind, 'catalogue_id', r.catalogue_id,
			'probable_false_root', r.probable_false_root, 'count', coalesce(hc.count, b.count),
			'first_seen', b.first_seen, 'last_seen', b.last_seen,
			'example_dump_id', (SELECT d.seq FROM dumps d WHERE d.id = r.dump_id LIMIT 1),
			'app_count', (SELECT count(*) FROM bucket_apps ba WHERE ba.bucket_id = b.id),
			'host_count', (SELECT count(*) FROM bucket_hosts bh WHERE bh.bucket_id = b.id),
			'context_count', (SELECT count(DISTINCT rr.context_id) FROM roots rr WHERE rr.bucket_id = b.id),
			'apps', bucket_apps_json(b.id, 5), 'hosts', bucket_hosts_json(b.id, 5)) AS j
		FROM buckets b
		LEFT JOIN LATERAL (SELECT sum(count) AS count FROM bucket_hosts WHERE hosts IS NOT NULL AND bucket_id = b.id
			AND host_id = ANY (hosts)) hc ON true
		LEFT JOIN LATERAL (SELECT * FROM roots WHERE bucket_id = b.id ORDER BY dump_id LIMIT 1) r ON true
		WHERE b.kind = 'root' AND b.last_seen >= coalesce(p_since, 0)
			AND (hosts IS NULL OR hc.count > 0)
		ORDER BY coalesce(hc.count, b.count) DESC, b.seq
		LIMIT CASE WHEN coalesce(p_limit, 0) > 0 THEN p_limit END) x;
	RETURN res;
END $$;

-- report: the counts of store_report for dumps discovered in [since, until) (until NULL: open).
CREATE FUNCTION fleet.api_report(p_since bigint, p_until bigint, p_host text) RETURNS jsonb LANGUAGE sql STABLE
SECURITY DEFINER SET search_path = fleet, pg_temp
AS $$
	WITH hs AS (SELECT host_ids(p_host) AS ids, coalesce(nullif(p_until, 0), 9223372036854775807) AS u),
	rows AS MATERIALIZED (
		SELECT coalesce(d.app, '') AS app, d.state, d.has_leak, d.host_id,
			to_char(to_timestamp(d.discovered_at / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day
		FROM dumps d, hs WHERE d.discovered_at >= p_since AND d.discovered_at < hs.u
			AND (hs.ids IS NULL OR d.host_id = ANY (hs.ids))),
	st AS (SELECT state, count(*) AS n FROM rows GROUP BY state)
	SELECT jsonb_build_object(
		'totals', (SELECT jsonb_build_object('dumps', count(*), 'leaks', count(*) FILTER (WHERE has_leak),
			'apps', count(DISTINCT app), 'hosts', count(DISTINCT host_id),
			'by_state', (SELECT jsonb_object_agg(s, coalesce((SELECT n FROM st WHERE st.state = s), 0))
				FROM unnest(ARRAY['discovered', 'triaged', 'analyzing', 'done', 'failed', 'unsupported']) s))
			FROM rows),
		'buckets', coalesce((SELECT jsonb_agg(jsonb_build_object('id', b.seq, 'kind', b.kind, 'key', b.key, 'title', b.title,
			'first_seen', b.first_seen, 'last_seen', b.last_seen, 'count', b.count, 'count_in_range', x.n,
			'host_count', x.h, 'is_new', b.first_seen >= p_since) ORDER BY x.n DESC, b.seq)
			FROM (SELECT l.bucket_id, count(*) AS n, count(DISTINCT l.host_id) AS h FROM dump_buckets l, hs
				WHERE l.seen_at >= p_since AND l.seen_at < hs.u AND (hs.ids IS NULL OR l.host_id = ANY (hs.ids))
				GROUP BY l.bucket_id ORDER BY count(*) DESC LIMIT 200) x
			JOIN buckets b ON b.id = x.bucket_id), '[]'),
		'apps', coalesce((SELECT jsonb_agg(jsonb_build_object('app', a.app, 'count', a.n, 'leaks', a.l) ORDER BY a.n DESC, a.app)
			FROM (SELECT app, count(*) AS n, count(*) FILTER (WHERE has_leak) AS l FROM rows GROUP BY 1) a), '[]'),
		'days', coalesce((SELECT jsonb_agg(jsonb_build_object('day', dd.day, 'count', dd.n, 'leaks', dd.l) ORDER BY dd.day)
			FROM (SELECT day, count(*) AS n, count(*) FILTER (WHERE has_leak) AS l FROM rows GROUP BY 1) dd), '[]'))
$$;

-- Links per bucket seen in [since, until), for trends (store_bucket_counts).
CREATE FUNCTION fleet.api_bucket_counts(p_since bigint, p_until bigint, p_host text) RETURNS jsonb LANGUAGE sql STABLE
SECURITY DEFINER SET search_path = fleet, pg_temp
AS $$
	SELECT coalesce(jsonb_agg(jsonb_build_object('bucket_id', b.seq, 'count', x.n) ORDER BY b.seq), '[]')
	FROM (SELECT l.bucket_id, count(*) AS n FROM dump_buckets l WHERE l.seen_at >= p_since
		AND l.seen_at < coalesce(nullif(p_until, 0), 9223372036854775807)
		AND (p_host IS NULL OR l.host_id = ANY (host_ids(p_host))) GROUP BY l.bucket_id) x
	JOIN buckets b ON b.id = x.bucket_id
$$;

-- fleet status: every host with last-seen time and backlog.
CREATE FUNCTION fleet.api_hosts() RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = fleet, pg_temp
AS $$
	SELECT coalesce(jsonb_agg(jsonb_build_object('host_id', h.id, 'host', h.hostname, 'os', h.os, 'version', h.version,
		'first_seen', h.first_seen, 'last_seen', h.last_seen, 'backlog', h.backlog, 'overflowed', h.overflowed,
		'dumps', h.dumps, 'events', h.events) ORDER BY h.hostname, h.id), '[]')
	FROM hosts h
$$;

-- New fleet-wide buckets for alerts: buckets first seen at or after p_since, oldest first.
CREATE FUNCTION fleet.api_new_buckets(p_since bigint) RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = fleet, pg_temp
AS $$
	SELECT coalesce(jsonb_agg(bucket_json(b, NULL, NULL, NULL) || jsonb_build_object('uuid', b.id) ORDER BY b.seq), '[]')
	FROM buckets b WHERE b.first_seen >= p_since
$$;

-- ---- the fleet digest's sender (the agent holding the advisory lock; see fleet.mail_claim) ----

-- When the last fleet digest was claimed (0: never).
CREATE FUNCTION fleet.digest_last() RETURNS bigint LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = fleet, pg_temp
AS $$ SELECT coalesce(max(claimed_at), 0) FROM mail_log WHERE key LIKE 'digest:%' $$;

-- The buckets no alert covered yet, marked covered in the same statement (a row lock per bucket, so
-- two callers never get the same bucket). The first call ever marks what exists and returns nothing:
-- buckets older than fleet alerts are the digest's business.
CREATE FUNCTION fleet.alert_claim(p_host uuid) RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER
SET search_path = fleet, pg_temp
AS $$
DECLARE res jsonb;
BEGIN
	IF mail_claim(p_host, 'alerts:start') THEN
		UPDATE buckets SET alerted = true WHERE NOT alerted;
		RETURN '[]';
	END IF;
	WITH c AS (UPDATE buckets SET alerted = true WHERE NOT alerted RETURNING *)
	SELECT coalesce(jsonb_agg(bucket_json(c::buckets, NULL, NULL, NULL) ORDER BY c.seq), '[]') INTO res FROM c;
	RETURN res;
END $$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA fleet FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fleet.api_list(jsonb), fleet.api_show(bigint), fleet.api_buckets(jsonb),
	fleet.api_bucket(bigint, bigint, text), fleet.api_roots(bigint, bigint, text), fleet.api_report(bigint, bigint, text),
	fleet.api_bucket_counts(bigint, bigint, text), fleet.api_hosts(), fleet.api_new_buckets(bigint) TO dumpscout_read;
-- the elected digest sender builds the fleet digest and alerts with the ingest role
GRANT EXECUTE ON FUNCTION fleet.api_report(bigint, bigint, text), fleet.api_bucket_counts(bigint, bigint, text),
	fleet.api_roots(bigint, bigint, text), fleet.api_new_buckets(bigint), fleet.digest_last(),
	fleet.alert_claim(uuid) TO dumpscout_ingest;
