// StackWalk.cs - thread stacks, walked in a child process. Walking a stack reads the crashed process's
// frames through the DAC, and on some dumps that kills the reading process (SIGSEGV inside the DAC on
// fixture s10's faulting thread), so the engine runs itself with --stack-roots: the child prints one JSON
// line per event as it goes (a thread begun, its frames, each root, the thread done). If the child dies,
// the parent keeps what was printed and runs it again skipping the thread it died on.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using Microsoft.Diagnostics.Runtime;

namespace DumpScout.Heap
{
    internal sealed class StackRootFact
    {
        public uint OsId;
        public int ManagedId;
        public string? Frame;
        public ulong Object;
    }

    internal sealed class StackResults
    {
        public readonly List<FrameList> Threads = new List<FrameList>();
        public readonly List<StackRootFact> Roots = new List<StackRootFact>();
        public readonly List<string> Warnings = new List<string>();
        public bool Partial;
    }

    internal static class StackWalk
    {
        private const int MaxFrames = 400;
        private const int MaxAttempts = 6;
        private static readonly TimeSpan ChildTimeout = TimeSpan.FromMinutes(5);

        /// <summary>The child's side: walk every thread not skipped, printing events as JSON lines.</summary>
        public static int RunChild(ClrRuntime rt, Options opt)
        {
            using Stream stdout = Console.OpenStandardOutput();
            var skip = new HashSet<uint>(opt.SkipThreads);
            foreach (ClrThread th in rt.Threads)
            {
                if (skip.Contains(th.OSThreadId) || !th.IsAlive)
                    continue;
                Emit(stdout, w => { w.WriteString("t", "begin"); w.WriteNumber("os", th.OSThreadId); w.WriteNumber("mid", th.ManagedThreadId); });
                var frames = new List<string>();
                try
                {
                    // Managed frames only: the runtime's own transition frames say nothing to a reader.
                    foreach (ClrStackFrame f in th.EnumerateStackTrace(false, MaxFrames))
                        if (f.Method != null)
                            frames.Add(FrameText(f));
                }
                catch (Exception ex)
                {
                    Emit(stdout, w => { w.WriteString("t", "warning"); w.WriteString("text", Text.Clean($"stack trace of thread 0x{th.OSThreadId:x}: {ex.Message}")); });
                }
                Emit(stdout, w =>
                {
                    w.WriteString("t", "frames");
                    w.WriteNumber("os", th.OSThreadId);
                    w.WriteStartArray("frames");
                    foreach (string s in frames)
                        w.WriteStringValue(Text.Clean(s));
                    w.WriteEndArray();
                });
                Emit(stdout, w => { w.WriteString("t", "roots"); w.WriteNumber("os", th.OSThreadId); });
                try
                {
                    foreach (ClrStackRoot r in th.EnumerateStackRoots())
                    {
                        ulong obj = r.Object.Address;
                        if (obj == 0)
                            continue;
                        string? frame = r.StackFrame?.Method?.Signature;
                        Emit(stdout, w =>
                        {
                            w.WriteString("t", "root");
                            w.WriteNumber("os", th.OSThreadId);
                            w.WriteNumber("obj", obj);
                            if (frame != null)
                                w.WriteString("frame", Text.Clean(frame));
                        });
                    }
                }
                catch (Exception ex)
                {
                    Emit(stdout, w => { w.WriteString("t", "warning"); w.WriteString("text", Text.Clean($"stack roots of thread 0x{th.OSThreadId:x}: {ex.Message}")); });
                }
                Emit(stdout, w => { w.WriteString("t", "done"); w.WriteNumber("os", th.OSThreadId); });
            }
            Emit(stdout, w => w.WriteString("t", "end"));
            return 0;
        }

        private static string FrameText(ClrStackFrame f)
        {
            if (f.Method != null)
                return f.Method.Signature ?? f.Method.Name ?? "?";
            return "[" + (f.FrameName ?? f.Kind.ToString()) + "]";
        }

        private static void Emit(Stream s, Action<Utf8JsonWriter> body)
        {
            using (var w = new Utf8JsonWriter(s))
            {
                w.WriteStartObject();
                body(w);
                w.WriteEndObject();
            }
            s.WriteByte((byte)'\n');
            s.Flush();
        }

        /// <summary>The parent's side: starts the child (and restarts it past a thread it died on).</summary>
        public sealed class Runner
        {
            private readonly Options opt;
            private readonly string dac;
            private readonly StackResults results = new StackResults();
            private readonly List<uint> skip = new List<uint>();
            private Process? proc;
            private Task<List<string>>? reader;

            public Runner(Options options, string dacPath)
            {
                opt = options;
                dac = dacPath;
            }

