#!/usr/bin/env python3
"""inspect_peers.py DUMPSCOUT CORPUS - checks `dumpscout inspect --json` against peer tools that read the
same files: winedump (Wine's minidump dumper) for every minidump it can read, eu-readelf --notes (elfutils)
for every ELF core. The peers' own output is the expected value. Prints PASS/FAIL/SKIP lines."""
import glob
import json
import os
import re
import shutil
import subprocess
import sys

DS, CORPUS = sys.argv[1], sys.argv[2]

def run(argv):
    p = subprocess.run(argv, capture_output=True, timeout=120)
    return p.returncode, p.stdout.decode('utf-8', 'replace')

def inspect(path):
    rc, out = run([DS, 'inspect', '--json', path])
    return rc, (json.loads(out) if rc == 0 and out.strip() else None)

def report(name, problems):
    if problems:
        print('FAIL %s: %s' % (name, '; '.join(problems[:6])))
    else:
        print('PASS %s' % name)

def winedump_facts(text):
    """Pulls pid, thread ids, modules and the exception out of `winedump dump` output."""
    f = {'threads': [], 'modules': []}
    stream = None
    mod = None
    for line in text.splitlines():
        m = re.match(r'Stream \[\d+\]: (\w[\w ()]*)', line)
        if m:
            stream = m.group(1)
            continue
        s = line.strip()
        if stream and stream.startswith('Threads') and s.startswith('ThreadId:'):
            f['threads'].append(int(s.split()[1], 0))
        elif stream and stream.startswith('Modules'):
            if s.startswith('Module #'):
                mod = {}
                f['modules'].append(mod)
            elif s.startswith('BaseOfImage:') and mod is not None:
                mod['base'] = int(s.split()[1], 0)
            elif s.startswith('SizeOfImage:') and mod is not None:
                mod['size'] = int(s.split()[1], 0)
            elif s.startswith('ModuleName:') and mod is not None:
                name = s.split(':', 1)[1].strip()
                if name.startswith('L"') and name.endswith('"'):
                    name = name[2:-1].encode().decode('unicode_escape')
                mod['path'] = name
            elif s.startswith('dwSignature:') and mod is not None:
                mod['sig'] = s.split()[1]
            elif s.startswith('dwFileVersion:') and mod is not None:
                mod['version'] = '.'.join(x.strip() for x in s.split(':', 1)[1].split(','))
        elif stream == 'Exception':
            if s.startswith('ThreadId:'):
                f['exc_thread'] = int(s.split()[1], 0)
            elif s.startswith('ExceptionCode:'):
                f['exc_code'] = int(s.split()[1], 0)
            elif s.startswith('ExceptionAddress:'):
                f['exc_addr'] = int(s.split()[1], 0)
        elif stream and stream.startswith('Misc'):
            if s.startswith('ProcessId:'):
                f['pid'] = int(s.split()[1], 0)
    return f

def padded_thread_list(path):
    """True when the ThreadList stream has breakpad's 4 bytes of padding after its count: winedump reads
    such lists 4 bytes off, so its thread ids are not a usable oracle there."""
    import struct
    with open(path, 'rb') as fh:
        d = fh.read()
    n, rva = struct.unpack_from('<II', d, 8)
    for i in range(n):
        kind, size, r = struct.unpack_from('<III', d, rva + 12 * i)
        if kind == 3 and size >= 4:
            count = struct.unpack_from('<I', d, r)[0]
            return size == 8 + 48 * count
    return False

def check_minidump(path):
    name = 'peer_winedump_' + os.path.basename(path)
    rc, j = inspect(path)
    if j is None:
        return
    wrc, text = run(['winedump', 'dump', path])
    if wrc != 0 or 'Stream [' not in text:
        print('SKIP %s: winedump could not read it' % name)
        return
    w = winedump_facts(text)
    bad = []
    if 'pid' in w and j['pid'] != w['pid']:
        bad.append('pid %s, winedump %s' % (j['pid'], w['pid']))
    if w['threads'] and padded_thread_list(path):
        pass
    elif w['threads'] and [t['id'] for t in j['threads']] != w['threads']:
        bad.append('thread ids %s, winedump %s' % ([t['id'] for t in j['threads']][:5], w['threads'][:5]))
    if w['modules']:
        if j['module_count'] != len(w['modules']):
            bad.append('module_count %d, winedump %d' % (j['module_count'], len(w['modules'])))
        # Matched by base address: dumpscout lists the main executable first, the dump may not.
        by_base = {int(m['base'], 16): m for m in j['modules']}
        for theirs in w['modules']:
            ours = by_base.get(theirs.get('base'))
            if ours is None:
                bad.append('no module at base 0x%x' % theirs.get('base', 0))
                continue
            if int(ours['base'], 16) != theirs.get('base') or ours['size'] != theirs.get('size'):
                bad.append('module %s base/size differ' % ours['name'])
            if theirs.get('path') is not None and ours['path'] != theirs['path']:
                bad.append('module path %r, winedump %r' % (ours['path'], theirs['path']))
            # An all-zero version is no version (dumpscout prints null, as rust-minidump does).
            their_ver = theirs.get('version')
            their_ver = None if their_ver == '0.0.0.0' else their_ver
            if theirs.get('sig') == 'feef04bd' and ours['version'] != their_ver:
                bad.append('version of %s %r, winedump %r' % (ours['name'], ours['version'], theirs.get('version')))
    if 'exc_code' in w:
        e = j['exception']
        if e is None:
            bad.append('no exception, winedump has 0x%x' % w['exc_code'])
        else:
            if int(e['code'], 16) != w['exc_code']:
                bad.append('exception code %s, winedump 0x%x' % (e['code'], w['exc_code']))
            mask = 0xffffffff if j['arch'] in ('x86', 'arm') else (1 << 64) - 1
            if int(e['address'], 16) != w['exc_addr'] & mask:
                bad.append('exception address %s, winedump 0x%x' % (e['address'], w['exc_addr']))
            if e['thread_id'] != w.get('exc_thread'):
                bad.append('exception thread %s, winedump %s' % (e['thread_id'], w.get('exc_thread')))
    report(name, bad)

