#!/usr/bin/env python3
"""engine_orphan.py - kills dumpscoutd with SIGKILL while the real heap engine analyses a dump, and reports
how the engine ended (for tests/e2e/test_harden_engine.sh).

This process makes itself a child subreaper (Linux prctl PR_SET_CHILD_SUBREAPER), so the engine, orphaned
by the daemon's death, becomes its child and its exit status can be read: 3 is the engine's "the caller is
gone" (docs/engine.md, --parent-pipe). The engine's process group is stopped before the daemon is killed
and continued after, so the kill always lands while the engine is still working, however fast it is.

usage: engine_orphan.py DUMPSCOUTD CONFIG LOG DUMP_SOURCE DUMP_DEST
prints lines "engine PID", "status exit N" or "status signal N" or "status running", "left N" (processes
of the engine's process group still alive at the end), or "error WHY"."""
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def proc_stat(pid):
    """(ppid, pgrp) of pid, or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            s = f.read()
    except OSError:
        return None
    rest = s[s.rindex(b")") + 2:].split()
    return int(rest[1]), int(rest[2])


def pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def find_engine(daemon, dump):
    """The daemon's child whose descriptor 3 is the dump (how heap_run gives the engine its file)."""
    for p in pids():
        st = proc_stat(p)
        if st is None or st[0] != daemon:
            continue
        try:
            if os.readlink(f"/proc/{p}/fd/3") == dump:
                return p
        except OSError:
            pass
    return None


def reap_children():
    """Collects every exited child (orphans land here); returns {pid: status}."""
    done = {}
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        done[pid] = status
    return done


def main():
    dsd, cfg, log, src, dest = sys.argv[1:6]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("error prctl(PR_SET_CHILD_SUBREAPER) failed")
        return
    with open(log, "ab") as lf:
        daemon = subprocess.Popen([dsd, "--config", cfg], stderr=lf)
    for _ in range(400):
        with open(log, "rb") as f:
            if b"ready" in f.read() and os.path.isdir(os.path.dirname(dest)):
                break
        time.sleep(0.05)
    else:
        daemon.kill()
        print("error dumpscoutd did not start")
        return
    tmp = dest + ".part"
    shutil.copyfile(src, tmp)
    os.rename(tmp, dest)
    engine = None
    for _ in range(60000):  # polled every 5 ms, up to five minutes (triage first)
        engine = find_engine(daemon.pid, dest)
        if engine is not None or daemon.poll() is not None:
            break
        time.sleep(0.005)
    if engine is None:
        daemon.kill()
        print("error no engine started")
        return
    print(f"engine {engine}")
    try:
        os.killpg(engine, signal.SIGSTOP)  # the engine leads its own group: it and its stack walker
    except ProcessLookupError:
        daemon.kill()
        daemon.wait()
        print("error the engine finished before it could be stopped")
        return
    daemon.kill()
    daemon.wait()
    os.killpg(engine, signal.SIGCONT)
    status = None
    seen = {}
    for _ in range(1200):  # a generous bound: two minutes
        seen.update(reap_children())
        if engine in seen:
            status = seen[engine]
            break
        time.sleep(0.1)
    if status is None:
        print("status running")
    elif os.WIFEXITED(status):
        print(f"status exit {os.WEXITSTATUS(status)}")
    else:
        print(f"status signal {os.WTERMSIG(status)}")
    left = []
    for _ in range(600):  # the stack walker ends on the same pipe's end of file
        seen.update(reap_children())
        left = [p for p in pids() if p != os.getpid() and (proc_stat(p) or (0, 0))[1] == engine]
        if not left:
            break
        time.sleep(0.1)
    print(f"left {len(left)}")
    for p in left:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    time.sleep(0.2)
    reap_children()


if __name__ == "__main__":
    main()
