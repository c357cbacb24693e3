#!/usr/bin/env bash
# test_systemd_unit.sh - `systemd-analyze verify` on installer/dumpscoutd.service as `make install`
# writes it (ExecStart pointing at the installed dumpscoutd; here the built one). verify exits 0 even for
# unknown keys and bad values, so any line it prints is a failure. A copy with a misspelt key and a bad
# value must be flagged, or the check could not fail. Skipped where systemd-analyze is missing.
set -u
cd "$(dirname "$0")/../.."
source tests/lib.sh

if ! command -v systemd-analyze >/dev/null 2>&1; then
	skip systemd_unit_verify "systemd-analyze is not installed (make deps installs the systemd package)"
	exit 0
fi
if [ ! -x "$DSD" ]; then
	fail systemd_unit_verify "$DSD is not built"
	exit 0
fi
scratch
bin=$(cd "$(dirname "$DSD")" && pwd)
# the same substitution as the Makefile's install target, with PREFIX/bin = the build folder
sed "s|/usr/local/bin/|$bin/|" installer/dumpscoutd.service >"$SCRATCH/dumpscoutd.service"
grep -q "^ExecStart=$bin/dumpscoutd " "$SCRATCH/dumpscoutd.service" ||
	fail systemd_unit_execstart "the unit's ExecStart is not /usr/local/bin/dumpscoutd as the install target expects"
out=$(cd "$SCRATCH" && systemd-analyze verify "$SCRATCH/dumpscoutd.service" 2>&1); rc=$?
if [ "$rc" -eq 0 ] && [ -z "$out" ]; then
	pass systemd_unit_verify
else
	fail systemd_unit_verify "exit $rc: $(printf '%s' "$out" | head -c 1500)"
fi

sed -e 's/^NoNewPrivileges=yes/NoNewPrivilege=yes/' -e 's/^Restart=on-failure/Restart=sometimes/' \
	"$SCRATCH/dumpscoutd.service" >"$SCRATCH/broken.service"
out=$(cd "$SCRATCH" && systemd-analyze verify "$SCRATCH/broken.service" 2>&1)
if grep -q "NoNewPrivilege" <<<"$out" && grep -q "sometimes" <<<"$out"; then
	pass systemd_unit_verify_catches_mistakes
else
	fail systemd_unit_verify_catches_mistakes "a misspelt key and a bad value went unreported: $out"
fi
