#!/usr/bin/env python3
"""gen_db.py - fills a dumpscout database with a synthetic history for the CLI benchmark (bench/cli.sh):
N dumps (default 1,000,000) across B buckets (default 5,000: 4,900 crash buckets and 100 root
signatures) and A applications (default 200), over the last D days (default 90).

Distributions: application and bucket popularity are Zipf-like (a few hot crashes, a long tail), each
crash bucket belongs to one main application (a few spill into others), arrivals grow towards the
present with daily bursts, ~8% of dumps are .NET with a heap and ~40% of those hold a context (roots in
one to three signatures), states are mostly done with some failed/unsupported and a small live queue.
The schema comes from schema/*.sql (the same files the binaries embed); the counters the store keeps
(buckets.count, first/last seen, bucket_apps, dump_buckets) are computed here so the data is
consistent. One transaction, executemany: two to three minutes for a million dumps.

Usage: bench/gen_db.py OUT.db [--dumps N] [--buckets B] [--apps A] [--days D] [--seed S] [--now MS]
"""
import argparse
import bisect
import glob
import os
import random
import sqlite3
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--dumps", type=int, default=1_000_000)
ap.add_argument("--buckets", type=int, default=5000)
ap.add_argument("--apps", type=int, default=200)
ap.add_argument("--days", type=int, default=90)
ap.add_argument("--seed", type=int, default=7)
ap.add_argument("--now", type=int, default=None, help="ms since the epoch (default: now)")
ap.add_argument("--schema", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "schema"))
a = ap.parse_args()

rnd = random.Random(a.seed)
now = a.now if a.now is not None else int(time.time() * 1000)
DAY = 86400 * 1000
if os.path.exists(a.out):
    os.remove(a.out)
for suffix in ("-wal", "-shm"):
    if os.path.exists(a.out + suffix):
        os.remove(a.out + suffix)

db = sqlite3.connect(a.out, isolation_level=None)
files = sorted(glob.glob(os.path.join(a.schema, "[0-9][0-9][0-9]_*.sql")))
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=OFF")
for f in files:
    db.executescript("BEGIN;" + open(f).read() + ";COMMIT;")
db.execute("PRAGMA user_version=%d" % len(files))


def zipf_cdf(n, s):
    w = [1.0 / (i + 1) ** s for i in range(n)]
    tot = sum(w)
    acc, out = 0.0, []
    for x in w:
        acc += x / tot
        out.append(acc)
    out[-1] = 1.0
    return out


def pick(cdf):
    return bisect.bisect_left(cdf, rnd.random())


