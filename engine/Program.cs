// Program.cs - dumpscout-heap's entry point: parses the command line of docs/engine.md, opens the dump,
// finds the DAC, runs the analysis stage by stage (each stage's failure becomes a warning and status
// `partial`, never the loss of the rest) and prints the one JSON document. Also the two internal modes:
// --stack-roots (the isolated stack walker, see StackWalk.cs) and --walk-only (the benchmark floor).
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.Diagnostics.Runtime;

namespace DumpScout.Heap
{
    internal static class Program
    {
        private const string Usage =
            "usage: dumpscout-heap DUMP [--dac PATH] [--max-roots N] [--max-path N] [--no-stacks] [--pretty] [--parent-pipe]";

        /// <summary>Exit status when the caller's pipe ended (the caller died): see docs/engine.md.</summary>
        private const int ExitParentGone = 3;

        public static int Main(string[] args)
        {
            Options? opt = Parse(args, out string? problem);
            if (opt == null)
            {
                Console.Error.WriteLine("dumpscout-heap: " + problem);
                Console.Error.WriteLine(Usage);
                return 2;
            }
            if (opt.ParentPipe)
                WatchParent();
            if (!File.Exists(opt.Dump))
            {
                Console.Error.WriteLine($"dumpscout-heap: {opt.Dump}: no such file");
                return 2;
            }
            DataTarget dt;
            try
            {
                dt = DataTarget.LoadDump(opt.Dump);
            }
            catch (Exception ex)
            {
                Console.Error.WriteLine($"dumpscout-heap: {opt.Dump}: not a readable dump (offset unknown): {ex.Message}");
                return 2;
            }
            using (dt)
            {
                if (opt.Mode == "stack-roots")
                    return StackChild(dt, opt);
                return Analyze(dt, opt);
            }
        }

        private static Options? Parse(string[] args, out string? problem)
        {
            var o = new Options();
            problem = null;
            string? dump = null;
            for (int i = 0; i < args.Length; i++)
            {
                string a = args[i];
                string? Next()
                {
                    if (i + 1 >= args.Length)
                        return null;
                    return args[++i];
                }
                switch (a)
                {
                    case "--dac":
                        o.Dac = Next();
                        if (o.Dac == null)
                            problem = "--dac needs a path";
                        break;
                    case "--max-roots":
                    case "--max-path":
                        string? v = Next();
                        if (v == null || !int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < 1 || n > 100000)
                            problem = a + " needs a number from 1 to 100000";
                        else if (a == "--max-roots")
                            o.MaxRoots = n;
                        else
                            o.MaxPath = n;
                        break;
                    case "--no-stacks":
                        o.NoStacks = true;
                        break;
                    case "--pretty":
                        o.Pretty = true;
                        break;
                    case "--parent-pipe":
                        o.ParentPipe = true;
                        break;
                    case "--walk-only":
                        o.Mode = "walk-only";
                        break;
                    case "--stack-roots":
                        o.Mode = "stack-roots";
                        break;
                    case "--skip-threads":
                        string? list = Next() ?? "";
                        foreach (string s in list.Split(',', StringSplitOptions.RemoveEmptyEntries))
                        {
                            if (uint.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out uint t))
                                o.SkipThreads.Add(t);
                            else
                                problem = "--skip-threads needs thread ids";
                        }
                        break;
                    default:
                        if (a.StartsWith("-", StringComparison.Ordinal) && a.Length > 1)
                            problem = "unknown option " + a;
                        else if (dump != null)
                            problem = "one dump only";
                        else
                            dump = a;
                        break;
                }
                if (problem != null)
                    return null;
            }
            if (dump == null)
            {
                problem = "no dump given";
                return null;
            }
            o.Dump = dump;
            return o;
        }

        /// <summary>
        /// --parent-pipe: the caller gives stdin as a pipe it never writes to and never closes while it
        /// lives, so its end of file (or an error) means the caller is gone, however it died: exit at once
        /// rather than work for nobody. A background thread, so a long heap walk is no obstacle.
        /// </summary>
        private static void WatchParent()
        {
            var t = new System.Threading.Thread(() =>
            {
                var buf = new byte[256];
                try
                {
                    using Stream stdin = Console.OpenStandardInput();
                    while (stdin.Read(buf, 0, buf.Length) > 0)
                    {
                        // nothing is ever written; any bytes are ignored
                    }
                }
                catch (Exception)
                {
                    // a stdin that cannot be read is a caller gone as well
                }
                Environment.Exit(ExitParentGone);
            })
            {
                IsBackground = true,
                Name = "parent-pipe",
            };
            t.Start();
        }

