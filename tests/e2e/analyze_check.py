#!/usr/bin/env python3
"""analyze_check.py DUMPSCOUT FIXTURES_DIR EXPECT_DIR - runs `dumpscout analyze --json` (the heap engine:
the path the service uses) on every fixture dump and compares the result with the scenario's expectations
file (written from the fixture program's own source). Also checks that the saved engine document
re-classifies to the same result, that the recorded SOS session of the same scenario (tests/golden/sos/,
classified through --transcript) names the same cause with the same signature, and that the same scenario
crashed in two processes gets the same signature. Prints PASS/FAIL/SKIP lines."""
import glob
import json
import os
import subprocess
import sys
import tempfile

DS, DUMPS, EXPECT = sys.argv[1], sys.argv[2], sys.argv[3]

def analyze(args):
    p = subprocess.run([DS, 'analyze', '--json', '-q'] + args, capture_output=True, timeout=900)
    try:
        return p.returncode, json.loads(p.stdout), p.stderr.decode()
    except ValueError:
        return p.returncode, None, p.stderr.decode() + p.stdout.decode()[:500]

# The expectation files name root kinds as SOS prints them; the contract's names (docs/engine.md).
KIND = {'static_variable': 'static_field', 'thread_stack': 'stack'}
SOS_DIR = 'tests/golden/sos'
RUNTIME = os.environ.get('FIXTURE_RUNTIME', 'net10')

def real_roots(ctx):
    return [r for r in ctx['roots'] if not r.get('probable_false_root')]

def summary(j):
    out = []
    for c in j['analysis']['contexts']:
        out.append((c.get('name'), c.get('state'),
                    sorted((r['kind'], r.get('culprit'), r['signature']) for r in real_roots(c))))
    return sorted(out, key=lambda x: (x[0] or '', x[1]))

