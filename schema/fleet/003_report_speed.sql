-- 003_report_speed.sql - the read API at fleet size (1,000 hosts x 1,000 dumps; bench/fleet.sh).
-- What EXPLAIN ANALYZE showed on 002: the report read every dump row of its range from the heap (wide rows:
-- the inspect JSON lives there) and formatted a date per row, then walked that set five times; the bucket
-- counts of a range read dump_buckets from the heap; a bucket's top hosts sorted all its hosts; and JIT
-- compiled every one of these short statements (50-60 ms each, more than the query). So:
--  * covering indexes, so the report's range scans and the per-bucket counts are index-only scans (the
--    visibility map is set by autovacuum, which visits insert-mostly tables on its own since PostgreSQL 13);
--  * api_report in one pass: one grouping-sets aggregate gives the totals and the per-state, per-app,
--    per-host and per-day counts; the date is formatted once per day, not once per dump;
--  * the report's top 200 buckets cut at a tie by bucket number (002 cut it wherever the sort left it);
--  * api_bucket_counts planned with its range's values (plpgsql), hashed instead of sorted;
--  * jit off for the read functions (their statements touch at most a few hundred thousand index tuples).

CREATE INDEX dumps_range_cover ON fleet.dumps (discovered_at) INCLUDE (host_id, app, state, has_leak);
CREATE INDEX dump_buckets_seen_cover ON fleet.dump_buckets (seen_at) INCLUDE (bucket_id, host_id);
DROP INDEX fleet.dump_buckets_seen;
CREATE INDEX dump_buckets_bucket_cover ON fleet.dump_buckets (bucket_id, seen_at) INCLUDE (host_id);
DROP INDEX fleet.dump_buckets_bucket;
CREATE INDEX bucket_hosts_top ON fleet.bucket_hosts (bucket_id, count DESC, host_id);

-- report: the counts of store_report for dumps discovered in [since, until) (until NULL or 0: open).
CREATE OR REPLACE FUNCTION fleet.api_report(p_since bigint, p_until bigint, p_host text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = fleet, pg_temp
AS $$
DECLARE
	hosts uuid[] := host_ids(p_host);
	u bigint := coalesce(nullif(p_until, 0), 9223372036854775807);
	res jsonb;
BEGIN
	WITH g AS MATERIALIZED (
		-- set: 0 all, 1 state, 2 app, 3 host, 4 day (days since the epoch, UTC)
		SELECT CASE WHEN GROUPING(d.state) = 0 THEN 1 WHEN GROUPING(coalesce(d.app, '')) = 0 THEN 2
			WHEN GROUPING(d.host_id) = 0 THEN 3 WHEN GROUPING(d.discovered_at / 86400000) = 0 THEN 4 ELSE 0 END AS set,
			d.state, coalesce(d.app, '') AS app, d.discovered_at / 86400000 AS day,
			count(*) AS n, count(*) FILTER (WHERE d.has_leak) AS l
		FROM dumps d WHERE d.discovered_at >= p_since AND d.discovered_at < u
			AND (hosts IS NULL OR d.host_id = ANY (hosts))
		GROUP BY GROUPING SETS ((), (d.state), (coalesce(d.app, '')), (d.host_id), (d.discovered_at / 86400000)))
	SELECT jsonb_build_object(
		'totals', jsonb_build_object(
			'dumps', coalesce((SELECT n FROM g WHERE set = 0), 0),
			'leaks', coalesce((SELECT l FROM g WHERE set = 0), 0),
			'apps', (SELECT count(*) FROM g WHERE set = 2),
			'hosts', (SELECT count(*) FROM g WHERE set = 3),
			'by_state', (SELECT jsonb_object_agg(s, coalesce((SELECT n FROM g WHERE set = 1 AND g.state = s), 0))
				FROM unnest(ARRAY['discovered', 'triaged', 'analyzing', 'done', 'failed', 'unsupported']) s)),
		-- the 200 with most links in the range; ties by number, so the cut is the same on every call
		'buckets', coalesce((SELECT jsonb_agg(jsonb_build_object('id', b.seq, 'kind', b.kind, 'key', b.key, 'title', b.title,
			'first_seen', b.first_seen, 'last_seen', b.last_seen, 'count', b.count, 'count_in_range', b.n,
			'is_new', b.first_seen >= p_since) ORDER BY b.n DESC, b.seq)
			FROM (SELECT bb.*, x.n FROM (SELECT l.bucket_id, count(*) AS n FROM dump_buckets l
				WHERE l.seen_at >= p_since AND l.seen_at < u AND (hosts IS NULL OR l.host_id = ANY (hosts))
				GROUP BY l.bucket_id) x JOIN buckets bb ON bb.id = x.bucket_id ORDER BY x.n DESC, bb.seq LIMIT 200) b), '[]'),
		'apps', coalesce((SELECT jsonb_agg(jsonb_build_object('app', g.app, 'count', g.n, 'leaks', g.l) ORDER BY g.n DESC, g.app)
			FROM g WHERE set = 2), '[]'),
		'days', coalesce((SELECT jsonb_agg(jsonb_build_object('day',
				to_char(to_timestamp(g.day * 86400) AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'count', g.n, 'leaks', g.l) ORDER BY g.day)
			FROM g WHERE set = 4), '[]'))
	INTO res;
	RETURN res;
END $$;

-- Links per bucket seen in [since, until), for trends (store_bucket_counts): as 002, in plpgsql so the
-- range is planned with its values (a hashed count of the range, where the generic plan sorted it).
CREATE OR REPLACE FUNCTION fleet.api_bucket_counts(p_since bigint, p_until bigint, p_host text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = fleet, pg_temp
AS $$
DECLARE
	hosts uuid[] := host_ids(p_host);
	u bigint := coalesce(nullif(p_until, 0), 9223372036854775807);
	res jsonb;
BEGIN
	SELECT coalesce(jsonb_agg(jsonb_build_object('bucket_id', b.seq, 'count', x.n) ORDER BY b.seq), '[]') INTO res
	FROM (SELECT l.bucket_id, count(*) AS n FROM dump_buckets l WHERE l.seen_at >= p_since AND l.seen_at < u
		AND (hosts IS NULL OR l.host_id = ANY (hosts)) GROUP BY l.bucket_id) x
	JOIN buckets b ON b.id = x.bucket_id;
	RETURN res;
END $$;

-- the report's one aggregate keeps its five groupings in memory (hashed) rather than sorting for one
ALTER FUNCTION fleet.api_report(bigint, bigint, text) SET work_mem = '32MB';
ALTER FUNCTION fleet.api_list(jsonb) SET jit = off;
ALTER FUNCTION fleet.api_show(bigint) SET jit = off;
ALTER FUNCTION fleet.api_buckets(jsonb) SET jit = off;
ALTER FUNCTION fleet.api_bucket(bigint, bigint, text) SET jit = off;
ALTER FUNCTION fleet.api_roots(bigint, bigint, text) SET jit = off;
ALTER FUNCTION fleet.api_report(bigint, bigint, text) SET jit = off;
ALTER FUNCTION fleet.api_bucket_counts(bigint, bigint, text) SET jit = off;
ALTER FUNCTION fleet.api_hosts() SET jit = off;
ALTER FUNCTION fleet.api_new_buckets(bigint) SET jit = off;
