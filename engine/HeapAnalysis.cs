// HeapAnalysis.cs - the engine's one pass: gathers every root (GC handles, static and thread-static
// fields named from the type system, the finalizer queue, the stack roots the isolated child found),
// walks the heap once breadth-first from all of them recording every edge, then for each LoaderAllocator
// searches that recorded graph backwards for the distinct roots that keep it alive. It reads the dump
// through ClrMD only and never throws for one bad object: failures become warnings.
using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.Diagnostics.Runtime;

namespace DumpScout.Heap
{
    internal sealed class Options
    {
        public string Dump = "";
        public string? Dac;
        public int MaxRoots = 16;
        public int MaxPath = 64;
        public bool NoStacks;
        public bool Pretty;
        public bool ParentPipe; // --parent-pipe: stdin's end of file means the caller is gone
        public string Mode = "analyze"; // analyze | stack-roots | walk-only
        public List<uint> SkipThreads = new List<uint>();
    }

    /// <summary>A growable array of value types (the edge lists: a few bytes an edge, no object per edge).</summary>
    internal sealed class Grow<T> where T : struct
    {
        public T[] Items = new T[1024];
        public int Count;

        public void Add(T v)
        {
            if (Count == Items.Length)
                Array.Resize(ref Items, Items.Length * 2);
            Items[Count++] = v;
        }
    }

    internal sealed class HeapAnalysis
    {
        private const byte ViaField = 1, ViaElement = 2, ViaDependent = 3, ViaLoaderAllocator = 4, ViaLaHandle = 5;
        private const string LoaderAllocatorType = "System.Reflection.LoaderAllocator";
        private const string AlcType = "System.Runtime.Loader.AssemblyLoadContext";
        private const int MaxFailuresReported = 5;

        private readonly ClrRuntime rt;
        private readonly ClrHeap heap;
        private readonly Report report;
        private readonly Options opt;
        private readonly int ptr;

        // The reachable graph: node index per object, and every edge reversed (to, from, label, via).
        private readonly Dictionary<ulong, int> index = new Dictionary<ulong, int>();
        private readonly Grow<ulong> addrs = new Grow<ulong>();
        private readonly List<ClrType> types = new List<ClrType>();
        private readonly Grow<int> eTo = new Grow<int>(), eFrom = new Grow<int>(), eLabel = new Grow<int>();
        private readonly Grow<byte> eVia = new Grow<byte>();

        private readonly List<Root> roots = new List<Root>();
        private readonly Dictionary<int, List<int>> rootsOfNode = new Dictionary<int, List<int>>();

        // Statics: every GC static slot address we could name, and the runtime's statics arrays holding them.
        private readonly Dictionary<ulong, string> slotNames = new Dictionary<ulong, string>();
        private readonly HashSet<ulong> staticsArrays = new HashSet<ulong>();

        // Dependent handles by primary, and the ConditionalWeakTable owning each handle.
        private readonly Dictionary<ulong, List<int>> depByPrimary = new Dictionary<ulong, List<int>>();
        private readonly List<(ulong Handle, ulong Primary, ulong Secondary)> deps = new List<(ulong, ulong, ulong)>();
        private readonly Dictionary<ulong, (ulong Table, string? Type)> tableOfHandle = new Dictionary<ulong, (ulong, string?)>();

        // Heap-walk products.
        private readonly List<ulong> loaderAllocators = new List<ulong>();
        private readonly Dictionary<int, string?> threadNames = new Dictionary<int, string?>();
        private readonly HashSet<ulong> typesSeen = new HashSet<ulong>();
        private readonly Dictionary<ClrType, byte> typeKind = new Dictionary<ClrType, byte>();
        private readonly Dictionary<ClrType, ulong> laOfType = new Dictionary<ClrType, ulong>();
        private int failures;

        public HeapAnalysis(ClrRuntime runtime, Report rep, Options options)
        {
            rt = runtime;
            heap = runtime.Heap;
            report = rep;
            opt = options;
            ptr = runtime.DataTarget.DataReader.PointerSize;
        }

        public IReadOnlyDictionary<int, string?> ThreadNames => threadNames;

        private void Fail(string what, Exception ex)
        {
            failures++;
            if (failures <= MaxFailuresReported)
                report.Warnings.Add($"{what}: {ex.GetType().Name}: {ex.Message}");
            else if (failures == MaxFailuresReported + 1)
                report.Warnings.Add("further read failures not listed");
        }

        // ---- the heap walk: counts, LoaderAllocators, thread names, ConditionalWeakTable handles ----

        private const byte KOther = 0, KLoaderAllocator = 1, KThread = 2, KCwtContainer = 3;

        private byte KindOf(ClrType t)
        {
            if (typeKind.TryGetValue(t, out byte k))
                return k;
            string n = t.Name ?? "";
            k = n == LoaderAllocatorType ? KLoaderAllocator
                : n == "System.Threading.Thread" ? KThread
                : n.StartsWith("System.Runtime.CompilerServices.ConditionalWeakTable<", StringComparison.Ordinal)
                  && n.EndsWith("+Container", StringComparison.Ordinal) ? KCwtContainer
                : KOther;
            typeKind[t] = k;
            return k;
        }

        public void WalkHeap()
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            report.CanWalk = heap.CanWalkHeap;
            long objects = 0, bytes = 0;
            foreach (ClrObject obj in heap.EnumerateObjects())
            {
                ClrType? t = obj.Type;
                // The free-space filler: never read a field of it (the .NET 8 DAC crashes on it).
                if (t == null || t.IsFree)
                    continue;
                objects++;
                try
                {
                    bytes += (long)obj.Size;
                    typesSeen.Add(t.MethodTable);
                    switch (KindOf(t))
                    {
                        case KLoaderAllocator:
                            loaderAllocators.Add(obj.Address);
                            break;
                        case KThread:
                            if (obj.TryReadField("_managedThreadId", out int id))
                                threadNames[id] = obj.TryReadStringField("_name", 256, out string? name) ? name : null;
                            break;
                        case KCwtContainer:
                            ReadCwtContainer(obj);
                            break;
                    }
                }
                catch (Exception ex)
                {
                    Fail($"object 0x{obj.Address:x}", ex);
                }
            }
            report.Objects = objects;
            report.Bytes = bytes;
            Console.Error.WriteLine($"dumpscout-heap: heap walk: {objects} objects, {bytes} bytes, {sw.ElapsedMilliseconds} ms");
        }