        private static void Print(Report r, Options opt)
        {
            using Stream stdout = Console.OpenStandardOutput();
            ReportWriter.Write(r, stdout, opt.Pretty);
        }

        private static ClrInfo? PickRuntime(DataTarget dt)
        {
            ClrInfo? best = null;
            foreach (ClrInfo c in dt.ClrVersions)
                if (best == null || (best.Flavor != ClrFlavor.Core && c.Flavor == ClrFlavor.Core))
                    best = c;
            return best;
        }

        /// <summary>Opens the runtime with the DAC found, or sets status no_dac / error and returns null.</summary>
        private static ClrRuntime? OpenRuntime(DataTarget dt, Options opt, Report report)
        {
            ClrInfo? clr = PickRuntime(dt);
            if (clr == null)
            {
                report.Status = "no_runtime";
                report.Error = "no .NET runtime in the dump";
                return null;
            }
            DacSearch s = DacLocator.Find(clr, opt.Dac);
            report.RuntimeVersion = s.Version;
            report.Flavor = clr.Flavor.ToString();
            report.PointerSize = dt.DataReader.PointerSize;
            if (s.Found == null)
            {
                report.Status = "no_dac";
                report.Error = $"the dump's .NET runtime {s.Version} needs its DAC {s.FileName} (from the Microsoft.NETCore.App {s.Version} " +
                               $"runtime, same OS and architecture); looked in: {string.Join(", ", s.Tried)}";
                return null;
            }
            report.Dac = s.Found;
            try
            {
                // ignoreMismatch: ClrMD compares the DAC against the dump's runtime version, which it reads as 0.0
                // on createdump cores of .NET 10; the file was chosen by exact version or by location instead.
                return clr.CreateRuntime(s.Found, ignoreMismatch: true);
            }
            catch (Exception ex)
            {
                report.Status = "error";
                report.Error = $"could not open the runtime with {s.Found}: {ex.Message}";
                return null;
            }
        }

        private static int StackChild(DataTarget dt, Options opt)
        {
            var report = new Report();
            using ClrRuntime? rt = OpenRuntime(dt, opt, report);
            if (rt == null)
            {
                Console.Error.WriteLine("dumpscout-heap: " + report.Error);
                return 1;
            }
            return StackWalk.RunChild(rt, opt);
        }

        private static int Analyze(DataTarget dt, Options opt)
        {
            var report = new Report();
            var total = System.Diagnostics.Stopwatch.StartNew();
            using ClrRuntime? rt = OpenRuntime(dt, opt, report);
            if (rt == null)
            {
                Print(report, opt);
                return report.Status == "error" ? 1 : 0;
            }
            try
            {
                ClrHeap heap = rt.Heap;
                if (heap.Segments.Length == 0)
                {
                    report.Status = "no_heap";
                    report.Error = "the dump holds no GC heap";
                    Print(report, opt);
                    return 0;
                }
                report.HasHeap = true;
                if (opt.Mode == "walk-only")
                    return WalkOnly(heap, report, opt, total);

                StackWalk.Runner? stacks = null;
                if (!opt.NoStacks)
                {
                    try
                    {
                        stacks = new StackWalk.Runner(opt, report.Dac!);
                        stacks.Start();
                    }
                    catch (Exception ex)
                    {
                        stacks = null;
                        report.Status = "partial";
                        report.Warnings.Add("stack walker not started: " + ex.Message);
                    }
                }
                var a = new HeapAnalysis(rt, report, opt);
                Stage(report, "heap walk", a.WalkHeap);
                Stage(report, "handles", a.GatherHandles);
                List<ClrThread> threads = rt.Threads.ToList();
                Stage(report, "statics", () => a.GatherStatics(threads));
                Stage(report, "finalizer queue", a.GatherFinalizerQueue);
                Stage(report, "exception", () => report.Exception = ExceptionOf(rt, threads));
                if (stacks != null)
                {
                    var waited = System.Diagnostics.Stopwatch.StartNew();
                    StackResults sr = stacks.Finish();
                    Console.Error.WriteLine($"dumpscout-heap: stack walker: waited {waited.ElapsedMilliseconds} ms");
                    foreach (StackRootFact f in sr.Roots)
                        a.AddStackRoot(a.MakeThread(f.OsId, f.ManagedId), f.Frame, f.Object);
                    report.Warnings.AddRange(sr.Warnings);
                    if (sr.Partial)
                        report.Status = "partial";
                    report.FaultingThread = FaultingThread(report, sr, a);
                }
                Stage(report, "root search", a.Search);
                Stage(report, "contexts", a.BuildContexts);
            }
            catch (Exception ex)
            {
                report.Status = "error";
                report.Error = "analysis failed: " + ex.GetType().Name + ": " + ex.Message;
                report.DurationMs = total.ElapsedMilliseconds;
                Print(report, opt);
                return 1;
            }
            report.DurationMs = total.ElapsedMilliseconds;
            Print(report, opt);
            return 0;
        }

