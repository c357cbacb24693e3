#!/usr/bin/env python3
"""engine_check.py - checks dumpscout-heap's JSON documents (docs/engine.md, format 1) against the
contract's shape and against each fixture's expectations (tests/fixtures/dotnet/expect/*.json, written
from the fixture programs' code). Prints PASS/FAIL lines for tests/run.sh.

Usage: engine_check.py EXPECT_DIR OUT_DIR   (OUT_DIR holds NAME.json and NAME.rc per dump; NAME is
SCENARIO[.second][@RUNTIME])"""
import json
import os
import re
import sys

HEX = re.compile(r"^0x[0-9a-f]+$")
STATUSES = {"ok", "partial", "no_runtime", "no_dac", "no_heap", "error"}
ROOT_KINDS = {"static_field", "thread_static", "strong_handle", "pinned_handle", "async_pinned_handle",
              "sized_ref_handle", "refcounted_handle", "weak_interior_handle", "stack", "finalizer_queue",
              "runtime_handle"}
VIAS = {"root", "field", "element", "dependent", "loader_allocator", "loader_allocator_handle", "unknown"}
STATES = {"alive", "unloading", "unknown"}
# The SOS-era root kinds of the expectation files, as contract kinds.
SOS_KIND = {"static_variable": "static_field", "thread_stack": "stack", "strong_handle": "strong_handle",
            "pinned_handle": "pinned_handle", "thread_static": "thread_static", "dependent_handle": "dependent",
            "none": "none"}
FALSE_ROOT_KINDS = {"weak_interior_handle", "runtime_handle"}

results = []


def report(ok, name, why=""):
    print(("PASS %s" % name) if ok else ("FAIL %s: %s" % (name, why)))
    results.append(ok)


class Shape(Exception):
    pass


def need(cond, what):
    if not cond:
        raise Shape(what)


def is_addr(v):
    return isinstance(v, str) and HEX.match(v) is not None


def opt_str(v):
    return v is None or isinstance(v, str)


def check_thread(t, where):
    need(isinstance(t, dict), where + ": thread is not an object")
    need(is_addr(t.get("os_id")), where + ": thread.os_id")
    need(isinstance(t.get("managed_id"), int), where + ": thread.managed_id")
    need(opt_str(t.get("name")), where + ": thread.name")


def check_exception(e, where, depth=0):
    if e is None:
        return
    need(isinstance(e, dict) and depth < 10, where)
    need(opt_str(e.get("type")) and opt_str(e.get("message")), where + ": type/message")
    need(is_addr(e.get("hresult")), where + ": hresult")
    need(e.get("thread") is None or is_addr(e.get("thread")), where + ": thread")
    need(isinstance(e.get("stack"), list) and all(isinstance(s, str) for s in e["stack"]), where + ": stack")
    check_exception(e.get("inner"), where + ".inner", depth + 1)


