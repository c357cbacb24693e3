#!/usr/bin/env python3
# service_bench.py - the measuring half of bench/service.sh: runs the real dumpscoutd on a temporary
# folder and measures, in one run: idle RSS and idle CPU over a minute (/proc/PID/status VmHWM,
# /proc/PID/stat utime+stime), the latency from a dump becoming complete to its triaged row for dumps
# dropped one by one (renamed into the folder: complete at the rename; the stability window is part of
# the latency and is also shown subtracted), the triage throughput and peak RSS during a burst of files
# renamed in at once, and the peers (`dumpscout inspect`, `eu-readelf --notes`, `winedump dump`) run
# sequentially over the same burst files. Benchmark scaffolding, not part of dumpscout.
import argparse
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time


def pct(vals, p):
    s = sorted(vals)
    if not s:
        return float("nan")
    k = (len(s) - 1) * p / 100.0
    f = int(k)
    c = min(f + 1, len(s) - 1)
    return s[f] + (s[c] - s[f]) * (k - f)


def proc_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return -1


def proc_cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state): utime is field 14, stime field 15
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stage_copy(src, dst, salt):
    shutil.copyfile(src, dst)
    with open(dst, "ab") as f:  # trailing bytes: a distinct hash, the same dump for the readers
        f.write(("\0bench-%s\0" % salt).encode())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dsd", required=True)
    ap.add_argument("--ds", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--engine", required=True)
    ap.add_argument("--stability-ms", type=int, default=500)
    ap.add_argument("--latency-n", type=int, default=200)
    ap.add_argument("--burst-n", type=int, default=2000)
    ap.add_argument("--idle-s", type=float, default=60)
    ap.add_argument("--big", action="append", default=[], help="large dumps mixed into the latency run")
    ap.add_argument("--big-every", type=int, default=20)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()

    T = a.dir
    var, stage, dumps = os.path.join(T, "var"), os.path.join(T, "stage"), os.path.join(T, "var", "dumps")
    os.makedirs(stage, exist_ok=True)
    db = os.path.join(var, "dumpscout.db")
    cfg = os.path.join(T, "cfg.json")
    with open(cfg, "w") as f:
        json.dump({"data_dir": var, "log_level": "warn", "heartbeat_s": 30,
                   "watch": {"stability_ms": a.stability_ms, "rescan_s": 300},
                   "analysis": {"engine": a.engine, "command_timeout_s": 10, "dump_timeout_s": 30},
                   "retries": {"max_attempts": 1},
                   "retention": {"max_count": 0, "max_bytes": 0, "max_age_days": 0}}, f)
    log = open(os.path.join(T, "dumpscoutd.log"), "w")
    p = subprocess.Popen([a.dsd, "--config", cfg, "--log-level", "info"], stderr=log)
    res = {}
    try:
        for _ in range(200):
            if os.path.exists(db) and os.path.isdir(dumps):
                break
            time.sleep(0.05)
        time.sleep(2)
        res["idle_rss_kib"] = proc_kib(p.pid, "VmRSS")
        res["idle_hwm_kib"] = proc_kib(p.pid, "VmHWM")
        c0 = proc_cpu_s(p.pid)
        t0 = time.monotonic()
        time.sleep(a.idle_s)
        res["idle_cpu_s"] = proc_cpu_s(p.pid) - c0
        res["idle_wall_s"] = time.monotonic() - t0

        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
        q = ("SELECT state, triaged_at, updated_at FROM dumps WHERE path = ? "
             "AND state NOT IN ('discovered') ORDER BY id DESC LIMIT 1")
        lat, lat_big, states = [], [], {}
        for i in range(a.latency_n):
            big = a.big and a.big_every > 0 and i % a.big_every == a.big_every - 1
            src = a.big[(i // a.big_every) % len(a.big)] if big else a.files[i % len(a.files)]
            name = "lat-%04d-%s" % (i, os.path.basename(src))
            sp, dp = os.path.join(stage, name), os.path.join(dumps, name)
            stage_copy(src, sp, "lat%d" % i)
            t_rename = time.time() * 1000.0
            os.rename(sp, dp)
            row = None
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                row = con.execute(q, (dp,)).fetchone()
                if row is not None:
                    break
                time.sleep(0.003)
            if row is None:
                print("latency: %s never left 'discovered'" % name, file=sys.stderr)
                continue
            states[row[0]] = states.get(row[0], 0) + 1
            at = row[1] if row[1] is not None else row[2]
            (lat_big if big else lat).append(at - t_rename)
            if big:
                os.unlink(dp)  # keep the disk use down; the row stays
        res["latency_ms"] = lat
        res["latency_big_ms"] = lat_big
        res["latency_states"] = states

        # the burst: staged first, then renamed in as fast as Python can
        names = []
        for i in range(a.burst_n):
            src = a.files[i % len(a.files)]
            name = "burst-%05d-%s" % (i, os.path.basename(src))
            stage_copy(src, os.path.join(stage, name), "burst%d" % i)
            names.append((name, src))
        t_first = time.time() * 1000.0
        for name, _ in names:
            os.rename(os.path.join(stage, name), os.path.join(dumps, name))
        t_last = time.time() * 1000.0
        peak_rss = 0
        deadline = time.monotonic() + 300
        qn = "SELECT count(*) FROM dumps WHERE file_name LIKE 'burst-%' AND state <> 'discovered'"
        while time.monotonic() < deadline:
            peak_rss = max(peak_rss, proc_kib(p.pid, "VmRSS"))
            if con.execute(qn).fetchone()[0] >= a.burst_n:
                break
            time.sleep(0.02)
        rows = con.execute("SELECT min(coalesce(triaged_at, updated_at)), max(coalesce(triaged_at, updated_at)), "
                           "count(*) FROM dumps WHERE file_name LIKE 'burst-%' AND state <> 'discovered'").fetchone()
        res["burst_states"] = dict(con.execute("SELECT state, count(*) FROM dumps WHERE file_name LIKE 'burst-%' "
                                               "GROUP BY state").fetchall())
        res["burst_done"] = rows[2]
        res["burst_rename_ms"] = t_last - t_first
        res["burst_total_ms"] = (rows[1] or t_first) - t_first
        res["burst_triage_span_ms"] = (rows[1] or 0) - (rows[0] or 0)
        res["burst_peak_rss_kib"] = peak_rss
        res["burst_hwm_kib"] = proc_kib(p.pid, "VmHWM")
        con.close()
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            res["exit"] = p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            res["exit"] = "killed"
        log.close()

    # peers, sequentially over the same burst files (as they now lie in the folder)
    peers = {}
    files = [(os.path.join(dumps, n), s) for n, s in names]

    def run_all(cmd, subset):
        t = time.monotonic()
        ok = 0
        for f in subset:
            r = subprocess.run(cmd + [f], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            ok += r.returncode == 0
        return len(subset), ok, time.monotonic() - t

    allf = [f for f, _ in files]
    elf = [f for f, s in files if s.endswith(".core")]
    mdmp = [f for f, s in files if s.endswith(".dmp")]
    peers["dumpscout inspect --json (all)"] = run_all([a.ds, "inspect", "--json"], allf)
    peers["sha256sum (all)"] = run_all(["sha256sum"], allf)
    if shutil.which("eu-readelf"):
        peers["dumpscout inspect --json (ELF)"] = run_all([a.ds, "inspect", "--json"], elf)
        peers["eu-readelf --notes (ELF)"] = run_all(["eu-readelf", "--notes"], elf)
    if shutil.which("winedump"):
        peers["dumpscout inspect --json (MDMP)"] = run_all([a.ds, "inspect", "--json"], mdmp)
        peers["winedump dump (MDMP)"] = run_all(["winedump", "dump"], mdmp)
    res["peers"] = peers

    W = a.stability_ms
    lat = res["latency_ms"]
    print("dumpscoutd service benchmark (stability window %d ms, %d dumps one by one, a burst of %d)"
          % (W, a.latency_n, a.burst_n))
    print("\nlatency: file renamed in (complete) -> its triaged row")
    print("  %-36s %8s %8s %8s %8s" % ("", "p50 ms", "p99 ms", "max ms", "n"))
    print("  %-36s %8.1f %8.1f %8.1f %8d" % ("small dumps (window included)", pct(lat, 50), pct(lat, 99), max(lat or [0]), len(lat)))
    print("  %-36s %8.1f %8.1f %8.1f %8d" % ("small dumps (minus the window)", pct(lat, 50) - W, pct(lat, 99) - W, max(lat or [0]) - W, len(lat)))
    if res["latency_big_ms"]:
        lb = res["latency_big_ms"]
        print("  %-36s %8.1f %8.1f %8.1f %8d" % ("68 MiB .NET heap dumps (window incl.)", pct(lb, 50), pct(lb, 99), max(lb), len(lb)))
    allv = lat + res["latency_big_ms"]
    print("  states: %s" % json.dumps(res["latency_states"]))
    print("\nburst: %d files renamed in within %.0f ms" % (a.burst_n, res["burst_rename_ms"]))
    print("  all recorded and triaged %.2f s after the first rename (window included): %.0f dumps/s"
          % (res["burst_total_ms"] / 1000, a.burst_n / max(res["burst_total_ms"] / 1000, 1e-9)))
    span = res["burst_triage_span_ms"] / 1000
    print("  first to last triaged row: %.2f s: %.0f dumps/s triage throughput" % (span, a.burst_n / max(span, 1e-9)))
    print("  states: %s" % json.dumps(res["burst_states"]))
    print("\nmemory and CPU of dumpscoutd")
    print("  idle RSS %.1f MiB (peak so far %.1f MiB)" % (res["idle_rss_kib"] / 1024, res["idle_hwm_kib"] / 1024))
    print("  peak RSS over the whole run (VmHWM) %.1f MiB; highest RSS sampled during the burst %.1f MiB"
          % (res["burst_hwm_kib"] / 1024, res["burst_peak_rss_kib"] / 1024))
    print("  idle CPU %.3f s over %.0f s (%.3f%%)" % (res["idle_cpu_s"], res["idle_wall_s"],
                                                     100 * res["idle_cpu_s"] / res["idle_wall_s"]))
    print("  exit status after SIGTERM: %s" % res["exit"])
    print("\npeers, one process per file, sequentially over the burst's files")
    base = peers["dumpscout inspect --json (all)"]
    for k, (n, ok, s) in peers.items():
        print("  %-34s %5d files (%5d ok) %7.2f s %8.0f files/s" % (k, n, ok, s, n / max(s, 1e-9)))
    print("  dumpscoutd burst (triage + hash + SQLite rows)  %8.0f files/s" % (a.burst_n / max(span, 1e-9)))
    goals = [
        ("p99 latency < window + 100 ms (%d ms)" % (W + 100), pct(allv, 99) < W + 100, "%.1f ms" % pct(allv, 99)),
        ("peak RSS in the burst < 64 MiB", res["burst_hwm_kib"] < 64 * 1024, "%.1f MiB" % (res["burst_hwm_kib"] / 1024)),
        ("idle CPU ~0 (< 0.1%)", res["idle_cpu_s"] / res["idle_wall_s"] < 0.001,
         "%.3f%%" % (100 * res["idle_cpu_s"] / res["idle_wall_s"])),
        ("every burst file recorded", res["burst_done"] == a.burst_n, "%d/%d" % (res["burst_done"], a.burst_n)),
    ]
    print("\ngoals")
    for g, ok, v in goals:
        print("  %-4s %-44s %s" % ("met" if ok else "MISS", g, v))
    with open(os.path.join(T, "result.json"), "w") as f:
        json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
