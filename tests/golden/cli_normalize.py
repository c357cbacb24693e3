#!/usr/bin/env python3
"""cli_normalize.py - makes `dumpscout` output comparable across runs for tests/golden/test_cli.sh:
the temporary folder becomes <T>, times and ages become placeholders; in JSON (--json), members that
hold a time, a duration or the service's pid/host are replaced by type-stable placeholders, so the
structure and every other value are still compared. Usage: cli_normalize.py TMPDIR [json] < in > out"""
import json
import re
import sys

tmp = sys.argv[1]
mode = sys.argv[2] if len(sys.argv) > 2 else "text"
VOLATILE = {"discovered_at", "updated_at", "triaged_at", "first_seen", "last_seen", "seen_at", "mtime_ns",
            "started_at", "heartbeat_at", "finished_at", "duration_ms", "next_attempt_at", "lease_until",
            "since", "until", "generated_at", "heartbeat_age_ms", "last_error_at", "oldest_discovered_at",
            "created_at", "sent_at", "hostname", "day"}
TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}Z?)?)?")


def fix_str(s):
    return TIME_RE.sub("<TIME>", s.replace(tmp, "<T>"))


def walk(v, key=None, parent=None):
    if isinstance(v, dict):
        return {k: walk(x, k, v) for k, x in v.items()}
    if isinstance(v, list):
        return [walk(x, key, parent) for x in v]
    if key in VOLATILE and v is not None:
        return "<volatile>"
    if key == "pid" and isinstance(parent, dict) and "heartbeat_at" in parent:
        return "<volatile>"  # the service's own pid
    if key in ("path",) and isinstance(parent, dict) and "available" in parent:
        return "<engine>"
    if isinstance(v, str):
        return fix_str(v)
    return v


data = sys.stdin.read()
if mode == "json":
    print(json.dumps(walk(json.loads(data)), indent=1, sort_keys=False))
else:
    data = data.replace(tmp, "<T>")
    data = TIME_RE.sub("<TIME>", data)
    data = re.sub(r"heartbeat \d+[smhd] ago", "heartbeat <AGE> ago", data)
    data = re.sub(r"pid \d+ on \S+,", "pid <PID> on <HOST>,", data)
    data = re.sub(r"\(dotnet-dump ([^,]*), \d+[smhd], finished", r"(dotnet-dump \1, <DUR>, finished", data)
    data = re.sub(r"dotnet-dump at \S+", "dotnet-dump at <ENGINE>", data)
    sys.stdout.write(data)