def check_shape(d):
    """Raises Shape naming the first departure from docs/engine.md."""
    need(isinstance(d, dict), "document is not an object")
    need(d.get("format") == 1, "format is not 1")
    eng = d.get("engine")
    need(isinstance(eng, dict) and eng.get("name") == "dumpscout-heap" and isinstance(eng.get("version"), str)
         and isinstance(eng.get("clrmd"), str), "engine")
    need(d.get("status") in STATUSES, "status %r" % d.get("status"))
    need(opt_str(d.get("error")), "error")
    need(isinstance(d.get("warnings"), list) and all(isinstance(w, str) for w in d["warnings"]), "warnings")
    rt = d.get("runtime")
    if rt is not None:
        need(isinstance(rt.get("version"), str) and opt_str(rt.get("flavor")) and opt_str(rt.get("dac"))
             and rt.get("pointer_size") in (4, 8), "runtime")
    hp = d.get("heap")
    if hp is not None:
        need(all(isinstance(hp.get(k), int) and hp[k] >= 0 for k in ("objects", "bytes", "duration_ms"))
             and isinstance(hp.get("can_walk"), bool), "heap")
    check_exception(d.get("exception"), "exception")
    ft = d.get("faulting_thread")
    if ft is not None:
        need(is_addr(ft.get("os_id")) and isinstance(ft.get("managed_id"), int) and opt_str(ft.get("name"))
             and isinstance(ft.get("stack"), list), "faulting_thread")
    need(isinstance(d.get("contexts"), list), "contexts")
    for i, c in enumerate(d["contexts"]):
        w = "contexts[%d]" % i
        need(is_addr(c.get("loader_allocator")), w + ".loader_allocator")
        for k in ("scout", "alc"):
            need(c.get(k) is None or is_addr(c.get(k)), w + "." + k)
        need(opt_str(c.get("alc_type")) and opt_str(c.get("name")), w + ".alc_type/name")
        need(c.get("state") in STATES, w + ".state")
        need(isinstance(c.get("dynamic"), bool) and isinstance(c.get("roots_truncated"), bool), w + ".dynamic")
        need(isinstance(c.get("assemblies"), list) and all(isinstance(a, str) for a in c["assemblies"]),
             w + ".assemblies")
        if c["alc"] is None:
            need(c["name"] is None and c["alc_type"] is None, w + ": name without alc")
        need(isinstance(c.get("roots"), list), w + ".roots")
        for j, r in enumerate(c["roots"]):
            rw = "%s.roots[%d]" % (w, j)
            k = r.get("kind")
            need(k in ROOT_KINDS, rw + ".kind %r" % k)
            need(opt_str(r.get("field")) and opt_str(r.get("frame")), rw + ".field/frame")
            if k in ("static_field", "thread_static"):
                need(isinstance(r.get("field"), str) and "." in r["field"], rw + ": field missing")
            if k == "thread_static" or k == "stack":
                check_thread(r.get("thread"), rw)
            elif r.get("thread") is not None:
                check_thread(r["thread"], rw)
            if k.endswith("_handle"):
                need(is_addr(r.get("handle")), rw + ".handle")
            hint = r.get("false_root_hint")
            need(hint == (k if k in FALSE_ROOT_KINDS else None), rw + ".false_root_hint %r" % hint)
            need(isinstance(r.get("path_truncated"), bool), rw + ".path_truncated")
            path = r.get("path")
            need(isinstance(path, list) and len(path) >= 1, rw + ".path")
            for n, l in enumerate(path):
                lw = "%s.path[%d]" % (rw, n)
                need(is_addr(l.get("address")) and opt_str(l.get("type")), lw + ".address/type")
                need(l.get("via") in VIAS, lw + ".via %r" % l.get("via"))
                need((l["via"] == "root") == (n == 0), lw + ": via root only first")
                need(opt_str(l.get("field")) and opt_str(l.get("method")) and opt_str(l.get("runtime_type")),
                     lw + ".field/method/runtime_type")
                need(isinstance(l.get("collectible"), bool), lw + ".collectible")
                if l["via"] in ("field", "element"):
                    need(isinstance(l.get("field"), str) and l["field"] != "", lw + ": field name missing")
                if l["via"] == "element":
                    need(l["field"].startswith("["), lw + ": element field not [index]")
                dep = l.get("dependent")
                if l["via"] == "dependent":
                    need(isinstance(dep, dict) and is_addr(dep.get("handle"))
                         and (dep.get("table") is None or is_addr(dep.get("table")))
                         and opt_str(dep.get("table_type")), lw + ".dependent")
                    tr = dep.get("table_root")
                    need(tr is None or (tr.get("kind") in ROOT_KINDS and opt_str(tr.get("field"))),
                         lw + ".dependent.table_root")
                else:
                    need(dep is None, lw + ".dependent set off a dependent link")
            need(path[-1]["address"] == c["loader_allocator"] or r["path_truncated"] is True,
                 rw + ": path does not end at the context's LoaderAllocator")
    rs = d.get("roots_searched")
    need(isinstance(rs, dict) and all(isinstance(rs.get(k), int) for k in
                                      ("handles", "statics", "thread_statics", "stack", "finalizer")), "roots_searched")


def real_roots(c):
    return [r for r in c["roots"] if r["false_root_hint"] is None]


