#!/usr/bin/env bash
# fleet.sh - the fleet CLI (`dumpscout --fleet ...`) on a generated fleet in a real PostgreSQL 15 (tests/pg.sh),
# next to psql running the same question by hand in the same run: FLEET_BENCH_HOSTS (1,000) hosts x
# FLEET_BENCH_PER_HOST (1,000) dumps, made by bench/fleet_gen.sql (cached in build/bench/fleet/ until the
# generator or a migration it was made with changes; a later migration is applied to the cache by
# `dumpscout fleet init`, as on a real server, and measured on the upgraded database). Times with hyperfine: list --limit 50, list --host H, show ID,
# buckets, report --since 7d. Prints medians, the ratio CLI/psql and the goals (list and show < 50 ms,
# buckets and report < 500 ms, at most 1.5x psql). Both sides connect over TCP with a password (SCRAM).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DS=$BUILD/dumpscout
RUNS=${BENCH_RUNS:-15}
HOSTS=${FLEET_BENCH_HOSTS:-1000}
PER=${FLEET_BENCH_PER_HOST:-1000}
source tests/lib.sh
source tests/pg.sh
pg_available || { echo "fleet: PostgreSQL 15 missing (make deps)"; exit 1; }
command -v hyperfine >/dev/null || { echo "fleet: hyperfine missing (make deps)"; exit 1; }
out=$(cd "$BUILD" && pwd)/bench/fleet
base=$out/$HOSTS-$PER
stamp=$(sha256sum bench/fleet_gen.sql | cut -c1-16)
# the cache holds "sha256  file" of every migration applied to it: one edited since invalidates it
cache_ok() {
	[ -f "$base/pg/data/PG_VERSION" ] && [ "$(cat "$base/stamp" 2>/dev/null)" = "$stamp" ] &&
		[ -f "$base/migrations" ] && sha256sum --quiet -c "$base/migrations" >/dev/null 2>&1
}
mkdir -p "$out"
trap 'pg_stop' EXIT
NOW=$(($(date +%s) * 1000))
if cache_ok; then
	# the cached cluster: same account, password and a fresh port
	PG_DIR=$base/pg
	[ "$(id -u)" -eq 0 ] && PG_RUN_AS=$(stat -c %U "$PG_DIR")
	PGPASSWORD=$(cat "$PG_DIR/.pw")
	PGPORT=$(pg_free_port)
	sed -i "s/^port = .*/port = $PGPORT/" "$PG_DIR/data/postgresql.conf"
	export PGHOST=127.0.0.1 PGPORT PGUSER=scout_admin PGPASSWORD PGDATABASE=postgres
	pg_resume
	NOW=$(cat "$base/now")