        // ConditionalWeakTable<K,V>.Container: _parent is the table, _entries[i].depHnd._handle the handle.
        private void ReadCwtContainer(ClrObject container)
        {
            if (!container.TryReadObjectField("_parent", out ClrObject table))
                table = default;
            if (!container.TryReadObjectField("_entries", out ClrObject entries) || !entries.IsValid || !entries.IsArray)
                return;
            ClrArray arr = entries.AsArray();
            int n = Math.Min(arr.Length, 1 << 22);
            for (int i = 0; i < n; i++)
            {
                ClrValueType entry = arr.GetStructValue(i);
                ClrValueType dep = entry.ReadValueTypeField("depHnd");
                nint h = dep.ReadField<nint>("_handle");
                if (h != 0)
                    tableOfHandle[(ulong)h] = (table.IsValid ? table.Address : 0, table.Type?.Name);
            }
        }

        // ---- roots ----

        private void AddRoot(Root r)
        {
            if (r.Object == 0)
                return;
            ClrType? t = heap.GetObjectType(r.Object);
            if (t == null || t.IsFree)
                return;
            roots.Add(r);
        }

        public void GatherHandles()
        {
            try
            {
                foreach (ClrHandle h in rt.EnumerateHandles())
                {
                    int kind = (int)h.HandleKind;
                    if (h.HandleKind == ClrHandleKind.Dependent)
                    {
                        ulong primary = h.Object.Address, secondary = h.Dependent.Address;
                        if (primary != 0 && secondary != 0)
                        {
                            if (!depByPrimary.TryGetValue(primary, out List<int>? l))
                                depByPrimary[primary] = l = new List<int>();
                            l.Add(deps.Count);
                            deps.Add((h.Address, primary, secondary));
                        }
                        continue;
                    }
                    string? k = kind switch
                    {
                        (int)ClrHandleKind.Strong => "strong_handle",
                        (int)ClrHandleKind.Pinned => "pinned_handle",
                        (int)ClrHandleKind.AsyncPinned => "async_pinned_handle",
                        (int)ClrHandleKind.SizedRef => "sized_ref_handle",
                        (int)ClrHandleKind.RefCounted => h.ReferenceCount > 0 ? "refcounted_handle" : null,
                        10 => "weak_interior_handle",
                        _ => null, // weak handles are not roots
                    };
                    if (k == null)
                        continue;
                    report.HandlesSearched++;
                    var r = new Root { Kind = k, Handle = h.Address, HasHandle = true, Object = h.Object.Address, Rank = 3 };
                    if (kind == 10)
                    {
                        r.FalseRootHint = "weak_interior_handle";
                        r.Rank = 9;
                    }
                    AddRoot(r);
                }
            }
            catch (Exception ex)
            {
                report.Status = "partial";
                report.Warnings.Add($"handle table walk stopped: {ex.GetType().Name}: {ex.Message}");
            }
        }

        /// <summary>Every type whose statics we look at first: each module's type definitions and every type seen
        /// on the heap. Closed generic instantiations no object shows come from LoadedGenericInstantiations.</summary>
        private IEnumerable<ClrType> StaticCandidateTypes(HashSet<ulong> done)
        {
            foreach (ClrModule m in rt.EnumerateModules())
            {
                IEnumerable<(ulong MethodTable, int Token)> map;
                try
                {
                    map = m.EnumerateTypeDefToMethodTableMap().ToList();
                }
                catch (Exception ex)
                {
                    Fail($"types of module {m.Name}", ex);
                    continue;
                }
                foreach ((ulong mt, int _) in map)
                {
                    if (mt == 0 || !done.Add(mt))
                        continue;
                    ClrType? t = heap.GetTypeByMethodTable(mt);
                    if (t != null)
                        yield return t;
                }
            }
            foreach (ulong mt in typesSeen)
            {
                if (!done.Add(mt))
                    continue;
                ClrType? t = heap.GetTypeByMethodTable(mt);
                if (t != null)
                    yield return t;
            }
        }

        // MethodTable header (64-bit, the same layout on .NET 8, 9 and 10 for what is read here): the flags
        // word at 0 (HasComponentSize 0x80000000; without it, 0x30 is the generic kind — 0x10 a closed,
        // unshared instantiation — and 0x04 "statics per instantiation"), the module pointer at 0x18 (.NET 8:
        // the loader module; .NET 9+: the defining module). .NET 8 only: the 16-bit multipurpose-slot mask in
        // the low 5 bits at 8, the count of virtual methods at 0x0c; the fixed part is 0x40 bytes long.
        private const uint MtHasComponentSize = 0x80000000, MtGenericsMask = 0x30, MtGenericInst = 0x10,
            MtGenericsStatics = 0x04;
        private const int MtModuleOffset = 0x18, MtFixedSize = 0x40;

        private readonly List<(ulong Start, ulong End)> highFrequencyHeaps = new List<(ulong, ulong)>();