def root_signature(c):
    """What must not change between two processes of one scenario: kinds, fields, frames, types on paths."""
    return sorted((r["kind"], r["field"] or "", r["frame"] or "", tuple(l["type"] or "" for l in r["path"]))
                  for r in real_roots(c))


def check_dump(name, scenario, runtime, exp, d, rc):
    tag = name
    report(rc == 0, tag + ": exit status", "status %s" % rc)
    if d is None:
        report(False, tag + ": json", "no JSON document")
        return None
    try:
        check_shape(d)
        report(True, tag + ": contract shape")
    except Shape as e:
        report(False, tag + ": contract shape", str(e))
        return None
    report(d["status"] in ("ok", "partial"), tag + ": status", "%s (%s)" % (d["status"], d["error"]))
    ex = d.get("exception") or {}
    report(ex.get("type") == exp["exception_type"], tag + ": exception type",
           "got %r, expected %r" % (ex.get("type"), exp["exception_type"]))
    eng = dict(exp.get("engine") or {})
    # Per-runtime differences (engine.runtimes.net8 = {...}) override the defaults for that runtime's dumps.
    eng.update((eng.get("runtimes") or {}).get(runtime) or {})
    want_kind = eng.get("root_kind") or SOS_KIND.get(exp["root_kind"], exp["root_kind"])
    held = [c for c in d["contexts"] if real_roots(c)]
    for clean in exp.get("clean_alcs", []):
        bad = [c for c in held if c["name"] == clean]
        report(not bad, tag + ": context %s not held" % clean, "it has roots: %s" % [r["kind"] for r in bad[0]["roots"]] if bad else "")
    if not exp["leaks"]:
        report(not held, tag + ": no held context", "held: %s" % [c["name"] for c in held])
        if exp["crash_message"] and ex.get("type") != "System.ExecutionEngineException":
            report(ex.get("message") == exp["crash_message"], tag + ": exception message",
                   "got %r" % ex.get("message"))
        rs = d["roots_searched"]
        report(rs["handles"] > 0 and rs["statics"] > 0, tag + ": handle and static roots searched", str(rs))
        return None
    # A static (or thread static) is named from the type system on every runtime: no path may start at a
    # handle holding one of the runtime's statics arrays (before .NET 9 statics live in handle-held Object[]s).
    unnamed = [(c["name"], r["kind"]) for c in held for r in real_roots(c)
               if r["kind"].endswith("_handle") and r["path"] and r["path"][0]["type"] == "System.Object[]"]
    report(not unnamed, tag + ": no root through a statics array", "roots: %s" % unnamed)
    ctx = [c for c in d["contexts"] if c["name"] == exp["alc_name"]]
    if not ctx:
        report(False, tag + ": context " + exp["alc_name"], "not found among %s" % [c["name"] for c in d["contexts"]])
        return None
    c = ctx[0]
    report(c["state"] == "unloading", tag + ": context state", "got %s" % c["state"])
    report(c["alc_type"] == "Scout.Host.PluginLoadContext", tag + ": context type", "got %s" % c["alc_type"])
    report("Scout.Plugin" in c["assemblies"], tag + ": context assemblies", str(c["assemblies"]))
    roots = real_roots(c)
    if want_kind == "dependent":
        match = [r for r in roots if any(l["via"] == "dependent" for l in r["path"])]
    else:
        match = [r for r in roots if r["kind"] == want_kind]
    report(bool(match), tag + ": root kind " + want_kind, "roots: %s" % [(r["kind"], r["field"]) for r in roots])
    if not match:
        return c
    culprit = exp.get("culprit", "")
    field = eng.get("field", culprit if want_kind in ("static_field", "thread_static") else None)
    if field:
        # Through a dependent handle the culprit may be what holds the ConditionalWeakTable (table_root).
        def names(r):
            out = [r["field"]]
            for l in r["path"]:
                tr = (l.get("dependent") or {}).get("table_root") or {}
                if tr.get("kind") == want_kind:
                    out.append(tr.get("field"))
            return out
        report(any(field in names(r) for r in match), tag + ": field " + field,
               "fields: %s" % [names(r) for r in match])
        match = [r for r in match if field in names(r)] or match
    if eng.get("decoy_field"):
        report(all(r["field"] != eng["decoy_field"] for r in roots), tag + ": decoy " + eng["decoy_field"] + " not a root",
               "it is")
    for other in eng.get("other_roots") or []:
        ok = [r for r in c["roots"] if r["kind"] == other["root_kind"]
              and (other.get("field") is None or r["field"] == other["field"])
              and (other.get("thread_name") is None or (r["thread"] or {}).get("name") == other["thread_name"])]
        report(bool(ok), tag + ": other root %s %s" % (other["root_kind"], other.get("field") or other.get("thread_name") or ""),
               "roots: %s" % [(r["kind"], r["field"]) for r in c["roots"]])
    if want_kind == "stack" and culprit:
        report(any((r["frame"] or "").startswith(culprit + "(") for r in match), tag + ": frame " + culprit,
               "frames: %s" % [r["frame"] for r in match])
    if want_kind.endswith("_handle") and "." in culprit:
        report(any(any(l["type"] == culprit for l in r["path"]) for r in match), tag + ": path through " + culprit,
               "paths: %s" % [[l["type"] for l in r["path"]] for r in match])
    if exp.get("root_object_type"):
        report(any(r["path"][0]["type"] == exp["root_object_type"] for r in match), tag + ": root object type",
               "got %s" % [r["path"][0]["type"] for r in match])
    if eng.get("dependent"):
        deps = [l["dependent"] for r in match for l in r["path"] if l["via"] == "dependent"]
        report(bool(deps), tag + ": dependent link", "none")
        if eng.get("table_type"):
            report(any(dl.get("table_type") == eng["table_type"] for dl in deps), tag + ": dependent table type",
                   "got %s" % [dl.get("table_type") for dl in deps])
        if eng.get("key_field"):
            report(any(r["field"] == eng["key_field"] for r in match), tag + ": key root " + eng["key_field"],
                   "roots: %s" % [r["field"] for r in match])
    if eng.get("registered_method"):
        report(any(any(eng["registered_method"] in (l["method"] or "") for l in r["path"]) for r in match),
               tag + ": registered method " + eng["registered_method"],
               "methods: %s" % [[l["method"] for l in r["path"] if l["method"]] for r in match])
    thread_name = eng.get("thread_name")
    if thread_name is None and scenario == "s04-thread-stack":
        thread_name = "greeter-pump"  # Plugin.cs names the pump thread
    if thread_name:
        report(any((r["thread"] or {}).get("name") == thread_name for r in match), tag + ": thread " + thread_name,
               "threads: %s" % [r["thread"] for r in match])
    return c