else
	rm -rf "$base"
	mkdir -p "$base"
	pg_start "$base"
	echo "fleet: generating $HOSTS hosts x $PER dumps into PostgreSQL (a few minutes for a million)"
	t0=$(date +%s)
	psql_q "CREATE DATABASE fleet" >/dev/null
	"$DS" fleet init --fleet-url "host=127.0.0.1 port=$PGPORT dbname=fleet user=scout_admin" >/dev/null
	PGDATABASE=fleet psql -X -q -v hosts="$HOSTS" -v per="$PER" -v now="$NOW" -f bench/fleet_gen.sql >/dev/null
	PGDATABASE=fleet psql_q "CREATE ROLE scout_viewer LOGIN PASSWORD 'viewer-pw' IN ROLE dumpscout_read" >/dev/null
	echo "$NOW" >"$base/now"
	echo "$stamp" >"$base/stamp"
	sha256sum schema/fleet/*.sql >"$base/migrations"
	echo "fleet: generated in $(( $(date +%s) - t0 )) s, $(PGDATABASE=fleet psql_q "SELECT pg_size_pretty(pg_database_size('fleet'))")"
fi
# migrations newer than the cache (each applies once; a no-op otherwise)
"$DS" fleet init --fleet-url "host=127.0.0.1 port=$PGPORT dbname=fleet user=scout_admin" >/dev/null
sha256sum schema/fleet/*.sql >"$base/migrations"
# the steady state of a live server: autovacuum has visited the insert-mostly tables (since PostgreSQL 13
# it does so on inserts alone), so the visibility map lets the range scans be index-only
PGDATABASE=fleet psql_q "VACUUM (ANALYZE)" >/dev/null
export DUMPSCOUT_FLEET_URL="host=127.0.0.1 port=$PGPORT dbname=fleet user=scout_viewer password=viewer-pw"
PSQL="env PGPASSWORD=viewer-pw psql -X -qAt -h 127.0.0.1 -p $PGPORT -U scout_viewer -d fleet"
HOST=host-0042
SEQ=$(PGDATABASE=fleet psql_q "SELECT max(seq) FROM fleet.dumps WHERE has_leak AND discovered_at > $NOW - 86400000")
# the report's window ends at the generation time; the CLI's --since 7d ends now (the same rows unless
# the cache is older than the run, then the hand query covers the same span as the CLI)
NOWQ=$(($(date +%s) * 1000))
S7=$((NOWQ - 7 * 86400000))
P7=$((S7 - 7 * 86400000))
LIST="SELECT d.seq, h.hostname, d.discovered_at, d.app, d.pid, d.state, d.exception_name, d.exception_code, d.size, d.has_leak,
 d.file_name, d.path, d.os, d.arch, d.runtime_version, b.seq, b.title FROM (SELECT * FROM fleet.dumps d"
q_list="$LIST ORDER BY d.discovered_at DESC, d.seq DESC LIMIT 50) d JOIN fleet.hosts h ON h.id = d.host_id LEFT JOIN fleet.buckets b ON b.id = d.crash_bucket_id ORDER BY d.discovered_at DESC, d.seq DESC"
q_list_host="$LIST WHERE d.host_id = (SELECT id FROM fleet.hosts WHERE hostname = '$HOST') ORDER BY d.discovered_at DESC, d.seq DESC LIMIT 50) d JOIN fleet.hosts h ON h.id = d.host_id LEFT JOIN fleet.buckets b ON b.id = d.crash_bucket_id ORDER BY d.discovered_at DESC, d.seq DESC"
q_show="SELECT d.*, h.hostname FROM fleet.dumps d JOIN fleet.hosts h ON h.id = d.host_id WHERE d.seq = $SEQ;
 SELECT b.* FROM fleet.dump_buckets l JOIN fleet.buckets b ON b.id = l.bucket_id WHERE l.dump_id = (SELECT id FROM fleet.dumps WHERE seq = $SEQ);
 SELECT a.*, c.*, r.* FROM fleet.analyses a JOIN fleet.contexts c ON c.analysis_id = a.id LEFT JOIN fleet.roots r ON r.context_id = c.id WHERE a.dump_id = (SELECT id FROM fleet.dumps WHERE seq = $SEQ)"
q_buckets="SELECT b.seq, b.kind, b.title, b.count, b.first_seen, b.last_seen,
 (SELECT count(*) FROM fleet.bucket_apps ba WHERE ba.bucket_id = b.id), (SELECT count(*) FROM fleet.bucket_hosts bh WHERE bh.bucket_id = b.id),
 (SELECT count(*) FROM fleet.dump_buckets x WHERE x.bucket_id = b.id AND x.seen_at >= $S7),
 (SELECT count(*) FROM fleet.dump_buckets x WHERE x.bucket_id = b.id AND x.seen_at >= $P7 AND x.seen_at < $S7),
 (SELECT string_agg(app || ' (' || count || ')', ', ') FROM (SELECT app, count FROM fleet.bucket_apps WHERE bucket_id = b.id ORDER BY count DESC, app LIMIT 5) a)
 FROM fleet.buckets b ORDER BY b.count DESC, b.seq LIMIT 50"
q_report="SELECT to_char(to_timestamp(discovered_at / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD'), state, count(*), count(*) FILTER (WHERE has_leak) FROM fleet.dumps WHERE discovered_at >= $S7 AND discovered_at < $NOWQ GROUP BY 1, 2;
 SELECT app, count(*), count(*) FILTER (WHERE has_leak) FROM fleet.dumps WHERE discovered_at >= $S7 AND discovered_at < $NOWQ GROUP BY app ORDER BY 2 DESC;
 SELECT b.seq, b.kind, b.title, x.n, b.first_seen >= $S7 FROM (SELECT bucket_id, count(*) AS n FROM fleet.dump_buckets WHERE seen_at >= $S7 AND seen_at < $NOWQ GROUP BY bucket_id ORDER BY 2 DESC LIMIT 200) x JOIN fleet.buckets b ON b.id = x.bucket_id ORDER BY x.n DESC;
 SELECT bucket_id, count(*) FROM fleet.dump_buckets WHERE seen_at >= $P7 AND seen_at < $S7 GROUP BY bucket_id;
 SELECT b.seq, r.kind, r.catalogue_id FROM fleet.buckets b CROSS JOIN LATERAL (SELECT * FROM fleet.roots WHERE bucket_id = b.id LIMIT 1) r WHERE b.kind = 'root' AND b.last_seen >= $S7"
hyperfine -N --warmup 2 --runs "$RUNS" --style none --export-json "$out/startup.json" "$DS --version" "psql --version" >/dev/null 2>&1
names=(list list_host show buckets report)
cli=("$DS --fleet list --limit 50" "$DS --fleet list --host $HOST --limit 50" "$DS --fleet show $SEQ" "$DS --fleet buckets"
	"$DS --fleet report --since 7d")
sqls=("$q_list" "$q_list_host" "$q_show" "$q_buckets" "$q_report")
goals=(50 50 50 500 500)
for i in "${!names[@]}"; do
	printf '%s\n' "${sqls[$i]}" >"$out/${names[$i]}.sql"
	hyperfine --warmup 2 --runs "$RUNS" --style none --export-json "$out/${names[$i]}.json" \
		"${cli[$i]} >/dev/null" "$PSQL -f $out/${names[$i]}.sql >/dev/null" >/dev/null
done
python3 - "$out" "${names[*]}" "${goals[*]}" "$HOSTS" "$PER" <<'PY'
import json, sys
out, names, goals = sys.argv[1], sys.argv[2].split(), [float(g) for g in sys.argv[3].split()]
st = json.load(open("%s/startup.json" % out))["results"]
s0c, s0s = st[0]["median"] * 1000, st[1]["median"] * 1000
print("fleet: %s hosts x %s dumps" % (sys.argv[4], sys.argv[5]))
print("start-up alone: dumpscout --version %.1f ms, psql --version %.1f ms" % (s0c, s0s))
print("%-10s %10s %10s %7s   %s" % ("command", "CLI ms", "psql ms", "ratio", "goal"))
bad = 0
for n, g in zip(names, goals):
    r = json.load(open("%s/%s.json" % (out, n)))["results"]
    c, s = r[0]["median"] * 1000, r[1]["median"] * 1000
    ok = c < g and c <= 1.5 * s
    bad += not ok
    print("%-10s %10.1f %10.1f %7.2f   < %d ms and <= 1.5x psql: %s" % (n, c, s, c / s, g, "met" if ok else "MISSED"))
print("fleet: %d goal(s) missed" % bad if bad else "fleet: every goal met")
PY
