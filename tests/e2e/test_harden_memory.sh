#!/usr/bin/env bash
# test_harden_memory.sh - bounded memory per triage (issue 12 item 3; README "Limits"): a hostile ~19 MB
# minidump claiming 100,000 modules, threads and thread names, every module named by one 16,000-character
# string, is triaged with what fits (exit 0, "truncated" says what was left out), and the peak resident
# memory measured by /usr/bin/time -v stays under the stated budget: 64 MiB for `dumpscout inspect --json`
# (the whole process), 96 MiB for dumpscoutd triaging it and recording it in the database. Before the
# caps, the reader allocated 32 KiB per name (3 GB in the daemon) or gave up with exit 1.
set -u
cd "$(dirname "$0")/../.."
source tests/lib.sh

HOSTILE_GEN=$BUILD/tests/mkhostile
if [ ! -x /usr/bin/time ]; then skip harden_memory "no /usr/bin/time (make deps installs the time package)"; exit 0; fi
if [ ! -x "$HOSTILE_GEN" ]; then skip harden_memory "no $HOSTILE_GEN (make $HOSTILE_GEN)"; exit 0; fi
scratch
"$HOSTILE_GEN" "$SCRATCH/hostile.dmp" || { fail hostile_dump_written "mkhostile failed"; exit 0; }
size=$(stat -c %s "$SCRATCH/hostile.dmp")
[ "$size" -gt 18000000 ] && pass hostile_dump_written || fail hostile_dump_written "only $size bytes"

# peak_kib FILE: the "Maximum resident set size" /usr/bin/time -v wrote to FILE
peak_kib() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1"; }

/usr/bin/time -v "$DS" inspect --json "$SCRATCH/hostile.dmp" >"$SCRATCH/out.json" 2>"$SCRATCH/time"
rc=$?
expect_eq inspect_hostile_exit_0 "$rc" 0
kib=$(peak_kib "$SCRATCH/time")
if [ -n "$kib" ] && [ "$kib" -lt 65536 ]; then pass inspect_hostile_under_64MiB
else fail inspect_hostile_under_64MiB "peak ${kib:-?} KiB (budget 65536)"; fi
echo "    (inspect --json of a $size-byte hostile minidump: peak RSS ${kib:-?} KiB)"
got=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["module_count"], d["thread_count"], ",".join(d["truncated"] or []))' "$SCRATCH/out.json" 2>&1)
expect_eq inspect_hostile_truncated "$got" "10000 20000 threads,modules,strings"

# The daemon: triage, JSON and the database row, measured over the service's whole life.
if [ ! -x "$DSD" ] || ! command -v sqlite3 >/dev/null; then skip daemon_hostile "no $DSD or sqlite3"; exit 0; fi
T=$SCRATCH/svc
D=$T/var/dumps
DB=$T/var/dumpscout.db
mkdir -p "$T"
printf '{ "data_dir": "%s/var", "watch": { "stability_ms": 200, "rescan_s": 2 } }\n' "$T" >"$T/cfg.json"
/usr/bin/time -v "$DSD" --config "$T/cfg.json" 2>"$T/log" &
TPID=$!
for _ in $(seq 100); do grep -q ready "$T/log" 2>/dev/null && [ -d "$D" ] && break; sleep 0.05; done
cp "$SCRATCH/hostile.dmp" "$D/hostile.dmp"
if wait_for 60 "SELECT state FROM dumps WHERE file_name='hostile.dmp'" done; then pass daemon_hostile_triaged
else fail daemon_hostile_triaged "$(q "SELECT state, last_error FROM dumps")"; fi
expect_eq daemon_hostile_counts "$(q "SELECT module_count||' '||thread_count FROM dumps WHERE file_name='hostile.dmp'")" "10000 20000"
# the daemon is the child of time: signal it, then time reports
pkill -TERM -P "$TPID" 2>/dev/null
wait "$TPID"
kib=$(peak_kib "$T/log")
if [ -n "$kib" ] && [ "$kib" -lt 98304 ]; then pass daemon_hostile_under_96MiB
else fail daemon_hostile_under_96MiB "peak ${kib:-?} KiB (budget 98304)"; fi
echo "    (dumpscoutd triaging it: peak RSS ${kib:-?} KiB)"
