// Program.cs - the large-heap benchmark fixture. `HeapGen MIB CONTEXTS LEAKS FIXTURE_BIN` fills about MIB
// MiB of heap with about a thousand objects per MiB (host-owned lists of small arrays and strings), loads
// the fixture plugin (FIXTURE_BIN/plugins/Scout.Plugin.dll) into CONTEXTS collectible contexts, keeps
// LEAKS of them alive through rotating causes (a static field, a strong GCHandle, a static event-style
// delegate list, a type-keyed dictionary), unloads all and calls FailFast, so the runtime's dump writer
// (createdump, configured by the caller's DOTNET_DbgEnableMiniDump) writes the dump. An optional fifth
// argument KEPT loads that many more contexts ("kept-N") and never unloads them: contexts still alive at
// the crash, which the runtime itself holds through a strong handle to their LoaderAllocator.
using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace DumpScout.Bench
{
    public static class Held
    {
        public static readonly List<object> Plugins = new List<object>();
        public static readonly List<GCHandle> Handles = new List<GCHandle>();
        public static readonly List<Func<int, int>> Callbacks = new List<Func<int, int>>();
        public static readonly Dictionary<Type, string> ByType = new Dictionary<Type, string>();
        public static readonly List<object[]> Filler = new List<object[]>();
        public static readonly List<AssemblyLoadContext> Kept = new List<AssemblyLoadContext>();
    }

    public static class Program
    {
        public static int Main(string[] args)
        {
            if (args.Length < 4)
            {
                Console.Error.WriteLine("usage: HeapGen MIB CONTEXTS LEAKS FIXTURE_BIN [KEPT]");
                return 2;
            }
            int mib = int.Parse(args[0]), contexts = int.Parse(args[1]), leaks = int.Parse(args[2]);
            string bin = Path.GetFullPath(args[3]);
            int kept = args.Length > 4 ? int.Parse(args[4]) : 0;
            AssemblyLoadContext.Default.LoadFromAssemblyPath(Path.Combine(bin, "Scout.Contracts.dll"));
            Fill(mib);
            string plugin = Path.Combine(bin, "plugins", "Scout.Plugin.dll");
            var weak = new List<WeakReference>();
            for (int i = 0; i < contexts; i++)
                weak.Add(LoadAndMaybeLeak(plugin, i, i < leaks));
            for (int i = 0; i < kept; i++)
            {
                var alc = new AssemblyLoadContext("kept-" + i, isCollectible: true);
                Held.Kept.Add(alc);
                alc.LoadFromAssemblyPath(plugin).GetType("Scout.Plugin.GreeterPlugin", throwOnError: true);
            }
            for (int i = 0; i < 10; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            int alive = 0;
            foreach (WeakReference w in weak)
                if (w.IsAlive)
                    alive++;
            Console.WriteLine($"heapgen: {mib} MiB, {contexts} contexts, {alive} still alive");
            Environment.FailFast($"heapgen: {alive} contexts did not unload");
            return 1;
        }

        // About a thousand objects per MiB: object[] buckets of 64 arrays and strings of ~1 KiB each.
        private static void Fill(int mib)
        {
            long target = (long)mib * 1024 * 1024, made = 0;
            int n = 0;
            while (made < target)
            {
                var bucket = new object[64];
                for (int i = 0; i < bucket.Length; i++, n++)
                    bucket[i] = (n & 3) == 0 ? new string('x', 480) : new byte[1000 + (n & 63)];
                Held.Filler.Add(bucket);
                made += 64 * 1040 + 536;
            }
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static WeakReference LoadAndMaybeLeak(string plugin, int i, bool leak)
        {
            var alc = new AssemblyLoadContext("bench-" + i, isCollectible: true);
            Assembly asm = alc.LoadFromAssemblyPath(plugin);
            Type type = asm.GetType("Scout.Plugin.GreeterPlugin", throwOnError: true)!;
            object p = Activator.CreateInstance(type)!;
            if (leak)
            {
                switch (i % 4)
                {
                    case 0:
                        Held.Plugins.Add(p);
                        break;
                    case 1:
                        Held.Handles.Add(GCHandle.Alloc(p, GCHandleType.Normal));
                        break;
                    case 2:
                        MethodInfo work = type.GetMethod("Work")!;
                        Held.Callbacks.Add((Func<int, int>)Delegate.CreateDelegate(typeof(Func<int, int>), p, work));
                        break;
                    default:
                        Held.ByType[type] = "metadata " + i;
                        break;
                }
            }
            alc.Unload();
            return new WeakReference(alc);
        }
    }
}
