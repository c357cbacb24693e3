#!/usr/bin/env bash
# The analyzer end to end: the real engine on every real fixture dump, checked against the scenarios'
# expectations (culprit, root kind, context name, control without a leak), the transcript round trip,
# and signature stability across two processes. Builds the fixtures first when they are missing.
cd "$(dirname "$0")/../.." && source tests/lib.sh
if [ ! -f build/fixtures/dumps/s01-static-field.dmp ]; then
	make -s fixtures >/dev/null 2>&1 || { fail analyze_fixtures "make fixtures failed"; exit 0; }
fi
/usr/bin/python3 tests/e2e/analyze_check.py "$DS" build/fixtures/dumps tests/fixtures/dotnet/expect