apps = ["App%03d.Service" % i for i in range(a.apps)]
n_root = max(1, a.buckets // 50)
n_crash = a.buckets - n_root
exc = [("EXCEPTION_ACCESS_VIOLATION_READ", 0xC0000005), ("EXCEPTION_STACK_OVERFLOW", 0xC00000FD),
       ("SIGSEGV", 11), ("SIGABRT", 6), ("CLR_EXCEPTION", 0xE0434352), ("EXCEPTION_ACCESS_VIOLATION_WRITE", 0xC0000005)]
crash = []  # (app index, key, title, exception)
app_cdf = zipf_cdf(a.apps, 1.0)
for i in range(n_crash):
    ai = pick(app_cdf)
    e = exc[rnd.randrange(len(exc))]
    mod = rnd.choice(["coreclr.dll", "ntdll.dll", "libcoreclr.so", "KERNELBASE.dll", "libc.so.6", "plugin%d.dll" % (i % 37)])
    key = "%s|%s|0x%08x|0x%x" % (apps[ai], mod, e[1], rnd.randrange(0x1000, 0x200000))
    crash.append((ai, key, key, e))
roots = []
kinds = ["static", "strong_handle", "stack", "finalizer", "event"]
for i in range(n_root):
    culprit = "Plugin%02d.Cache.Instances" % i if i % 3 else "MessagePack.MessagePackSerializerOptions.Options"
    roots.append(("%s|%s|sig%04d" % (kinds[i % 5], culprit, i), culprit, kinds[i % 5]))

# Buckets: ids 1..n_crash crash, then roots.
bucket_rows = [(i + 1, "crash", c[1], c[2]) for i, c in enumerate(crash)]
bucket_rows += [(n_crash + i + 1, "root", r[0], r[1]) for i, r in enumerate(roots)]
stat = {}   # bucket id -> [count, first, last]
bapps = {}  # (bucket id, app) -> [count, first, last]

crash_cdf = zipf_cdf(n_crash, 1.1)
root_cdf = zipf_cdf(n_root, 1.2)
span = a.days * DAY
states = ["done"] * 900 + ["failed"] * 40 + ["unsupported"] * 40 + ["triaged"] * 15 + ["discovered"] * 5


def when():
    # arrivals grow towards the present (u^0.7 skews to recent) with a daily rhythm
    u = rnd.random() ** 0.7
    t = now - int((1.0 - u) * span) - 1
    hour_shift = int(rnd.gauss(0, 3) * 3600 * 1000)
    t2 = t + hour_shift
    return t2 if now - span <= t2 < now else t


dumps, links, ctx_rows, root_rows, an_rows = [], [], [], [], []
ctx_id = root_id = an_id = 0
for i in range(1, a.dumps + 1):
    bi = pick(crash_cdf)
    ai, key, title, e = crash[bi]
    if rnd.random() < 0.05:
        ai = pick(app_cdf)  # the same crash in another application
    app = apps[ai]
    t = when()
    st = rnd.choice(states)
    net = rnd.random() < 0.08
    leak = 1 if net and rnd.random() < 0.4 and st == "done" else 0
    size = int(rnd.lognormvariate(17.5 if net else 13.0, 1.0))
    path = "/var/lib/dumpscout/dumps/%s.%d.dmp" % (app, i)
    triaged = st != "discovered"
    dumps.append((i, path, os.path.basename(path), size, t * 1_000_000, t, t, st,
                  t + 1000 if triaged else None, app if triaged else None,
                  "minidump", "windows", "windows", "10.0.19045", "x86_64",
                  10000 + i % 50000, app + ".exe", "1.%d.0" % (i % 7), t - 500,
                  e[1], e[0], "0x7ff6%08x" % (i % 0xffffff), 1 + i % 9000, 12 + i % 20, 40 + i % 100,
                  "coreclr" if net else None, "8.0.%d" % (i % 11) if net else None, 1 if net else 0,
                  bi + 1 if triaged else None, leak))
    if triaged:
        links.append((i, bi + 1, app, t))
        s = stat.setdefault(bi + 1, [0, t, t])
        s[0] += 1; s[1] = min(s[1], t); s[2] = max(s[2], t)
        p = bapps.setdefault((bi + 1, app), [0, t, t])
        p[0] += 1; p[1] = min(p[1], t); p[2] = max(p[2], t)
    if leak:
        an_id += 1
        an_rows.append((an_id, i, "dotnet-dump", "9.0", "ok", t + 2000, t + 9000, 7000))
        seen = set()
        for c in range(1 + (rnd.random() < 0.3)):
            ctx_id += 1
            ctx_rows.append((ctx_id, an_id, c, "PluginContext%d" % c, "0x%012x" % rnd.randrange(1 << 40), "held"))
            for r in range(1 + (rnd.random() < 0.3)):
                ri = pick(root_cdf)
                rb = n_crash + ri + 1
                root_id += 1
                root_rows.append((root_id, ctx_id, i, r, roots[ri][2], roots[ri][1], roots[ri][0], 0,
                                  "messagepack-dynamic-assembly" if "MessagePack" in roots[ri][1] else None,
                                  "-> %s\n  -> System.Reflection.LoaderAllocator" % roots[ri][1], rb))
                if rb not in seen:
                    seen.add(rb)
                    links.append((i, rb, app, t))
                    s = stat.setdefault(rb, [0, t, t])
                    s[0] += 1; s[1] = min(s[1], t); s[2] = max(s[2], t)
                    p = bapps.setdefault((rb, app), [0, t, t])
                    p[0] += 1; p[1] = min(p[1], t); p[2] = max(p[2], t)

db.execute("BEGIN")
db.executemany("INSERT INTO buckets (id, kind, key, title, first_seen, last_seen, count) VALUES (?,?,?,?,?,?,?)",
               [(b[0], b[1], b[2], b[3], stat.get(b[0], [0, now, now])[1], stat.get(b[0], [0, now, now])[2],
                 stat.get(b[0], [0])[0]) for b in bucket_rows])
db.executemany("INSERT INTO dumps (id, path, file_name, size, mtime_ns, discovered_at, updated_at, state, triaged_at, app,"
               " format, writer, os, os_version, arch, pid, process_name, app_version, dump_time, exception_code,"
               " exception_name, exception_address, crashing_thread, thread_count, module_count, runtime_name,"
               " runtime_version, has_heap, crash_bucket_id, has_leak) VALUES (" + ",".join("?" * 30) + ")", dumps)
db.executemany("INSERT INTO analyses (id, dump_id, engine, engine_version, status, started_at, finished_at, duration_ms)"
               " VALUES (?,?,?,?,?,?,?,?)", an_rows)
db.executemany("INSERT INTO contexts (id, analysis_id, ordinal, name, loader_allocator, state) VALUES (?,?,?,?,?,?)", ctx_rows)
db.executemany("INSERT INTO roots (id, context_id, dump_id, ordinal, kind, culprit, signature, probable_false_root,"
               " catalogue_id, chain_text, bucket_id) VALUES (?,?,?,?,?,?,?,?,?,?,?)", root_rows)
db.executemany("INSERT INTO dump_buckets (dump_id, bucket_id, app, seen_at) VALUES (?,?,?,?)", links)
db.executemany("INSERT INTO bucket_apps (bucket_id, app, first_seen, last_seen, count) VALUES (?,?,?,?,?)",
               [(k[0], k[1], v[1], v[2], v[0]) for k, v in bapps.items()])
db.execute("INSERT INTO service_status (id, version, pid, hostname, started_at, heartbeat_at) VALUES (1, '0.1.0', 1, 'bench', ?, ?)",
           (now - DAY, now))
db.execute("COMMIT")
# No ANALYZE: the service never runs it, so the planner sees what it sees on a real database.
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
db.close()
print("gen_db: %d dumps, %d buckets (%d crash, %d root), %d apps, %d analyses, %d roots -> %s"
      % (a.dumps, a.buckets, n_crash, n_root, a.apps, len(an_rows), len(root_rows), a.out), file=sys.stderr)