        /// <summary>Closed generic instantiations the runtime loaded (SharedCache&lt;string&gt;, a static class of
        /// which no object exists) whose definition has reference statics (withStatics: module, token). No
        /// module map lists instantiations and the DAC cannot enumerate them, yet each has statics of its own.
        /// Their MethodTables live in the high-frequency loader heaps: the scan looks there for a MethodTable
        /// header whose module pointer is a loaded module and whose flags say "closed instantiation"; the DAC
        /// then validates every candidate (GetTypeByMethodTable refuses what is not a MethodTable).</summary>
        private IEnumerable<ClrType> LoadedGenericInstantiations(HashSet<ulong> done, HashSet<(ulong, int)> withStatics)
        {
            if (ptr != 8 || withStatics.Count == 0)
                yield break;
            var modules = new HashSet<ulong>();
            foreach (ClrModule m in rt.EnumerateModules())
                if (m.Address != 0)
                    modules.Add(m.Address);
            var domains = new List<ClrAppDomain>(rt.AppDomains);
            if (rt.SystemDomain != null)
                domains.Add(rt.SystemDomain);
            var ranges = new HashSet<(ulong, ulong)>();
            foreach (ClrAppDomain ad in domains)
            {
                try
                {
                    foreach (ClrNativeHeapInfo h in ad.EnumerateLoaderAllocatorHeaps())
                        if (h.Kind == NativeHeapKind.HighFrequencyHeap && h.MemoryRange.Length > 0)
                            ranges.Add((h.MemoryRange.Start, h.MemoryRange.End));
                }
                catch (Exception ex)
                {
                    Fail("loader heaps", ex);
                }
            }
            highFrequencyHeaps.AddRange(ranges);
            int major = RuntimeMajor();
            var rids = new HashSet<uint>(withStatics.Select(d => (uint)d.Item2 & 0xffffff));
            foreach (ulong mt in MethodTableCandidates(ranges, modules, major, rids))
            {
                if (done.Contains(mt))
                    continue;
                ClrType? t = heap.GetTypeByMethodTable(mt);
                if (t == null || t.MethodTable != mt || t.Module == null
                    || !withStatics.Contains((t.Module.Address, t.MetadataToken)) || !done.Add(mt))
                    continue;
                yield return t;
            }
        }

        // The addresses in the ranges that look like the MethodTable of a closed, unshared instantiation
        // whose module is one of modules and whose type-definition row is one of rids: the row is bits 8-31
        // of the word at 8 on .NET 9+, bits 16-31 on .NET 8 (0xffff when it does not fit); an unknown
        // runtime version looks at every row.
        private List<ulong> MethodTableCandidates(IEnumerable<(ulong Start, ulong End)> ranges, HashSet<ulong> modules,
            int major, HashSet<uint> rids)
        {
            var found = new List<ulong>();
            const int Chunk = 1 << 16, Header = MtModuleOffset + 8;
            byte[] buf = new byte[Chunk + Header];
            IDataReader reader = rt.DataTarget.DataReader;
            int shift = major >= 9 ? 8 : 16;
            uint overflow = major >= 9 ? 0xffffffu : 0xffffu;
            foreach ((ulong start, ulong end) in ranges)
            {
                for (ulong at = start & ~7UL; at < end; at += Chunk)
                {
                    int got = reader.Read(at, buf.AsSpan(0, (int)Math.Min((ulong)buf.Length, end - at)));
                    ReadOnlySpan<ulong> q = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(buf.AsSpan(0, got & ~7));
                    int last = Math.Min(q.Length - Header / 8, Chunk / 8 - 1);
                    for (int i = 0; i <= last; i++)
                    {
                        ulong w0 = q[i];
                        if (((uint)w0 & (MtHasComponentSize | MtGenericsMask)) != MtGenericInst
                            || !modules.Contains(q[i + MtModuleOffset / 8]))
                            continue;
                        uint rid = (uint)q[i + 1] >> shift;
                        if (major > 0 && rid != overflow && !rids.Contains(rid))
                            continue;
                        found.Add(at + 8UL * (ulong)i);
                    }
                }
            }
            return found;
        }

        // GatherStatics' state, shared with StaticsOfType.
        private readonly List<ClrAppDomain> staticDomains = new List<ClrAppDomain>();
        private bool moduleRelative;
        private readonly Dictionary<ulong, ulong> moduleBase = new Dictionary<ulong, ulong>();
        private readonly List<(ClrType Type, ClrStaticField Field)> unresolved = new List<(ClrType, ClrStaticField)>();
        private readonly List<(ClrType Type, ClrStaticField Field)> perInstantiation = new List<(ClrType, ClrStaticField)>();
        private readonly HashSet<(ulong, int)> withStatics = new HashSet<(ulong, int)>();

        public void GatherStatics(IReadOnlyList<ClrThread> threads)
        {
            staticDomains.AddRange(rt.AppDomains);
            if (rt.SystemDomain != null)
                staticDomains.Add(rt.SystemDomain);
            if (rt.SharedDomain != null)
                staticDomains.Add(rt.SharedDomain);
            // Before .NET 9 a static field's offset is relative to its module's GC statics block; ClrMD
            // answers 0 for a class the runtime never flagged initialized (many CoreLib classes without a
            // static constructor), so those are computed from the block's start, learnt from a sibling.
            // A generic instantiation's statics are not in that block (see PerInstantiationStatics).
            moduleRelative = RuntimeMajor() is > 0 and < 9;
            var done = new HashSet<ulong>();
            foreach (ClrType t in StaticCandidateTypes(done))
                StaticsOfType(t, threads);
            foreach (ClrType t in LoadedGenericInstantiations(done, withStatics))
                StaticsOfType(t, threads);
            int computed = 0;
            foreach ((ClrType t, ClrStaticField f) in unresolved)
            {
                if (f.Offset < 0 || !moduleBase.TryGetValue(t.Module.Address, out ulong b))
                    continue;
                ulong slot = b + (ulong)f.Offset;
                // Only a slot inside one of the runtime's statics arrays (an Object[] a handle holds).
                if (!InHandleHeldArray(slot))
                    continue;
                StaticSlot(t, f, slot);
                computed++;
                if (Environment.GetEnvironmentVariable("DUMPSCOUT_HEAP_DEBUG") == "1"
                    && rt.DataTarget.DataReader.ReadPointer(slot, out ulong dv) && dv != 0)
                    Console.Error.WriteLine($"  computed {t.Name}.{f.Name} ({f.Type?.Name}) = {heap.GetObjectType(dv)?.Name}");
            }
            if (computed > 0)
                Console.Error.WriteLine($"dumpscout-heap: {computed} static slots computed from their module's statics block");
            computed = PerInstantiationStatics();
            if (computed > 0)
                Console.Error.WriteLine($"dumpscout-heap: {computed} static slots of generic instantiations computed from their module's dynamic statics table");
        }

