#!/usr/bin/env bash
# test_harden_engine.sh - a dumpscoutd killed with -9 while the engine runs leaves no engine behind
# (issue 12 item 7): the next dumpscoutd on the same database ends the orphaned engine's process group
# at start (the engine is tests/tools/fake_engine.sh, which waits and ignores its pipe; the dump a .NET
# fixture core), and the real engine ends by itself when its parent pipe closes (--parent-pipe).
set -u
cd "$(dirname "$0")/../.."
source tests/lib.sh

FIX=build/fixtures/dumps/s01-static-field.dmp
if [ ! -x "$DSD" ] || ! command -v sqlite3 >/dev/null; then skip harden_engine "no $DSD or sqlite3"; exit 0; fi
if [ ! -f "$FIX" ]; then skip harden_engine "no $FIX (make fixtures)"; exit 0; fi
if [ ! -d /proc/self ]; then skip harden_engine "no /proc"; exit 0; fi
T=$(mktemp -d "${TMPDIR:-/tmp}/dumpscout-engine.XXXXXX")
D=$T/var/dumps
DB=$T/var/dumpscout.db
PID=
trap 'kill -9 $PID 2>/dev/null; [ -n "${EPID:-}" ] && kill -9 -- "-$EPID" 2>/dev/null; rm -rf "$T"' EXIT
printf '{ "data_dir": "%s/var", "watch": { "stability_ms": 300 }, "analysis": { "engine": "%s/tests/tools/fake_engine.sh" } }\n' \
	"$T" "$PWD" >"$T/cfg.json"
start || { fail harden_engine_start "$(tail -5 "$T/log")"; exit 0; }
cp "$FIX" "$D/s01.dmp"
EPID=
for _ in $(seq 600); do
	# the engine: a session leader whose parent is this dumpscoutd
	EPID=$(ps -e -o pid=,ppid=,sid=,comm= | awk -v p="$PID" '$2 == p && $1 == $3 { print $1 }' | head -1)
	[ -n "$EPID" ] && break
	sleep 0.1
done
if [ -z "$EPID" ]; then fail engine_started "no engine under dumpscoutd $PID: $(q "SELECT state, last_error FROM dumps")"; exit 0; fi
pass engine_started
kill -9 "$PID"; wait "$PID" 2>/dev/null
sleep 0.3
kill -0 "$EPID" 2>/dev/null && pass engine_outlives_kill9 || skip engine_outlives_kill9 "the engine ended with its parent already"
start || { fail restart "$(tail -5 "$T/log")"; exit 0; }
gone=0
for _ in $(seq 50); do kill -0 "$EPID" 2>/dev/null || { gone=1; break; }; sleep 0.1; done
[ "$gone" = 1 ] && pass orphan_engine_ended_at_start || fail orphan_engine_ended_at_start "engine $EPID still running"
grep -q "ended 1 engine process group" "$T/log" && pass orphan_reap_logged || fail orphan_reap_logged "$(grep -i engine "$T/log" | tail -3)"
kill -TERM "$PID"; wait "$PID"

# The live mechanism: the real engine, given --parent-pipe and a stdin pipe nobody writes to, exits as soon
# as dumpscoutd is killed with -9 (without waiting for a restart), and so does its stack walker. The
# largest dump at hand; engine_orphan.py stops the engine's group across the kill, so the kill always lands
# mid-analysis, and reads the orphan's exit status as its subreaper (3: the caller is gone).
ENGINE=$PWD/build/engine/dumpscout-heap
BIG=$(ls -S build/bench/big/heap-*.dmp build/fixtures/dumps/*.dmp 2>/dev/null | head -1)
if [ ! -x "$ENGINE" ]; then skip engine_parent_pipe "no $ENGINE (make engine)"; exit 0; fi
D=$T/var2/dumps
printf '{ "data_dir": "%s/var2", "watch": { "stability_ms": 300 }, "analysis": { "engine": "%s" } }\n' \
	"$T" "$ENGINE" >"$T/cfg2.json"
out=$(python3 tests/e2e/engine_orphan.py "$DSD" "$T/cfg2.json" "$T/log2" "$BIG" "$D/big.dmp")
echo "    ($(basename "$BIG"), $(stat -c %s "$BIG") bytes: $(echo $out))"
case $out in
*"engine "*) pass engine_parent_pipe_started ;;
*) fail engine_parent_pipe_started "$out $(tail -3 "$T/log2")"; exit 0 ;;
esac
case $out in
*"status exit 3"*) pass engine_exits_when_daemon_killed ;;
*) fail engine_exits_when_daemon_killed "$out" ;;
esac
case $out in
*"left 0"*) pass engine_group_gone_after_kill9 ;;
*) fail engine_group_gone_after_kill9 "$out" ;;
esac