def readelf_facts(text):
    f = {'prstatus_pids': [], 'cursig': None, 'fname': None, 'psargs': None, 'files': [], 'uid': None}
    kind = None
    for line in text.splitlines():
        s = line.strip()
        m = re.match(r'(\S+)\s+(\d+)\s+(\S+)$', s)
        if m and m.group(1) in ('CORE', 'LINUX', 'NetBSD-CORE', 'GNU'):
            kind = m.group(3)
            continue
        if kind == 'PRSTATUS':
            m = re.search(r'\bpid: (\d+)', s)
            if m and s.startswith('pid:'):
                f['prstatus_pids'].append(int(m.group(1)))
            m = re.search(r'cursig: (\d+)', s)
            if m and f['cursig'] is None:
                f['cursig'] = int(m.group(1))
        elif kind == 'PRPSINFO':
            m = re.search(r'fname: (.*?), psargs: (.*)$', s)
            if m:
                f['fname'], f['psargs'] = m.group(1), m.group(2).rstrip()
            m = re.match(r'uid: (\d+)', s)
            if m:
                f['uid'] = int(m.group(1))
        elif kind == 'FILE':
            m = re.match(r'[0-9a-f]+-[0-9a-f]+ [0-9a-f]+ \d+\s+(.*)$', s)
            if m:
                f['files'].append(m.group(1))
    return f

def check_core(path):
    name = 'peer_eu_readelf_' + os.path.basename(path)
    rc, j = inspect(path)
    if j is None:
        print('FAIL %s: dumpscout inspect exited %d' % (name, rc))
        return
    erc, text = run(['eu-readelf', '--notes', path])
    f = readelf_facts(text)
    bad = []
    if not f['prstatus_pids']:
        print('SKIP %s: no Linux PRSTATUS notes for eu-readelf to show (os %s)' % (name, j['os']))
        return
    if [t['id'] for t in j['threads']] != f['prstatus_pids']:
        bad.append('thread ids %s, eu-readelf %s' % ([t['id'] for t in j['threads']], f['prstatus_pids']))
    if f['cursig'] and j['crashing_thread_id'] != f['prstatus_pids'][0]:
        bad.append('crashing thread %s, eu-readelf first PRSTATUS %s' % (j['crashing_thread_id'], f['prstatus_pids'][0]))
    if f['cursig']:
        e = j['exception']
        if e is None or int(e['code'], 16) != f['cursig']:
            bad.append('signal %s, eu-readelf cursig %d' % (e and e['code'], f['cursig']))
    if f['fname'] is not None and j['process_name'] != f['fname']:
        bad.append('process_name %r, eu-readelf fname %r' % (j['process_name'], f['fname']))
    if f['psargs'] and (j['command_line'] or '').rstrip() != f['psargs']:
        bad.append('command_line %r, eu-readelf psargs %r' % (j['command_line'], f['psargs']))
    if f['files']:
        paths = sorted(set(f['files']))
        ours = sorted(m['path'] for m in j['modules'])
        if ours != paths:
            bad.append('modules %s, eu-readelf NT_FILE %s' % (ours[:4], paths[:4]))
    report(name, bad)

def check_rust_minidump_gold():
    """The crashing thread's first frame in rust-minidump's own JSON output (the gold snapshots shipped
    with the corpus) is the instruction pointer dumpscout reads from the exception's thread context, and
    the crash bucket names that frame's module and module offset."""
    for snap in sorted(glob.glob(os.path.join(CORPUS, 'dumps/mdmp/*.gold.rust-minidump-json*.snap'))):
        dump = snap.split('.gold.')[0]
        name = 'gold_rust_minidump_pc_' + os.path.basename(dump)
        text = open(snap).read()
        gold = json.loads(text[text.index('{'):])
        frames = (gold.get('crashing_thread') or {}).get('frames') or []
        if not frames:
            print('SKIP %s: the gold output has no crashing thread' % name)
            continue
        f0 = frames[0]
        rc, j = inspect(dump)
        e = (j or {}).get('exception') or {}
        bad = []
        if e.get('pc') is None or int(e['pc'], 16) != int(f0['offset'], 16):
            bad.append('pc %s, rust-minidump frame 0 %s' % (e.get('pc'), f0['offset']))
        want = '|%s+0x%x|' % (f0['module'], int(f0['module_offset'], 16))
        if j is None or want not in j['bucket']:
            bad.append('bucket %s lacks %s' % (j and j['bucket'], want))
        report(name, bad)

def main():
    check_rust_minidump_gold()
    if shutil.which('winedump'):
        for p in sorted(glob.glob(os.path.join(CORPUS, 'dumps/mdmp/*.dmp'))):
            check_minidump(p)
    else:
        print('SKIP peer_winedump: winedump not installed (make deps installs wine64-tools)')
    if shutil.which('eu-readelf'):
        for p in sorted(glob.glob(os.path.join(CORPUS, 'dumps/elf/*.core'))):
            check_core(p)
        for p in sorted(glob.glob('build/fixtures/**/*.core', recursive=True)) + \
                sorted(glob.glob('build/fixtures/dumps/*.dmp')):
            with open(p, 'rb') as fh:
                if fh.read(4) == b'\x7fELF':
                    check_core(p)
    else:
        print('SKIP peer_eu_readelf: eu-readelf not installed (make deps installs elfutils)')

main()