def main():
    sigs = {}
    for ef in sorted(glob.glob(os.path.join(EXPECT, '*.json'))):
        exp = json.load(open(ef))
        sc = exp['scenario']
        dump = os.path.join(DUMPS, sc + '.dmp')
        name = 'analyze_' + sc
        if not os.path.exists(dump):
            print('SKIP %s: no %s (make fixtures)' % (name, dump))
            continue
        with tempfile.TemporaryDirectory() as tmp:
            tr = os.path.join(tmp, 'doc.json')
            rc, j, err = analyze(['--save-document', tr, dump])
            if j is None or rc != 0:
                print('FAIL %s: exit %d: %s' % (name, rc, err.strip()[:300]))
                continue
            a = j['analysis']
            bad = []
            if a['status'] not in ('ok', 'partial'):
                bad.append('status %s' % a['status'])
            held = [c for c in a['contexts'] if c['state'] == 'unloading_held']
            named = [c for c in a['contexts'] if c.get('name') == exp.get('alc_name')]
            if exp['leaks']:
                if a['leak'] is not True:
                    bad.append('leak is %s, expected true' % a['leak'])
                if not named:
                    bad.append('no context named %r (contexts: %s)' % (exp['alc_name'], [c.get('name') for c in a['contexts']]))
                for c in named:
                    if c['state'] != 'unloading_held':
                        bad.append('context %r state %s' % (c['name'], c['state']))
                    roots = real_roots(c)
                    kind = KIND.get(exp['root_kind'], exp['root_kind'])
                    eng = exp.get('engine')
                    if eng:
                        # the engine's view, from the scenario's code: the root's kind and field, the
                        # method the plugin registered, the thread, the dependent handle
                        field = (eng.get('runtimes') or {}).get(RUNTIME, {}).get('field', eng['field'])
                        # (a dependent handle: the engine's root is the key's, the table's holder is the culprit)
                        match = [r for r in roots if r['kind'] == eng['root_kind'] and
                                 (r.get('field') == field or (eng.get('dependent') and r.get('culprit') == field))]
                        if not match:
                            bad.append('no root %s/%s in %s' % (eng['root_kind'], field,
                                                                 [(r['kind'], r.get('field')) for r in roots]))
                        for r in match[:1]:
                            regs = (r.get('registered') or '').split('; ')
                            if eng.get('registered_method') and eng['registered_method'] not in regs:
                                bad.append('registered %r, expected %r' % (r.get('registered'), eng['registered_method']))
                            if eng.get('thread_name') and ((r.get('thread') or {}).get('name') != eng['thread_name']):
                                bad.append('thread %r, expected %r' % (r.get('thread'), eng['thread_name']))
                            if eng.get('dependent') and r.get('mechanism') != 'conditional_weak_table':
                                bad.append('no dependent handle named: %s' % r.get('owner'))
                            if r.get('culprit') not in (exp['culprit'], eng.get('registered_method')):
                                bad.append('culprit %r, expected %r' % (r.get('culprit'), exp['culprit']))
                            if r['catalogue']['id'] in ('unknown', 'static-field-in-host') and r.get('mechanism'):
                                bad.append('registry %s has no catalogue entry' % r['mechanism'])
                            if not c['verdict'].startswith("context '%s' is held by " % exp['alc_name']):
                                bad.append('verdict %r' % c['verdict'][:120])
                    elif not any(r['kind'] == kind and r.get('culprit') == exp['culprit'] for r in roots):
                        bad.append('no root %s/%s in %s' % (kind, exp['culprit'],
                                                             [(r['kind'], r.get('culprit')) for r in roots]))
                    for r in roots:
                        sigs.setdefault(sc, set()).add(r['signature'])
                for clean in exp.get('clean_alcs', []):
                    if any(c.get('name') == clean for c in held):
                        bad.append('clean context %r reported as held' % clean)
                other = [c.get('name') for c in held if c.get('name') not in (exp['alc_name'], None)]
                if other:
                    bad.append('other contexts reported held: %s' % other)
            else:
                if a['leak'] or held:
                    bad.append('control reports a leak: %s' % [(c.get('name'), c['state']) for c in held])
            # The faulting thread's managed stack: FailFast for the ALC scenarios, the throwing method for s10
            # (both from the fixture host's source).
            frames = ' '.join((a.get('faulting_thread') or {}).get('stack') or [])
            want_frame = 'RunThrow' if sc.startswith('s10') else 'FailFast'
            if want_frame not in frames:
                bad.append('faulting stack lacks %s: %s' % (want_frame, frames[:200]))
            et = exp.get('exception_type')
            me = a.get('managed_exception') or {}
            if et and me.get('type') != et:
                bad.append('managed exception %r, expected %r' % (me.get('type'), et))
            print(('FAIL %s: %s' % (name, '; '.join(bad))) if bad else 'PASS %s' % name)
            # The engine document this run saved must re-classify to the same contexts, culprits, signatures.
            rc2, j2, err2 = analyze(['--engine-json', tr])
            tname = 'analyze_document_roundtrip_' + sc
            if j2 is None:
                print('FAIL %s: exit %d: %s' % (tname, rc2, err2.strip()[:300]))
            elif summary(j2) != summary(j):
                print('FAIL %s: live %s, transcript %s' % (tname, summary(j), summary(j2)))
            else:
                print('PASS %s' % tname)
            # SOS's view of the same scenario (an earlier crash of the same code) names the same cause.
            sos = os.path.join(SOS_DIR, sc + '.txt')
            if exp['leaks'] and os.path.exists(sos):
                rc3, j3, err3 = analyze(['--transcript', sos])
                xname = 'analyze_engine_and_transcript_agree_' + sc
                # (SOS prints no delegate targets: a root whose signature includes the registered method
                # can only agree on its culprit)
                key = lambda r: (r['culprit'], r['signature'] if not r.get('registered') else '')
                mine = set(key(r) for c in a['contexts'] if c.get('name') == exp['alc_name'] for r in real_roots(c))
                theirs = set((r['culprit'], r['signature']) for c in (j3 or {}).get('analysis', {}).get('contexts', [])
                             if c.get('name') == exp['alc_name'] for r in real_roots(c))
                theirs |= set((c, '') for c, _ in theirs)
                want = [x for x in mine if x[0] == exp['culprit']]
                if want and any(x in theirs for x in want):
                    print('PASS %s' % xname)
                else:
                    print('FAIL %s: engine %s, transcript %s' % (xname, sorted(mine), sorted(theirs)))
    second = os.path.join(DUMPS, 's02-static-lazy-dynamic.second.dmp')
    if os.path.exists(second) and 's02-static-lazy-dynamic' in sigs:
        rc, j, err = analyze([second])
        s2 = set()
        for c in (j or {}).get('analysis', {}).get('contexts', []):
            for r in real_roots(c):
                s2.add(r['signature'])
        if s2 and s2 == sigs['s02-static-lazy-dynamic']:
            print('PASS analyze_signature_stable_across_processes')
        else:
            print('FAIL analyze_signature_stable_across_processes: %s vs %s' % (sorted(sigs['s02-static-lazy-dynamic']), sorted(s2)))

main()