        private void StaticsOfType(ClrType t, IReadOnlyList<ClrThread> threads)
        {
            try
            {
                // A collectible type's statics live in its LoaderAllocator: they are not roots.
                if (t.IsCollectible)
                    return;
                // .NET 8 keeps a generic instantiation's statics per instantiation; ClrMD reads them as if
                // they were in the module's block (a wrong slot, or 0), so they are computed instead.
                bool ownStorage = moduleRelative && HasPerInstantiationStatics(t);
                bool generic = IsGenericInstance(t);
                foreach (ClrStaticField f in t.StaticFields)
                {
                    if (!HoldsReference(f.ElementType))
                        continue;
                    if (t.Module != null)
                        withStatics.Add((t.Module.Address, t.MetadataToken));
                    if (ownStorage)
                    {
                        perInstantiation.Add((t, f));
                        continue;
                    }
                    bool any = false;
                    foreach (ClrAppDomain ad in staticDomains)
                    {
                        ulong slot = f.GetAddress(ad);
                        if (slot == 0)
                            continue;
                        any = true;
                        if (moduleRelative && !generic && t.Module != null && f.Offset >= 0)
                            moduleBase.TryAdd(t.Module.Address, slot - (ulong)f.Offset);
                        StaticSlot(t, f, slot);
                    }
                    if (!any && moduleRelative && !generic && t.Module != null)
                        unresolved.Add((t, f));
                }
                foreach (ClrThreadStaticField f in t.ThreadStaticFields)
                {
                    if (!HoldsReference(f.ElementType))
                        continue;
                    if (t.Module != null)
                        withStatics.Add((t.Module.Address, t.MetadataToken));
                    foreach (ClrThread th in threads)
                    {
                        ulong slot = f.GetAddress(th);
                        if (slot == 0)
                            continue;
                        report.ThreadStaticsSearched++;
                        string name = (t.Name ?? "?") + "." + (f.Name ?? "?");
                        // Before .NET 9 a thread's GC thread statics sit in an Object[] a strong handle
                        // holds: naming the slot keeps that handle from being reported as a second root.
                        slotNames.TryAdd(slot, name);
                        if (rt.DataTarget.DataReader.ReadPointer(slot, out ulong value) && value != 0)
                            AddRoot(new Root
                            {
                                Kind = "thread_static", Field = name,
                                Thread = MakeThread(th.OSThreadId, th.ManagedThreadId), Object = value, Rank = 2,
                            });
                    }
                }
            }
            catch (Exception ex)
            {
                Fail($"statics of {t.Name}", ex);
            }
        }

        private bool HasPerInstantiationStatics(ClrType t)
        {
            if (!rt.DataTarget.DataReader.Read(t.MethodTable, out uint flags))
                return false;
            return (flags & MtHasComponentSize) == 0 && (flags & MtGenericsStatics) != 0;
        }

        /// <summary>.NET 8: the GC statics of a generic instantiation (MethodTable flag "generics statics") are
        /// not in its module's statics block. Its MethodTable's first optional member (GenericsStaticsInfo:
        /// field descs, dynamic type id; after the fixed part, the overflow multipurpose slots and the vtable
        /// chunk pointers) gives an id into the loader module's DomainLocalModule dynamic class table
        /// (table at +8, entry count at +16; the module's GC statics start at +32): entry = {dynamic entry,
        /// flags}, the dynamic entry's first pointer is the instantiation's GC statics start, a slot of an
        /// Object[] a handle holds. The DomainLocalModule is found by that +32 pointer (the module's block
        /// start, learnt from a sibling). Every computed slot must lie in a handle-held Object[].</summary>
        private int PerInstantiationStatics()
        {
            int computed = 0;
            var bases = new Dictionary<ulong, ulong>();
            foreach ((ClrType t, ClrStaticField f) in perInstantiation)
            {
                if (f.Offset < 0)
                    continue;
                if (!bases.TryGetValue(t.MethodTable, out ulong b))
                    bases[t.MethodTable] = b = InstantiationStaticsBase(t.MethodTable);
                ulong slot = b + (ulong)f.Offset;
                if (b == 0 || !InHandleHeldArray(slot))
                    continue;
                StaticSlot(t, f, slot);
                computed++;
            }
            return computed;
        }

        private readonly Dictionary<ulong, ulong> domainLocalModules = new Dictionary<ulong, ulong>();

        private ulong InstantiationStaticsBase(ulong mt)
        {
            IDataReader r = rt.DataTarget.DataReader;
            Span<byte> h = stackalloc byte[MtFixedSize];
            if (r.Read(mt, h) != h.Length)
                return 0;
            uint flags = BitConverter.ToUInt32(h);
            ushort slotMask = (ushort)(BitConverter.ToUInt16(h[8..]) & 0x1f);
            ushort virtuals = BitConverter.ToUInt16(h[0x0c..]);
            ulong loaderModule = BitConverter.ToUInt64(h[MtModuleOffset..]);
            if ((flags & MtHasComponentSize) != 0 || (flags & MtGenericsStatics) == 0)
                return 0;
            int overflow = Math.Max(0, System.Numerics.BitOperations.PopCount(slotMask) - 2);
            ulong info = mt + MtFixedSize + 8UL * (ulong)overflow + 8UL * (ulong)((virtuals + 7) / 8);
            if (!r.ReadPointer(info + 8, out ulong id) || id >= 1 << 24)
                return 0; // an open or shared instantiation has id -1
            ulong dlm = DomainLocalModule(loaderModule);
            if (dlm == 0 || !r.ReadPointer(dlm + 8, out ulong table) || !r.ReadPointer(dlm + 16, out ulong count)
                || id >= count || !r.ReadPointer(table + 16 * id, out ulong entry) || !r.Read(table + 16 * id + 8, out uint eflags))
                return 0;
            // Class init flags: 1 initialized, 8 collectible (statics behind a LoaderAllocator handle).
            if (entry == 0 || (eflags & 1) == 0 || (eflags & 8) != 0 || !r.ReadPointer(entry, out ulong gcStatics))
                return 0;
            return gcStatics;
        }

