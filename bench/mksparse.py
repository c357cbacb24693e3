#!/usr/bin/env python3
"""mksparse.py OUTDIR SIZE_GIB - writes two large sparse dumps for the constant-time benchmark:
a full-memory Windows minidump whose Memory64List describes SIZE_GIB of memory, and an ELF64 core
whose PT_LOAD segments hold SIZE_GIB. Only the headers are real bytes; the memory is a hole in the
file, so the files cost no disk space. Layouts follow the published minidump and ELF formats."""
import os
import struct
import sys

def minidump(path, size):
    streams = []
    # SystemInfo (stream 7): amd64, 8 CPUs, Windows 10.0.19045.
    sysinfo = struct.pack('<HHHBBIIIIIHH', 9, 6, 0, 8, 1, 10, 0, 19045, 2, 0, 0, 0) + b'\0' * 24
    # MiscInfo (stream 15): version 1 layout, flags: process id + times.
    misc = struct.pack('<IIIIII', 24, 3, 4242, 1700000000, 0, 0)
    # Exception (stream 6): thread 7, access violation writing 0x45 at 0x140001000.
    exc = struct.pack('<II', 7, 0) + struct.pack('<IIQQII', 0xC0000005, 0, 0, 0x140001000, 2, 0)
    exc += struct.pack('<QQ', 1, 0x45) + b'\0' * (13 * 8) + struct.pack('<II', 0, 0)
    # ThreadList (stream 3): one thread, id 7.
    threads = struct.pack('<I', 1) + struct.pack('<IIIIQQIIII', 7, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    chunk = 64 << 20
    nranges = max(1, size // chunk)
    mem64 = struct.pack('<QQ', nranges, 0)  # BaseRva patched below
    for i in range(nranges):
        mem64 += struct.pack('<QQ', 0x10000000 + i * chunk * 2, chunk)
    streams = [(7, sysinfo), (15, misc), (6, exc), (3, threads), (9, mem64)]
    hdr_size = 32
    dir_rva = hdr_size
    data_rva = dir_rva + 12 * len(streams)
    blobs = b''
    entries = b''
    rvas = []
    for kind, blob in streams:
        rvas.append(data_rva + len(blobs))
        entries += struct.pack('<III', kind, len(blob), data_rva + len(blobs))
        blobs += blob
        while len(blobs) % 8:
            blobs += b'\0'
    base_rva = (data_rva + len(blobs) + 4095) & ~4095
    # patch Memory64List BaseRva
    mem_off = rvas[-1] - data_rva
    blobs = blobs[:mem_off + 8] + struct.pack('<Q', base_rva) + blobs[mem_off + 16:]
    header = struct.pack('<4sIIIIIQ', b'MDMP', 0xA793, len(streams), dir_rva, 0, 1700000100, 2)
    with open(path, 'wb') as f:
        f.write(header + entries + blobs)
        f.truncate(base_rva + nranges * chunk)

def elfcore(path, size):
    # NT_PRSTATUS for x86_64: 336 bytes; pr_cursig at 12, pr_pid at 32.
    prstatus = bytearray(336)
    struct.pack_into('<H', prstatus, 12, 11)
    struct.pack_into('<I', prstatus, 32, 4243)
    # NT_PRPSINFO for x86_64: 136 bytes; pr_pid at 24, pr_fname at 40, pr_psargs at 56.
    prpsinfo = bytearray(136)
    struct.pack_into('<I', prpsinfo, 24, 4243)
    prpsinfo[40:40 + 8] = b'bigcore\0'
    prpsinfo[56:56 + 16] = b'./bigcore --run\0'
    def note(ntype, desc):
        name = b'CORE\0'
        n = struct.pack('<III', len(name), len(desc), ntype) + name
        while len(n) % 4:
            n += b'\0'
        n += bytes(desc)
        while len(n) % 4:
            n += b'\0'
        return n
    notes = note(1, prstatus) + note(3, prpsinfo)
    chunk = 64 << 20
    nload = max(1, size // chunk)
    phnum = 1 + nload
    phoff = 64
    note_off = phoff + 56 * phnum
    data_off = (note_off + len(notes) + 4095) & ~4095
    eh = struct.pack('<4sBBBBB7sHHIQQQIHHHHHH', b'\x7fELF', 2, 1, 1, 0, 0, b'\0' * 7,
                     4, 62, 1, 0, phoff, 0, 0, 64, 56, phnum, 64, 0, 0)
    ph = struct.pack('<IIQQQQQQ', 4, 4, note_off, 0, 0, len(notes), 0, 4)
    for i in range(nload):
        ph += struct.pack('<IIQQQQQQ', 1, 6, data_off + i * chunk, 0x10000000 + i * chunk * 2, 0,
                          chunk, chunk, 4096)
    with open(path, 'wb') as f:
        f.write(eh + ph + notes)
        f.truncate(data_off + nload * chunk)

def main():
    out, gib = sys.argv[1], float(sys.argv[2])
    size = int(gib * (1 << 30))
    os.makedirs(out, exist_ok=True)
    minidump(os.path.join(out, 'full-%sg.dmp' % sys.argv[2]), size)
    elfcore(os.path.join(out, 'full-%sg.core' % sys.argv[2]), size)

if __name__ == '__main__':
    main()
