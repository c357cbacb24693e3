// Model.cs - the facts the engine reports (docs/engine.md, format 1) as plain classes: roots, links,
// root paths, contexts, the exception and the whole report. Filled by HeapAnalysis and the stack child,
// written by ReportWriter; no behaviour here.
using System.Collections.Generic;

namespace DumpScout.Heap
{
    internal sealed class ThreadRef
    {
        public uint OsId;
        public int ManagedId;
        public string? Name;
    }

    /// <summary>One root: what holds the object (kind and the fields the kind fills) and the object.</summary>
    internal sealed class Root
    {
        public string Kind = "";
        public string? Field;
        public ulong Handle;
        public bool HasHandle;
        public ThreadRef? Thread;
        public string? Frame;
        public string? FalseRootHint;
        public ulong Object;
        public int Rank; // lower is reported first (real roots before the runtime's own)
    }

    internal sealed class Link
    {
        public ulong Address;
        public string? Type;
        public string Via = "root";
        public string? Field;
        public bool Collectible;
        public string? Method;
        public string? RuntimeType;
        public ulong DependentHandle;
        public ulong DependentTable;
        public string? DependentTableType;
        public Root? DependentTableRoot;
    }

    internal sealed class RootPath
    {
        public Root Root = new Root();
        public List<Link> Path = new List<Link>();
        public bool Truncated;
    }

    internal sealed class ContextInfo
    {
        public ulong LoaderAllocator;
        public ulong Scout;
        public ulong NativeLoaderAllocator;
        public ulong Alc;
        public string? AlcType;
        public string? Name;
        public string State = "unknown";
        public bool Dynamic;
        public List<string> Assemblies = new List<string>();
        public List<RootPath> Roots = new List<RootPath>();
        public bool RootsTruncated;
    }

    internal sealed class ExceptionInfo
    {
        public string? Type;
        public string? Message;
        public int HResult;
        public uint ThreadOsId;
        public List<string> Stack = new List<string>();
        public ExceptionInfo? Inner;
    }

    internal sealed class FrameList
    {
        public ThreadRef Thread = new ThreadRef();
        public List<string> Frames = new List<string>();
    }

    internal sealed class Report
    {
        public string Status = "ok";
        public string? Error;
        public List<string> Warnings = new List<string>();
        public string? RuntimeVersion;
        public string? Flavor;
        public string? Dac;
        public int PointerSize;
        public bool HasHeap;
        public long Objects;
        public long Bytes;
        public bool CanWalk;
        public long DurationMs;
        public ExceptionInfo? Exception;
        public FrameList? FaultingThread;
        public List<ContextInfo> Contexts = new List<ContextInfo>();
        public int HandlesSearched, StaticsSearched, ThreadStaticsSearched, StackSearched, FinalizerSearched;
    }
}
