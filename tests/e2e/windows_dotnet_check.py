#!/usr/bin/env python3
"""windows_dotnet_check.py NAME SHOW_JSON EXPECT_JSON [LINUX_JSON] - checks what the Windows service stored
for a .NET fixture dump (`dumpscout.exe show ID --json`, run under Wine) against the scenario's
expectations (tests/fixtures/dotnet/expect/*.json, written from the fixture program's source): the held
context by name, and a real root of the expected kind whose culprit is the expected static field (or
handle; the SOS-era kinds of the expectation files mapped to the engine's). With LINUX_JSON (the Linux build's `dumpscout analyze --engine-json` of the engine document the
Windows build saved for the same dump), the two must agree on every context's name, state, and real roots
(kind, culprit, signature). Prints PASS/FAIL lines named after NAME."""
import json
import sys

# The SOS-era root kinds of the expectation files, as the engine's (docs/engine.md) kinds.
SOS_KIND = {"static_variable": "static_field", "thread_stack": "stack", "strong_handle": "strong_handle",
            "pinned_handle": "pinned_handle", "thread_static": "thread_static"}


def find_contexts(o):
    """The first 'contexts' list of objects found in o (the analysis result, wherever show nests it)."""
    if isinstance(o, dict):
        c = o.get('contexts')
        if isinstance(c, list) and all(isinstance(x, dict) for x in c) and c:
            return c
        for v in o.values():
            r = find_contexts(v)
            if r is not None:
                return r
    elif isinstance(o, list):
        for v in o:
            r = find_contexts(v)
            if r is not None:
                return r
    return None


def real_roots(ctx):
    return [r for r in ctx.get('roots') or [] if not r.get('probable_false_root')]


def summary(ctxs):
    return sorted((c.get('name') or '', c.get('state') or '',
                   sorted((r.get('kind'), r.get('culprit'), r.get('signature')) for r in real_roots(c)))
                  for c in ctxs)


def main():
    name, show, exp = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
    ctxs = find_contexts(show)
    if ctxs is None:
        print('FAIL %s_held_context: no analysis contexts stored: %s' % (name, json.dumps(show)[:600]))
        return
    named = [c for c in ctxs if c.get('name') == exp['alc_name']]
    if named and all(c.get('state') == 'unloading_held' for c in named):
        print('PASS %s_held_context' % name)
    else:
        print('FAIL %s_held_context: want %r held; contexts %s' % (
            name, exp['alc_name'], [(c.get('name'), c.get('state')) for c in ctxs]))
    roots = [r for c in named for r in real_roots(c)]
    eng = exp.get('engine') or {}
    kind = eng.get('root_kind') or SOS_KIND.get(exp['root_kind'], exp['root_kind'])
    field = eng.get('field', exp.get('culprit') if kind in ('static_field', 'thread_static') else None)
    # the database keeps a root's culprit (for a static, the field) and no separate field column
    match = [r for r in roots if r.get('kind') == kind and
             (field is None or (r.get('field') or r.get('culprit')) == field)]
    if match:
        print('PASS %s_root_%s%s' % (name, kind, '_' + field if field else ''))
    else:
        print('FAIL %s_root_%s: want %s %s; roots %s' % (name, kind, kind, field or '',
                                                      [(r.get('kind'), r.get('field'), r.get('culprit')) for r in roots]))
    if len(sys.argv) > 4:
        lin = find_contexts(json.load(open(sys.argv[4]))) or []
        if summary(lin) == summary(ctxs):
            print('PASS %s_linux_agrees' % name)
        else:
            print('FAIL %s_linux_agrees: windows %s, linux %s' % (name, summary(ctxs), summary(lin)))


main()
