#!/usr/bin/env bash
# run_local.sh - what `make run` runs: dumpscoutd in the foreground on ./var/ (database var/dumpscout.db,
# dumps dropped into var/dumps/), with a config written to var/dumpscout.json on first use (edit it and
# run again; it is never overwritten). Ctrl-C stops the service cleanly. With --write-config it only
# writes (if missing) and checks that config.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
root=$(pwd)
var="$root/var"
cfg="$var/dumpscout.json"
mkdir -p "$var"
if [ ! -f "$cfg" ]; then
	cat >"$cfg" <<JSON
{
	"data_dir": "$var",
	"dump_dirs": ["$var/dumps"],
	"db": "$var/dumpscout.db",
	"log_level": "info",
	"watch": { "stability_ms": 2000, "rescan_s": 300 },
	"analysis": { "concurrency": 1, "engine": "" }
}
JSON
	echo "run: wrote $cfg (every key: docs/service.md)"
fi
"$BUILD/dumpscoutd" --check-config --config "$cfg" >/dev/null || { "$BUILD/dumpscoutd" --check-config --config "$cfg"; exit 2; }
# --write-config: only make sure the config exists and is valid (`make demo` uses it)
[ "${1:-}" = "--write-config" ] && exit 0
cat <<TXT
run: dumpscoutd on ./var/ — stop it with Ctrl-C
  drop dumps into:   $var/dumps/
                     (or make a .NET program write them there: $BUILD/dumpscout collect enable --dir $var/dumps)
  query:             $BUILD/dumpscout list --db var/dumpscout.db
                     $BUILD/dumpscout show ID --db var/dumpscout.db
  config:            $cfg
TXT
exec "$BUILD/dumpscoutd" --config "$cfg"