def main():
    expect_dir, out_dir = sys.argv[1], sys.argv[2]
    held = {}
    for f in sorted(os.listdir(out_dir)):
        if not f.endswith(".json"):
            continue
        name = f[:-5]
        # NAME is SCENARIO[.second][@RUNTIME] (dumps of older runtimes sit in dumps/net8/, dumps/net9/).
        base, _, runtime = name.partition("@")
        scenario = base[:-len(".second")] if base.endswith(".second") else base
        exp_path = os.path.join(expect_dir, scenario + ".json")
        if not os.path.exists(exp_path):
            report(False, name + ": expectations", "no " + exp_path)
            continue
        with open(exp_path) as fh:
            exp = json.load(fh)
        with open(os.path.join(out_dir, name + ".rc")) as fh:
            rc = int(fh.read().strip() or "-1")
        try:
            with open(os.path.join(out_dir, f)) as fh:
                d = json.load(fh)
        except ValueError:
            d = None
        c = check_dump(name, scenario, runtime, exp, d, rc)
        if c is not None:
            held.setdefault((scenario, runtime), []).append((name, root_signature(c)))
    for _, runs in sorted(held.items()):
        if len(runs) < 2:
            continue
        first = runs[0][1]
        for name, sig in runs[1:]:
            report(sig == first, "%s: same roots as %s" % (name, runs[0][0]), "%s vs %s" % (sig, first))
    return 0


if __name__ == "__main__":
    sys.exit(main())