        // The DomainLocalModule of a module: the structure whose m_pGCStatics (+32) is the module's statics
        // block start; it lies just after the Module in the loader heap (searched there first, then in every
        // high-frequency heap).
        private ulong DomainLocalModule(ulong module)
        {
            if (domainLocalModules.TryGetValue(module, out ulong dlm))
                return dlm;
            dlm = 0;
            if (moduleBase.TryGetValue(module, out ulong block))
            {
                dlm = FindDomainLocalModule(module, module + (1 << 16), block);
                foreach ((ulong start, ulong end) in highFrequencyHeaps)
                {
                    if (dlm != 0)
                        break;
                    dlm = FindDomainLocalModule(start, end, block);
                }
            }
            domainLocalModules[module] = dlm;
            return dlm;
        }

        private ulong FindDomainLocalModule(ulong start, ulong end, ulong block)
        {
            IDataReader r = rt.DataTarget.DataReader;
            const int Chunk = 1 << 16;
            byte[] buf = new byte[Chunk];
            for (ulong at = (start + 7) & ~7UL; at < end; at += Chunk)
            {
                int got = r.Read(at, buf.AsSpan(0, (int)Math.Min((ulong)Chunk, end - at)));
                for (int i = 0; i + 8 <= got; i += 8)
                {
                    if (BitConverter.ToUInt64(buf, i) != block || at + (ulong)i < start + 32)
                        continue;
                    ulong dlm = at + (ulong)i - 32;
                    if (r.ReadPointer(dlm + 8, out ulong table) && table != 0
                        && r.ReadPointer(dlm + 16, out ulong count) && count <= 1 << 20)
                        return dlm;
                }
                if (got < Chunk)
                    break;
            }
            return 0;
        }

        private void StaticSlot(ClrType t, ClrStaticField f, ulong slot)
        {
            if (slotNames.ContainsKey(slot))
                return;
            string name = (t.Name ?? "?") + "." + (f.Name ?? "?");
            slotNames[slot] = name;
            report.StaticsSearched++;
            if (rt.DataTarget.DataReader.ReadPointer(slot, out ulong value) && value != 0)
                AddRoot(new Root { Kind = "static_field", Field = name, Object = value, Rank = 1 });
        }

        // A generic instantiation (or a type nested in one): a '<' that opens type arguments, not the '<'
        // that starts a compiler-generated name (Program+<>c, <Main>d__0, <PrivateImplementationDetails>).
        private static bool IsGenericInstance(ClrType t)
        {
            string n = t.Name ?? "";
            for (int i = 1; i < n.Length; i++)
                if (n[i] == '<' && n[i - 1] != '+' && n[i - 1] != '.')
                    return true;
            return false;
        }

        private int RuntimeMajor()
        {
            int major = rt.ClrInfo.Version.Major;
            if (major > 0)
                return major;
            string v = report.RuntimeVersion ?? "";
            int dot = v.IndexOf('.');
            return dot > 0 && int.TryParse(v.AsSpan(0, dot), System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out int m) ? m : 0;
        }

        private (ulong Start, ulong End)[]? heldArrays;

        // Whether an address lies in the elements of an Object[] that a handle root holds.
        private bool InHandleHeldArray(ulong addr)
        {
            if (heldArrays == null)
            {
                var list = new List<(ulong, ulong)>();
                foreach (Root r in roots)
                {
                    if (!r.HasHandle)
                        continue;
                    ClrType? t = heap.GetObjectType(r.Object);
                    if (t == null || !t.IsArray || t.ComponentType == null || t.ComponentType.IsValueType)
                        continue;
                    list.Add((r.Object + (ulong)(2 * ptr), r.Object + heap.GetObject(r.Object, t).Size));
                }
                list.Sort();
                heldArrays = list.ToArray();
            }
            int lo = 0, hi = heldArrays.Length - 1;
            while (lo <= hi)
            {
                int mid = (lo + hi) / 2;
                if (addr < heldArrays[mid].Start)
                    hi = mid - 1;
                else if (addr >= heldArrays[mid].End)
                    lo = mid + 1;
                else
                    return true;
            }
            return false;
        }

        // A static of one of these element types lives in the GC statics (value types boxed there).
        private static bool HoldsReference(ClrElementType et) => et switch
        {
            ClrElementType.String or ClrElementType.Class or ClrElementType.Array or ClrElementType.SZArray
                or ClrElementType.Object or ClrElementType.GenericInstantiation or ClrElementType.Struct
                or ClrElementType.Var or ClrElementType.MVar => true,
            _ => false,
        };

        public ThreadRef MakeThread(uint os, int managed)
        {
            threadNames.TryGetValue(managed, out string? name);
            return new ThreadRef { OsId = os, ManagedId = managed, Name = name };
        }

        public void GatherFinalizerQueue()
        {
            try
            {
                foreach (ClrRoot r in heap.EnumerateFinalizerRoots())
                {
                    report.FinalizerSearched++;
                    AddRoot(new Root { Kind = "finalizer_queue", Object = r.Object.Address, Rank = 5 });
                }
            }
            catch (Exception ex)
            {
                report.Status = "partial";
                report.Warnings.Add($"finalizer queue walk stopped: {ex.GetType().Name}: {ex.Message}");
            }
        }

        public void AddStackRoot(ThreadRef thread, string? frame, ulong obj)
        {
            report.StackSearched++;
            AddRoot(new Root { Kind = "stack", Thread = thread, Frame = frame, Object = obj, Rank = 4 });
        }