            public void Start()
            {
                var psi = new ProcessStartInfo
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                };
                string self = Environment.ProcessPath ?? "dumpscout-heap";
                psi.FileName = self;
                string exe = Path.GetFileNameWithoutExtension(self);
                if (exe == "dotnet")
                    psi.ArgumentList.Add(typeof(StackWalk).Assembly.Location);
                psi.ArgumentList.Add("--stack-roots");
                psi.ArgumentList.Add(opt.Dump);
                psi.ArgumentList.Add("--dac");
                psi.ArgumentList.Add(dac);
                // the walker inherits stdin, and with it the caller's pipe: it ends with the caller too
                if (opt.ParentPipe)
                    psi.ArgumentList.Add("--parent-pipe");
                if (skip.Count > 0)
                {
                    psi.ArgumentList.Add("--skip-threads");
                    psi.ArgumentList.Add(string.Join(",", skip.Select(t => t.ToString(System.Globalization.CultureInfo.InvariantCulture))));
                }
                proc = Process.Start(psi) ?? throw new InvalidOperationException("could not start the stack walker");
                Process p = proc;
                p.ErrorDataReceived += (_, _) => { };
                p.BeginErrorReadLine();
                reader = Task.Run(() =>
                {
                    var lines = new List<string>();
                    string? line;
                    while ((line = p.StandardOutput.ReadLine()) != null)
                        lines.Add(line);
                    return lines;
                });
            }

            /// <summary>Waits for the child (restarting it as needed) and returns what it found.</summary>
            public StackResults Finish()
            {
                for (int attempt = 1; ; attempt++)
                {
                    // A walker that hangs (a cyclic frame chain in a corrupt stack, say) is ended after
                    // ChildTimeout; what it printed so far is kept and the thread it was on is skipped.
                    bool timedOut = false;
                    if (!proc!.WaitForExit((int)ChildTimeout.TotalMilliseconds))
                    {
                        timedOut = true;
                        try
                        {
                            proc.Kill(entireProcessTree: true);
                        }
                        catch (InvalidOperationException)
                        {
                        }
                        proc.WaitForExit();
                    }
                    List<string> lines = reader!.Result;
                    proc.WaitForExit();
                    int code = timedOut ? -1 : proc.ExitCode;
                    proc.Dispose();
                    (bool ended, uint diedOn) = Absorb(lines);
                    if (ended && code == 0)
                        return results;
                    results.Partial = true;
                    if (diedOn == 0)
                    {
                        results.Warnings.Add($"stack walker exited with status {code} before walking any thread; stack roots missing");
                        return results;
                    }
                    results.Warnings.Add(timedOut
                        ? $"stack roots of thread 0x{diedOn:x} skipped: the stack walker hung on it (ended after {ChildTimeout.TotalMinutes} minutes)"
                        : $"stack roots of thread 0x{diedOn:x} skipped: the stack walker died on it (exit status {code})");
                    if (attempt >= MaxAttempts)
                    {
                        results.Warnings.Add("stack walker gave up after " + attempt + " attempts; the remaining threads' stack roots are missing");
                        return results;
                    }
                    skip.Add(diedOn);
                    Start();
                }
            }

            private (bool Ended, uint DiedOn) Absorb(List<string> lines)
            {
                uint current = 0;
                bool ended = false;
                var mids = new Dictionary<uint, int>();
                foreach (string line in lines)
                {
                    JsonDocument doc;
                    try
                    {
                        doc = JsonDocument.Parse(line);
                    }
                    catch (JsonException)
                    {
                        continue;
                    }
                    using (doc)
                    {
                        JsonElement e = doc.RootElement;
                        string t = e.TryGetProperty("t", out JsonElement te) ? te.GetString() ?? "" : "";
                        uint os = e.TryGetProperty("os", out JsonElement oe) ? oe.GetUInt32() : 0;
                        switch (t)
                        {
                            case "begin":
                                current = os;
                                mids[os] = e.GetProperty("mid").GetInt32();
                                break;
                            case "frames":
                                var fl = new FrameList { Thread = new ThreadRef { OsId = os, ManagedId = mids.GetValueOrDefault(os) } };
                                foreach (JsonElement f in e.GetProperty("frames").EnumerateArray())
                                    fl.Frames.Add(f.GetString() ?? "");
                                results.Threads.Add(fl);
                                break;
                            case "root":
                                results.Roots.Add(new StackRootFact
                                {
                                    OsId = os, ManagedId = mids.GetValueOrDefault(os), Object = e.GetProperty("obj").GetUInt64(),
                                    Frame = e.TryGetProperty("frame", out JsonElement fe) ? fe.GetString() : null,
                                });
                                break;
                            case "done":
                                current = 0;
                                break;
                            case "warning":
                                results.Warnings.Add(e.GetProperty("text").GetString() ?? "");
                                results.Partial = true;
                                break;
                            case "end":
                                ended = true;
                                break;
                        }
                    }
                }
                return (ended, current);
            }
        }
    }
}