        private static void Stage(Report report, string name, Action stage)
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                stage();
                Console.Error.WriteLine($"dumpscout-heap: {name}: {sw.ElapsedMilliseconds} ms");
            }
            catch (Exception ex)
            {
                report.Status = "partial";
                report.Warnings.Add($"{name} failed: {ex.GetType().Name}: {ex.Message}");
            }
        }

        private static int WalkOnly(ClrHeap heap, Report report, Options opt, System.Diagnostics.Stopwatch total)
        {
            long objects = 0, bytes = 0, refs = 0;
            foreach (ClrObject o in heap.EnumerateObjects())
            {
                if (o.Type == null || o.Type.IsFree)
                    continue;
                objects++;
                bytes += (long)o.Size;
                foreach (ulong _ in o.EnumerateReferenceAddresses(carefully: false, considerDependantHandles: false))
                    refs++;
            }
            report.Objects = objects;
            report.Bytes = bytes;
            report.CanWalk = heap.CanWalkHeap;
            report.DurationMs = total.ElapsedMilliseconds;
            Console.Error.WriteLine($"dumpscout-heap: walk-only: {objects} objects, {refs} references");
            Print(report, opt);
            return 0;
        }

        private static ExceptionInfo? ExceptionOf(ClrRuntime rt, List<ClrThread> threads)
        {
            foreach (ClrThread t in threads)
            {
                ClrException? ex = t.CurrentException;
                if (ex != null)
                    return Describe(ex, t.OSThreadId, 0);
            }
            return null;
        }

        private static ExceptionInfo? Describe(ClrException? ex, uint thread, int depth)
        {
            if (ex == null || depth > 8)
                return null;
            var e = new ExceptionInfo { Type = ex.Type?.Name, Message = ex.Message, HResult = ex.HResult, ThreadOsId = thread };
            foreach (ClrStackFrame f in ex.StackTrace.Take(200))
                e.Stack.Add(f.Method?.Signature ?? "[" + (f.FrameName ?? f.Kind.ToString()) + "]");
            e.Inner = Describe(ex.Inner, thread, depth + 1);
            return e;
        }

        // The thread that crashed: the one with the exception, else the one that called FailFast.
        private static FrameList? FaultingThread(Report report, StackResults sr, HeapAnalysis a)
        {
            FrameList? pick = null;
            if (report.Exception != null)
                pick = sr.Threads.FirstOrDefault(t => t.Thread.OsId == report.Exception.ThreadOsId);
            pick ??= sr.Threads.FirstOrDefault(t => t.Frames.Any(f => f.StartsWith("System.Environment.FailFast", StringComparison.Ordinal)));
            if (pick == null && report.Exception != null)
                pick = new FrameList { Thread = new ThreadRef { OsId = report.Exception.ThreadOsId } };
            if (pick != null)
            {
                ThreadRef named = a.MakeThread(pick.Thread.OsId, pick.Thread.ManagedId);
                pick.Thread = named;
            }
            return pick;
        }
    }
}
