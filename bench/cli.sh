#!/usr/bin/env bash
# cli.sh - the CLI's database commands on a large history, next to the sqlite3 shell running equivalent
# hand-written SQL on the same database in the same run. bench/gen_db.py makes the database once
# (1,000,000 dumps, 5,000 buckets, 200 applications; cached in build/bench/cli/ until the generator or
# the schema changes; CLI_BENCH_DUMPS=N for a smaller one). Times with hyperfine: list --limit 50,
# list --app X --since 7d, buckets, show ID, report --since 7d. Prints medians, the ratio CLI/SQL and
# the goals (list and show < 20 ms, buckets and report < 300 ms, at most 1.2x the SQL).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DS=$BUILD/dumpscout
RUNS=${BENCH_RUNS:-20}
N=${CLI_BENCH_DUMPS:-1000000}
out=$BUILD/bench/cli
mkdir -p "$out"
DB=$out/bench-$N.db
stamp=$(cat bench/gen_db.py schema/*.sql | sha256sum | cut -c1-16)
if [ ! -f "$DB" ] || [ "$(cat "$DB.stamp" 2>/dev/null)" != "$stamp" ]; then
	echo "cli: generating $DB ($N dumps; a few minutes for a million)"
	t0=$(date +%s)
	python3 bench/gen_db.py "$DB" --dumps "$N"
	echo "$stamp" >"$DB.stamp"
	echo "cli: generated in $(( $(date +%s) - t0 )) s, $(du -h "$DB" | cut -f1)"
fi
command -v hyperfine >/dev/null || { echo "cli: hyperfine missing (make deps)"; exit 1; }
NOW=$(($(date +%s) * 1000))
S7=$((NOW - 7 * 86400000))
P7=$((S7 - 7 * 86400000))
APP=$(sqlite3 -readonly "$DB" "SELECT app FROM bucket_apps GROUP BY app ORDER BY sum(count) DESC LIMIT 1 OFFSET 7")
ID=$(sqlite3 -readonly "$DB" "SELECT max(dump_id) FROM roots")
SQL="sqlite3 -readonly $DB"
LIST_COLS="SELECT d.id, d.path, d.file_name, d.size, d.discovered_at, d.state, d.attempts, d.last_error, d.duplicate_of, d.deleted_at, d.app, d.process_name, d.pid, d.os, d.arch, d.dump_time, d.exception_name, d.exception_code, d.runtime_version, d.has_heap, d.has_leak, d.crash_bucket_id, (SELECT title FROM buckets WHERE id = d.crash_bucket_id) FROM dumps d"
q_list="$LIST_COLS ORDER BY d.discovered_at DESC, d.id DESC LIMIT 50"
q_list_app="$LIST_COLS WHERE d.app = '$APP' AND d.discovered_at >= $S7 ORDER BY d.discovered_at DESC, d.id DESC LIMIT 50"
q_buckets="SELECT b.id, b.kind, b.title, b.count, b.first_seen, b.last_seen,
 (SELECT COUNT(*) FROM bucket_apps ba WHERE ba.bucket_id = b.id),
 (SELECT COUNT(*) FROM dump_buckets db WHERE db.bucket_id = b.id AND db.seen_at >= $S7),
 (SELECT COUNT(*) FROM dump_buckets db WHERE db.bucket_id = b.id AND db.seen_at >= $P7 AND db.seen_at < $S7),
 (SELECT group_concat(app || ' (' || count || ')', ', ') FROM (SELECT app, count FROM bucket_apps WHERE bucket_id = b.id ORDER BY count DESC, app LIMIT 5))
 FROM buckets b ORDER BY b.count DESC, b.id LIMIT 50"
q_show="SELECT * FROM dumps WHERE id = $ID;
 SELECT b.* FROM dump_buckets db JOIN buckets b ON b.id = db.bucket_id WHERE db.dump_id = $ID;
 SELECT id FROM dumps WHERE duplicate_of = $ID;
 SELECT * FROM analyses WHERE dump_id = $ID;
 SELECT c.*, r.* FROM analyses a JOIN contexts c ON c.analysis_id = a.id LEFT JOIN roots r ON r.context_id = c.id WHERE a.dump_id = $ID"
q_report="SELECT discovered_at / 86400000, state, COUNT(*), SUM(has_leak) FROM dumps WHERE discovered_at >= $S7 AND discovered_at < $NOW GROUP BY 1, 2;
 SELECT app, COUNT(*), SUM(has_leak) FROM dumps WHERE discovered_at >= $S7 AND discovered_at < $NOW GROUP BY app ORDER BY 2 DESC;
 SELECT b.id, b.kind, b.title, x.n, b.first_seen >= $S7 FROM (SELECT bucket_id, COUNT(*) AS n FROM dump_buckets WHERE seen_at >= $S7 AND seen_at < $NOW GROUP BY bucket_id) x JOIN buckets b ON b.id = x.bucket_id ORDER BY x.n DESC LIMIT 200;
 SELECT bucket_id, COUNT(*) FROM dump_buckets WHERE seen_at >= $P7 AND seen_at < $S7 GROUP BY bucket_id;
 SELECT b.id, r.kind, r.catalogue_id, r.probable_false_root FROM buckets b JOIN roots r ON r.id = (SELECT max(id) FROM roots WHERE bucket_id = b.id) WHERE b.kind = 'root' AND b.last_seen >= $S7"
# process start-up alone (the dumpscout binary loads libcurl with its TLS/Kerberos/LDAP dependencies)
hyperfine -N --warmup 3 --runs "$RUNS" --style none --export-json "$out/startup.json" "$DS --version" "sqlite3 -version" >/dev/null 2>&1
names=(list list_app buckets show report)
cli=("$DS list --limit 50 --db $DB" "$DS list --app $APP --since 7d --db $DB" "$DS buckets --db $DB" "$DS show $ID --db $DB" "$DS report --since 7d --db $DB")
sqls=("$q_list" "$q_list_app" "$q_buckets" "$q_show" "$q_report")
goals=(20 20 300 20 300)
for i in "${!names[@]}"; do
	printf '%s\n' "${sqls[$i]}" >"$out/${names[$i]}.sql"
	hyperfine -N --warmup 3 --runs "$RUNS" --style none --export-json "$out/${names[$i]}.json" \
		"${cli[$i]}" "$SQL -cmd '.read $out/${names[$i]}.sql' .quit" >/dev/null 2>&1 ||
		hyperfine --warmup 3 --runs "$RUNS" --style none --export-json "$out/${names[$i]}.json" \
			"${cli[$i]} >/dev/null" "$SQL < $out/${names[$i]}.sql >/dev/null" >/dev/null
done
python3 - "$out" "${names[*]}" "${goals[*]}" <<'PY'
import json, sys
out, names, goals = sys.argv[1], sys.argv[2].split(), [float(g) for g in sys.argv[3].split()]
st = json.load(open("%s/startup.json" % out))["results"]
s0c, s0s = st[0]["median"] * 1000, st[1]["median"] * 1000
print("start-up alone: dumpscout --version %.1f ms, sqlite3 -version %.1f ms" % (s0c, s0s))
print("%-10s %10s %10s %7s %11s   %s" % ("command", "CLI ms", "SQL ms", "ratio", "net ratio", "goal"))
bad = 0
for n, g in zip(names, goals):
    r = json.load(open("%s/%s.json" % (out, n)))["results"]
    c, s = r[0]["median"] * 1000, r[1]["median"] * 1000
    ok = c < g and c <= 1.2 * s
    bad += not ok
    net = (c - s0c) / max(s - s0s, 0.05)
    print("%-10s %10.1f %10.1f %7.2f %11.2f   < %d ms and <= 1.2x: %s" % (n, c, s, c / s, net, g, "met" if ok else "MISSED"))
print("cli: %d goal(s) missed" % bad if bad else "cli: every goal met")
print("(net ratio: both sides minus their own start-up time)")
PY
