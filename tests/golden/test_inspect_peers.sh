#!/usr/bin/env bash
# Compares `dumpscout inspect --json` with peer tools (winedump, eu-readelf) on every corpus dump.
cd "$(dirname "$0")/../.." && source tests/lib.sh
python3 tests/golden/inspect_peers.py "$DS" "$CORPUS"