        // The runtime's statics arrays: an Object[] held by a handle whose element slots are named static
        // slots. Their named slots are covered by the static_field roots; only unnamed slots stay edges.
        private void FindStaticsArrays()
        {
            if (slotNames.Count == 0)
                return;
            ulong[] slots = slotNames.Keys.ToArray();
            Array.Sort(slots);
            foreach (Root r in roots)
            {
                if (!r.HasHandle || staticsArrays.Contains(r.Object))
                    continue;
                ClrType? t = heap.GetObjectType(r.Object);
                if (t == null || !t.IsArray || t.ComponentType == null || t.ComponentType.IsValueType)
                    continue;
                ulong start = r.Object, end = r.Object + heap.GetObject(r.Object, t).Size;
                int i = Array.BinarySearch(slots, start);
                if (i < 0)
                    i = ~i;
                if (i < slots.Length && slots[i] < end)
                    staticsArrays.Add(r.Object);
            }
        }

        // ---- the one breadth-first search ----

        private int Node(ulong addr, ClrType t, ref int tail)
        {
            if (index.TryGetValue(addr, out int n))
                return n;
            n = addrs.Count;
            index[addr] = n;
            addrs.Add(addr);
            types.Add(t);
            tail++;
            return n;
        }

        private void Edge(int from, ulong to, ClrType? toType, byte via, int label, ref int tail)
        {
            if (to == 0)
                return;
            toType ??= heap.GetObjectType(to);
            if (toType == null || toType.IsFree)
                return;
            int v = Node(to, toType, ref tail);
            eTo.Add(v);
            eFrom.Add(from);
            eLabel.Add(label);
            eVia.Add(via);
        }

        private ulong LoaderAllocatorOf(ClrType t)
        {
            if (laOfType.TryGetValue(t, out ulong la))
                return la;
            la = 0;
            ulong h = t.LoaderAllocatorHandle;
            if (h != 0 && rt.DataTarget.DataReader.ReadPointer(h, out ulong v))
                la = v;
            laOfType[t] = la;
            return la;
        }

