#!/usr/bin/env python3
"""cli_normalize.py - makes `dumpscout` output comparable across runs for tests/golden/test_cli.sh:
the temporary folder becomes <T>, times and ages become placeholders; in JSON (--json), members that
hold a time, a duration or the service's pid/host are replaced by type-stable placeholders, so the
structure and every other value are still compared.
The .NET fixture dumps are made anew on every machine (make fixtures), so what belongs to one crash run
is replaced by what the fixture script recorded for that run: a process id p from
build/fixtures/dumps/manifest.tsv becomes <sNN+0> (and its threads, ids p+1.., <sNN+k>, also in hex as
the engine prints them), user-space addresses become <addr>, the checkout's path <ROOT>, and a fixture
dump's size and SHA-256 placeholders. A wrong pid is not in the manifest, so it still shows as a diff.
Usage: cli_normalize.py TMPDIR [json] < in > out"""
import json
import os
import re
import sys

MANIFEST = "build/fixtures/dumps/manifest.tsv"
PIDS = {}
if os.path.exists(MANIFEST) and os.environ.get("CLI_GOLDEN_FIXTURES", "1") == "1":
    for row in open(MANIFEST).read().splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) > 1 and cols[1].isdigit():
            PIDS[int(cols[1])] = cols[0][:3]
ROOT = os.getcwd()
FIXTURE_NAME = re.compile(r"^s\d\d-")


def run_id(n):
    """<sNN+k> when n is a fixture process id or one of its next thread ids, else None."""
    best = None
    for p, sc in PIDS.items():
        if p <= n < p + 200 and (best is None or p > best[0]):
            best = (p, sc)
    return "<%s+%d>" % (best[1], n - best[0]) if best else None


def fix_run_ids(s):
    s = re.sub(r"\b\d{3,7}\b", lambda m: run_id(int(m.group(0))) or m.group(0), s)
    # (a hex run id stands alone: "ead" in "thread" is a word, not 0xead)
    s = re.sub(r"(?<![0-9A-Za-z_])[0-9a-f]{3,6}\b", lambda m: run_id(int(m.group(0), 16)) or m.group(0), s)
    s = re.sub(r"0x[0-9a-f]{9,16}\b", "<addr>", s)
    # an OS thread id the engine names (the stack walker's thread, the faulting thread) belongs to the run
    s = re.sub(r"(thread |\"thread\": \"|\"os_id\": \")0x[0-9a-f]{1,8}\b", r"\g<1>0x<tid>", s)
    s = re.sub(r"\b0000[0-9a-f]{12}\b", "<addr>", s)
    s = re.sub(r"\b[0-9a-f]{64}\b", "<fixture-sha256>", s)
    s = re.sub(r"\(\d+ bytes\)", "(<fixture-size> bytes)", s)
    s = re.sub(r"(?<![\w.])\d{7,11}(?![\w.])", "<fixture-size>", s)
    s = re.sub(r"\b\d+ threads, \d+ modules\b", "<n> threads, <n> modules", s)
    return s.replace(ROOT, "<ROOT>")

tmp = sys.argv[1]
mode = sys.argv[2] if len(sys.argv) > 2 else "text"
VOLATILE = {"discovered_at", "updated_at", "triaged_at", "first_seen", "last_seen", "seen_at", "mtime_ns",
            "started_at", "heartbeat_at", "finished_at", "duration_ms", "next_attempt_at", "lease_until",
            "since", "until", "generated_at", "heartbeat_age_ms", "last_error_at", "oldest_discovered_at",
            "created_at", "sent_at", "hostname", "day"}
TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}Z?)?)?")


def fix_str(s, fixture):
    s = TIME_RE.sub("<TIME>", s.replace(tmp, "<T>"))
    return fix_run_ids(s) if PIDS and fixture else s


def walk(v, key=None, parent=None, fixture=False):
    """fixture: inside the object of a fixture dump (only there do run ids get replaced, so a corpus
    dump's pid that happens to fall near a fixture's is still compared as it is)."""
    # Which threads a .NET process happens to have and where its libraries land differ per run: the
    # fixture's triage is checked against its manifest by tests/e2e/test_fixture_triage.sh instead.
    if fixture and PIDS and key in ("threads", "modules", "unloaded_modules", "memory") and \
            isinstance(v, (list, dict)):
        return "<fixture-%s>" % key
    # How many handles, statics and stack slots the engine searched is the runtime's state at the crash
    # (which generics it had instantiated, which threads it had started): per run, like the thread list.
    # tests/e2e/test_engine.sh checks the roots found in every fixture dump.
    if fixture and PIDS and key == "roots_searched" and isinstance(v, dict):
        return {k: "<fixture-count>" if isinstance(x, int) and not isinstance(x, bool) else x
                for k, x in v.items()}
    if isinstance(v, dict):
        fixture = fixture or bool(FIXTURE_NAME.match(str(v.get("file_name", ""))))
        return {k: walk(x, k, v, fixture) for k, x in v.items()}
    if isinstance(v, list):
        return [walk(x, key, parent, fixture) for x in v]
    if key in VOLATILE and v is not None:
        return "<volatile>"
    if fixture and PIDS and key in ("thread", "os_id") and isinstance(v, str) and v.startswith("0x"):
        return "0x<tid>"  # an OS thread id of one crash run
    if key == "pid" and isinstance(parent, dict) and "heartbeat_at" in parent:
        return "<volatile>"  # the service's own pid
    if key in ("path",) and isinstance(parent, dict) and "available" in parent:
        return "<engine>"
    if isinstance(parent, dict) and FIXTURE_NAME.match(str(parent.get("file_name", ""))) and \
            key in ("size", "sha256", "mtime_ns") and v is not None:
        return "<fixture-%s>" % key
    if fixture and PIDS and key in ("thread_count", "module_count", "handle_count"):
        return "<fixture-count>"
    if fixture and isinstance(v, int) and not isinstance(v, bool) and PIDS and run_id(v):
        return run_id(v)
    if isinstance(v, str):
        return fix_str(v, fixture)
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
    data = re.sub(r"heap engine at \S+", "heap engine at <ENGINE>", data)
    data = re.sub(r"\(dumpscout-heap ([^,]*), \d+(\.\d+)?[smhd]", r"(dumpscout-heap \1, <DUR>", data)
    data = re.sub(r"\(dotnet-dump, \d+(\.\d+)?[smh]\)", "(dotnet-dump, <DUR>)", data)
    if PIDS:
        # A whole document about one fixture dump (show), else only the lines that name one.
        marker = re.compile(r"Scout\.|plugin-|\bs[01]\d-[a-z]")
        whole = bool(re.search(r"/s[01]\d-[a-z][^\n]*\.dmp", "\n".join(data.splitlines()[:4])))
        data = "\n".join(fix_run_ids(l) if whole or marker.search(l) else l for l in data.split("\n"))
        # A fixture's pid has 4 or 5 digits depending on the machine, and a table's columns are as wide as
        # their widest cell: with fixtures in the table, compare cells, not padding (tests/unit/
        # test_cli_table.c checks the alignment itself).
        data = re.sub(r"(?<=\S) {2,}(?=\S)", "  ", data)
    sys.stdout.write(data)
