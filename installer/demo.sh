#!/usr/bin/env bash
# demo.sh - what `make demo` runs: a newcomer's first five minutes. Makes sure dumpscoutd runs on ./var/
# (starts it in the background when it is not running, with the same config as `make run`), crashes one
# real .NET fixture program (a plugin host whose unloaded plugin is kept alive by a static Lazy<T>) into
# var/dumps/, waits until the service has processed the dump, shows `dumpscout show` of it, and stops
# the service again if it started it. It installs nothing: `make deps` and `make fixtures` do.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SCENARIO=${DEMO_SCENARIO:-s02-static-lazy-dynamic}
WAIT_S=${DEMO_WAIT_S:-300}
root=$(pwd)
var=$root/var
cfg=$var/dumpscout.json
db=$var/dumpscout.db
DS=$BUILD/dumpscout
DSD=$BUILD/dumpscoutd
# Bold headings on a terminal only, and never with NO_COLOR.
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
	say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
	say() { printf '\n== %s\n' "$*"; }
fi

for b in "$DS" "$DSD"; do
	[ -x "$b" ] || { echo "demo: $b is missing: run 'make' first" >&2; exit 1; }
done
if ! command -v dotnet >/dev/null; then
	echo "demo: the .NET SDK (dotnet) is needed to build and crash the fixture program: run 'make deps'" >&2
	exit 1
fi
bash installer/run_local.sh --write-config

# Is a dumpscoutd already serving var/? Its status row names its pid; the process must still be it.
running_pid() {
	local pid
	pid=$("$DS" status --json --db "$db" 2>/dev/null |
		python3 -c 'import json,sys; s=json.load(sys.stdin).get("service") or {}; print(s.get("pid") or "")' 2>/dev/null) || true
	[ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dumpscoutd ] && echo "$pid"
	return 0
}
STARTED=
LOG=$var/demo-dumpscoutd.log
stop_started() {
	if [ -n "$STARTED" ]; then
		say "stopping the dumpscoutd this demo started (pid $STARTED)"
		kill -TERM "$STARTED" 2>/dev/null || true
		wait "$STARTED" 2>/dev/null || true
		STARTED=
	fi
}
trap stop_started EXIT

pid=$(running_pid)
if [ -n "$pid" ]; then
	say "dumpscoutd is already running on ./var/ (pid $pid): using it"
else
	say "starting dumpscoutd on ./var/ in the background (log: var/demo-dumpscoutd.log)"
	echo "   (to keep it running yourself instead: make run, in another terminal)"
	: >"$LOG"
	"$DSD" --config "$cfg" 2>>"$LOG" &
	STARTED=$!
	for _ in $(seq 100); do grep -q "ready" "$LOG" && break; sleep 0.1; done
	grep -q "ready" "$LOG" || { echo "demo: dumpscoutd did not start:" >&2; tail -5 "$LOG" >&2; exit 1; }
fi
dumps=$("$DS" status --json --db "$db" | python3 -c 'import json,sys; print(json.load(sys.stdin)["service"]["config"]["dump_dirs"][0])')

say "crashing the fixture scenario $SCENARIO into $dumps"
echo "   (a .NET plugin host: its plugin's AssemblyLoadContext was unloaded, but a static field still"
echo "    holds it; the program then calls Environment.FailFast and the runtime's createdump writes a heap dump)"
dump=$(tests/fixtures/make_fixtures.sh --crash "$SCENARIO" --into "$dumps" | tail -1)
[ -f "$dump" ] || { echo "demo: the fixture did not write a dump (see above)" >&2; exit 1; }
echo "   wrote $dump ($(stat -c %s "$dump") bytes)"

say "waiting for dumpscoutd to record, triage and analyse it (at most $WAIT_S s)"
state=
t0=$(date +%s)
while :; do
	state=$("$DS" show "$dump" --json --db "$db" 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin).get("state",""))' 2>/dev/null) || state=
	case $state in done | failed | unsupported) break ;; esac
	if [ $(($(date +%s) - t0)) -ge "$WAIT_S" ]; then
		echo "   still '${state:-not recorded}' after $WAIT_S s; showing what there is"
		break
	fi
	sleep 1
done
echo "   state: ${state:-not recorded} after $(($(date +%s) - t0)) s"

say "dumpscout show $dump"
"$DS" show "$dump" --db "$db" || true
cat <<TXT

Next:
  $DS list --db var/dumpscout.db            every dump the service recorded
  $DS buckets --db var/dumpscout.db         the same crash or the same leak, grouped
  $DS report --db var/dumpscout.db          the summary a mail digest carries
  make run                                  keep the service running in the foreground
TXT
