#!/usr/bin/env bash
# test_fixture_triage.sh - native triage of the real .NET fixture dumps (createdump ELF cores) against what
# the fixture script recorded when each process crashed (build/fixtures/dumps/manifest.tsv: the pid the
# process had, the signal that ended it, the runtime it ran on), and the crash report beside each dump.
cd "$(dirname "$0")/../.." && source tests/lib.sh
M=build/fixtures/dumps/manifest.tsv
if [ ! -f "$M" ]; then
	make -s fixtures >/dev/null 2>&1 || { skip fixture_triage "make fixtures failed (needs the .NET SDK)"; exit 0; }
fi
/usr/bin/python3 - "$DS" "$M" <<'PY'
import json, os, subprocess, sys
ds, manifest = sys.argv[1], sys.argv[2]
rows = [l.rstrip('\n').split('\t') for l in open(manifest)][1:]
for dump, pid, status, sig, pname, runtime in rows:
    path = os.path.join(os.path.dirname(manifest), dump)
    name = 'fixture_triage_' + dump
    p = subprocess.run([ds, 'inspect', '--json', path], capture_output=True, text=True)
    if p.returncode != 0:
        print('FAIL %s: inspect exited %d: %s' % (name, p.returncode, p.stderr.strip()[:200]))
        continue
    j = json.loads(p.stdout)
    bad = []
    if j['format'] != 'elf-core' or j['writer'] != 'createdump':
        bad.append('format/writer %s/%s' % (j['format'], j['writer']))
    if j['pid'] != int(pid):
        bad.append('pid %s, the process had %s' % (j['pid'], pid))
    e = j['exception'] or {}
    if not e.get('is_signal') or int(e.get('code', '0x0'), 16) != int(sig):
        bad.append('signal %s, the process died of %s' % (e.get('code'), sig))
    # The runtime writes the apphost's name; the crash report names the managed entry assembly (.dll).
    want = pname[:-4] if pname.endswith('.dll') else pname
    if j['process_name'] != want:
        bad.append('process %r, expected %r' % (j['process_name'], pname))
    rt = j['runtime'] or {}
    if rt.get('name') != 'coreclr' or rt.get('version') != runtime:
        bad.append('runtime %s, expected coreclr %s' % (rt, runtime))
    if not j['has_heap']:
        bad.append('has_heap false for a heap dump (DOTNET_DbgMiniDumpType=2)')
    print(('FAIL %s: %s' % (name, '; '.join(bad))) if bad else 'PASS %s' % name)
# The same crash in two processes lands in the same bucket.
a = json.loads(subprocess.run([ds, 'inspect', '--json', os.path.join(os.path.dirname(manifest), 's02-static-lazy-dynamic.dmp')], capture_output=True, text=True).stdout)
b = json.loads(subprocess.run([ds, 'inspect', '--json', os.path.join(os.path.dirname(manifest), 's02-static-lazy-dynamic.second.dmp')], capture_output=True, text=True).stdout)
print('PASS fixture_same_crash_same_bucket' if a['bucket'] == b['bucket'] and a['pid'] != b['pid'] else
      'FAIL fixture_same_crash_same_bucket: %s vs %s' % (a['bucket'], b['bucket']))
PY