        public void Search()
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            FindStaticsArrays();
            var laSet = new HashSet<ulong>(loaderAllocators);
            int tail = 0;
            for (int i = 0; i < roots.Count; i++)
            {
                Root r = roots[i];
                ClrType? t = heap.GetObjectType(r.Object);
                if (t == null)
                    continue;
                int n = Node(r.Object, t, ref tail);
                if (!rootsOfNode.TryGetValue(n, out List<int>? l))
                    rootsOfNode[n] = l = new List<int>();
                l.Add(i);
            }
            for (int u = 0; u < addrs.Count; u++)
            {
                ulong a = addrs.Items[u];
                ClrType t = types[u];
                try
                {
                    bool isStatics = staticsArrays.Contains(a);
                    bool isLa = laSet.Contains(a);
                    foreach (ClrReference r in heap.GetObject(a, t).EnumerateReferencesWithFields(carefully: false, considerDependantHandles: false))
                    {
                        ClrObject o = r.Object;
                        if (o.Address == 0)
                            continue;
                        int off = r.Offset;
                        if (isStatics && slotNames.ContainsKey(a + (ulong)ptr + (ulong)off))
                            continue;
                        if (isLa && r.IsField && r.Field!.Name == "m_slots" && o.Type != null && o.Type.IsArray)
                        {
                            Edge(u, o.Address, o.Type, ViaField, off, ref tail);
                            ClrArray slotsArr = o.AsArray();
                            int len = Math.Min(slotsArr.Length, 1 << 24);
                            for (int i = 0; i < len; i++)
                            {
                                ClrObject e = slotsArr.GetObjectValue(i);
                                if (e.Address != 0)
                                    Edge(u, e.Address, e.Type, ViaLaHandle, i, ref tail);
                            }
                            continue;
                        }
                        Edge(u, o.Address, o.Type, t.IsArray ? ViaElement : ViaField, off, ref tail);
                    }
                    if (depByPrimary.TryGetValue(a, out List<int>? dl))
                        foreach (int d in dl)
                            Edge(u, deps[d].Secondary, null, ViaDependent, d, ref tail);
                    if (t.IsCollectible)
                        Edge(u, LoaderAllocatorOf(t), null, ViaLoaderAllocator, 0, ref tail);
                }
                catch (Exception ex)
                {
                    Fail($"references of 0x{a:x}", ex);
                }
            }
            Console.Error.WriteLine($"dumpscout-heap: search: {roots.Count} roots, {addrs.Count} reachable objects, {eTo.Count} edges, {sw.ElapsedMilliseconds} ms");
        }

        // ---- per LoaderAllocator: the distinct roots, searched backwards over the recorded edges ----

        private int[]? inStart, inEdges;

        private void BuildIncoming()
        {
            int n = addrs.Count;
            inStart = new int[n + 1];
            for (int e = 0; e < eTo.Count; e++)
                inStart[eTo.Items[e] + 1]++;
            for (int i = 0; i < n; i++)
                inStart[i + 1] += inStart[i];
            inEdges = new int[eTo.Count];
            int[] fill = (int[])inStart.Clone();
            for (int e = 0; e < eTo.Count; e++)
                inEdges[fill[eTo.Items[e]]++] = e;
        }

        private List<RootPath> RootsOf(ulong la, out bool truncated)
        {
            truncated = false;
            var result = new List<RootPath>();
            if (!index.TryGetValue(la, out int target))
                return result;
            if (inStart == null)
                BuildIncoming();
            int[] start = inStart!, edges = inEdges!;
            // toward[n] = the edge from n one step closer to the LoaderAllocator.
            var toward = new Dictionary<int, int> { [target] = -1 };
            var queue = new List<int> { target };
            var found = new List<(int Root, int Node, int Dist)>();
            var dist = new Dictionary<int, int> { [target] = 0 };
            int cap = opt.MaxRoots * 8 + 64;
            for (int qi = 0; qi < queue.Count && found.Count < cap; qi++)
            {
                int x = queue[qi];
                if (rootsOfNode.TryGetValue(x, out List<int>? rl))
                    foreach (int ri in rl)
                        found.Add((ri, x, dist[x]));
                for (int k = start[x]; k < start[x + 1]; k++)
                {
                    int e = edges[k];
                    int y = eFrom.Items[e];
                    if (toward.ContainsKey(y))
                        continue;
                    toward[y] = e;
                    dist[y] = dist[x] + 1;
                    queue.Add(y);
                }
            }
            // Real roots first (by kind rank, then path length), the runtime's own last.
            var ordered = found.OrderBy(f => roots[f.Root].Rank >= 9 ? 1 : 0).ThenBy(f => f.Dist)
                .ThenBy(f => roots[f.Root].Rank).ToList();
            var seen = new HashSet<(string, string?, ulong, ulong, string?)>();
            foreach (var f in ordered)
            {
                Root r = roots[f.Root];
                if (!seen.Add((r.Kind, r.Field, r.Handle, r.Object, r.Frame + "|" + r.Thread?.OsId)))
                    continue;
                if (result.Count >= opt.MaxRoots)
                {
                    truncated = true;
                    break;
                }
                result.Add(MakePath(r, f.Node, toward));
            }
            if (found.Count >= cap)
                truncated = true;
            return result;
        }

        /// <summary>The root that reaches a node in the fewest links (real roots before the runtime's own):
        /// for a dependent link, what keeps its ConditionalWeakTable alive.</summary>
        private Root? NearestRoot(int node)
        {
            if (inStart == null)
                BuildIncoming();
            var seen = new HashSet<int> { node };
            var level = new List<int> { node };
            Root? fallback = null;
            for (int depth = 0; level.Count > 0 && seen.Count < 1_000_000 && depth < 10_000; depth++)
            {
                Root? best = null;
                foreach (int x in level)
                    if (rootsOfNode.TryGetValue(x, out List<int>? rl))
                        foreach (int ri in rl)
                        {
                            Root r = roots[ri];
                            if (r.Rank >= 9)
                                fallback ??= r;
                            else if (best == null || r.Rank < best.Rank)
                                best = r;
                        }
                if (best != null)
                    return best;
                var next = new List<int>();
                foreach (int x in level)
                    for (int k = inStart![x]; k < inStart[x + 1]; k++)
                    {
                        int y = eFrom.Items[inEdges![k]];
                        if (seen.Add(y))
                            next.Add(y);
                    }
                level = next;
            }
            return fallback;
        }

        private RootPath MakePath(Root r, int node, Dictionary<int, int> toward)
        {
            var links = new List<Link>();
            links.Add(MakeLink(node, "root", null, 0, 0));
            int x = node;
            int guard = 0;
            while (toward.TryGetValue(x, out int e) && e >= 0 && guard++ < 1_000_000)
            {
                int from = eFrom.Items[e], to = eTo.Items[e], label = eLabel.Items[e];
                byte via = eVia.Items[e];
                Link l;
                switch (via)
                {
                    case ViaField:
                    case ViaElement:
                        l = MakeLink(to, via == ViaField ? "field" : "element", FieldName(types[from], label), 0, 0);
                        break;
                    case ViaDependent:
                        (ulong h, ulong _, ulong _) = deps[label];
                        l = MakeLink(to, "dependent", null, h, 1);
                        break;
                    case ViaLoaderAllocator:
                        l = MakeLink(to, "loader_allocator", null, 0, 0);
                        break;
                    case ViaLaHandle:
                        l = MakeLink(to, "loader_allocator_handle", $"m_slots[{label}]", 0, 0);
                        break;
                    default:
                        l = MakeLink(to, "unknown", null, 0, 0);
                        break;
                }
                links.Add(l);
                x = to;
            }
            var rp = new RootPath { Root = r, Path = links };
            int max = Math.Max(opt.MaxPath, 2);
            if (links.Count > max)
            {
                int head = max / 2, tailCount = max - head;
                rp.Path = links.Take(head).Concat(links.Skip(links.Count - tailCount)).ToList();
                rp.Truncated = true;
            }
            return rp;
        }

        private Link MakeLink(int node, string via, string? field, ulong depHandle, int isDep)
        {
            ClrType t = types[node];
            var l = new Link { Address = addrs.Items[node], Type = t.Name, Via = via, Field = field };
            try
            {
                l.Collectible = t.IsCollectible;
                ClrObject o = heap.GetObject(l.Address, t);
                l.Method = DelegateMethods(o);
                if (o.IsRuntimeType)
                    l.RuntimeType = o.AsRuntimeType()?.Name;
            }
            catch (Exception ex)
            {
                Fail($"link 0x{l.Address:x}", ex);
            }
            if (isDep != 0)
            {
                l.DependentHandle = depHandle;
                if (tableOfHandle.TryGetValue(depHandle, out var tab))
                {
                    l.DependentTable = tab.Table;
                    l.DependentTableType = tab.Type;
                    if (tab.Table != 0 && index.TryGetValue(tab.Table, out int tableNode))
                        l.DependentTableRoot = NearestRoot(tableNode);
                }
            }
            return l;
        }

        private static string? DelegateMethods(ClrObject o)
        {
            if (!o.IsDelegate)
                return null;
            var names = new List<string>();
            foreach (ClrDelegateTarget target in o.AsDelegate().EnumerateDelegateTargets())
            {
                names.Add(target.Method?.Signature ?? "?");
                if (names.Count >= 64)
                    break;
            }
            return names.Count == 0 ? null : string.Join("; ", names);
        }

        // The field at a data-relative offset ("outer.inner" through value-type fields, "[i]" or "[i].f" in arrays).
        private string FieldName(ClrType t, int off)
        {
            try
            {
                if (t.IsArray)
                {
                    int comp = t.ComponentSize;
                    if (comp <= 0)
                        return "[?]";
                    int rel = off - ptr;
                    if (rel < 0)
                        return "[?]";
                    string s = $"[{rel / comp}]";
                    ClrType? ct = t.ComponentType;
                    if (ct != null && ct.IsValueType)
                    {
                        string? inner = InnerName(ct, rel % comp);
                        if (inner != null)
                            s += "." + inner;
                    }
                    return s;
                }
                return InnerName(t, off) ?? $"+0x{off:x}";
            }
            catch (Exception)
            {
                return $"+0x{off:x}";
            }
        }

        private static string? InnerName(ClrType t, int off)
        {
            var parts = new List<string>();
            ClrType? cur = t;
            for (int depth = 0; cur != null && depth < 16; depth++)
            {
                ClrInstanceField? f = FindField(cur.Fields, off);
                if (f == null)
                    break;
                parts.Add(f.Name ?? "?");
                if (f.Type == null || !f.Type.IsValueType || f.ElementType != ClrElementType.Struct)
                    break;
                off -= f.Offset;
                cur = f.Type;
            }
            return parts.Count == 0 ? null : string.Join(".", parts);
        }

        private static ClrInstanceField? FindField(IEnumerable<ClrInstanceField> fields, int offset)
        {
            ClrInstanceField? best = null;
            foreach (ClrInstanceField f in fields)
            {
                if (f.Offset <= offset && offset < f.Offset + Math.Max(f.Size, 1))
                    return f;
                if (f.Offset <= offset && (best == null || best.Offset < f.Offset))
                    best = f;
            }
            return best;
        }

        // ---- contexts ----

        public void BuildContexts()
        {
            var byNative = new Dictionary<ulong, ContextInfo>();
            foreach (ulong la in loaderAllocators)
            {
                var c = new ContextInfo { LoaderAllocator = la };
                try
                {
                    ClrObject o = heap.GetObject(la);
                    if (o.TryReadObjectField("m_scout", out ClrObject scout) && scout.IsValid)
                    {
                        c.Scout = scout.Address;
                        if (scout.TryReadField("m_nativeLoaderAllocator", out nint native))
                            c.NativeLoaderAllocator = (ulong)native;
                    }
                }
                catch (Exception ex)
                {
                    Fail($"LoaderAllocator 0x{la:x}", ex);
                }
                if (c.NativeLoaderAllocator != 0)
                    byNative[c.NativeLoaderAllocator] = c;
                report.Contexts.Add(c);
            }
            var alcOfContext = new Dictionary<ContextInfo, ulong>();
            var dynamicOnly = new Dictionary<ContextInfo, bool>();
            foreach (ClrModule m in rt.EnumerateModules())
            {
                if (m.LoaderAllocator == 0 || !byNative.TryGetValue(m.LoaderAllocator, out ContextInfo? c))
                    continue;
                c.Assemblies.Add(AssemblyName(m));
                dynamicOnly[c] = (!dynamicOnly.TryGetValue(c, out bool d) || d) && m.IsDynamic;
                if (alcOfContext.ContainsKey(c))
                    continue;
                try
                {
                    foreach ((ulong mt, int _) in m.EnumerateTypeDefToMethodTableMap())
                    {
                        ClrType? t = mt == 0 ? null : heap.GetTypeByMethodTable(mt);
                        ulong alc = t?.AssemblyLoadContextAddress ?? 0;
                        if (alc != 0)
                        {
                            alcOfContext[c] = alc;
                            break;
                        }
                    }
                }
                catch (Exception ex)
                {
                    Fail($"context of module {m.Name}", ex);
                }
            }
            foreach (ContextInfo c in report.Contexts)
            {
                c.Dynamic = dynamicOnly.TryGetValue(c, out bool d) && d;
                if (!c.Dynamic && alcOfContext.TryGetValue(c, out ulong alc))
                    FillAlc(c, alc);
                c.Roots = RootsOf(c.LoaderAllocator, out c.RootsTruncated);
                foreach (RootPath rp in c.Roots)
                {
                    // The runtime's own strong handle to the LoaderAllocator of a context that was not unloaded.
                    if (rp.Root.Kind == "strong_handle" && rp.Root.Object == c.LoaderAllocator && c.State == "alive")
                    {
                        rp.Root = new Root
                        {
                            Kind = "runtime_handle", Handle = rp.Root.Handle, HasHandle = true, Object = rp.Root.Object,
                            FalseRootHint = "runtime_handle", Rank = 9,
                        };
                    }
                }
                c.Roots = c.Roots.OrderBy(rp => rp.Root.FalseRootHint != null ? 1 : 0).ToList();
            }
        }

        private static string AssemblyName(ClrModule m)
        {
            string? name = !string.IsNullOrEmpty(m.Name) ? m.Name : m.AssemblyName;
            if (string.IsNullOrEmpty(name))
                return m.IsDynamic ? "(dynamic)" : "(unnamed)";
            string file = name;
            int slash = Math.Max(file.LastIndexOf('/'), file.LastIndexOf('\\'));
            if (slash >= 0)
                file = file.Substring(slash + 1);
            if (file.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) || file.EndsWith(".exe", StringComparison.OrdinalIgnoreCase))
                file = file.Substring(0, file.Length - 4);
            return file;
        }

        private void FillAlc(ContextInfo c, ulong alc)
        {
            try
            {
                ClrType? t = heap.GetObjectType(alc);
                bool isAlc = false;
                for (ClrType? b = t; b != null; b = b.BaseType)
                    if (b.Name == AlcType)
                    {
                        isAlc = true;
                        break;
                    }
                if (t == null || !isAlc)
                    return;
                ClrObject o = heap.GetObject(alc, t);
                c.Alc = alc;
                c.AlcType = t.Name;
                c.Name = o.TryReadStringField("_name", 1024, out string? n) ? n : null;
                if (o.TryReadField("_state", out int state))
                    c.State = state == 0 ? "alive" : "unloading";
            }
            catch (Exception ex)
            {
                Fail($"AssemblyLoadContext 0x{alc:x}", ex);
            }
        }
    }
}
