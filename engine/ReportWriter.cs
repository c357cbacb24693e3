// ReportWriter.cs - writes the Report as the one JSON document of docs/engine.md (format 1) with
// System.Text.Json's Utf8JsonWriter, so every string from the target is escaped by the serializer. Text
// cleans such strings first (lone surrogates replaced, length capped) so writing them cannot fail.
using System;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;

namespace DumpScout.Heap
{
    internal static class Text
    {
        public const int MaxLength = 4096;

        /// <summary>The string as valid UTF-16 of at most MaxLength chars (lone surrogates become U+FFFD).</summary>
        public static string Clean(string s)
        {
            bool ok = s.Length <= MaxLength;
            for (int i = 0; ok && i < s.Length; i++)
            {
                char c = s[i];
                if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                    i++;
                else if (char.IsSurrogate(c))
                    ok = false;
            }
            if (ok)
                return s;
            var b = new StringBuilder(Math.Min(s.Length, MaxLength));
            for (int i = 0; i < s.Length && b.Length < MaxLength; i++)
            {
                char c = s[i];
                if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                {
                    b.Append(c).Append(s[i + 1]);
                    i++;
                }
                else if (char.IsSurrogate(c))
                    b.Append('\uFFFD');
                else
                    b.Append(c);
            }
            return b.ToString();
        }

        public static string Hex(ulong v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);
    }

    internal static class ReportWriter
    {
        public const string Version = "1.0.0";
        public const string ClrMdVersion = "4.2.750101";

        public static void Write(Report r, Stream output, bool pretty)
        {
            using (var w = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = pretty }))
            {
                w.WriteStartObject();
                w.WriteNumber("format", 1);
                w.WriteStartObject("engine");
                w.WriteString("name", "dumpscout-heap");
                w.WriteString("version", Version);
                w.WriteString("clrmd", ClrMdVersion);
                w.WriteEndObject();
                w.WriteString("status", r.Status);
                Str(w, "error", r.Error);
                w.WriteStartArray("warnings");
                foreach (string s in r.Warnings)
                    w.WriteStringValue(Text.Clean(s));
                w.WriteEndArray();
                if (r.RuntimeVersion == null)
                    w.WriteNull("runtime");
                else
                {
                    w.WriteStartObject("runtime");
                    Str(w, "version", r.RuntimeVersion);
                    Str(w, "flavor", r.Flavor);
                    Str(w, "dac", r.Dac);
                    w.WriteNumber("pointer_size", r.PointerSize);
                    w.WriteEndObject();
                }
                if (!r.HasHeap)
                    w.WriteNull("heap");
                else
                {
                    w.WriteStartObject("heap");
                    w.WriteNumber("objects", r.Objects);
                    w.WriteNumber("bytes", r.Bytes);
                    w.WriteBoolean("can_walk", r.CanWalk);
                    w.WriteNumber("duration_ms", r.DurationMs);
                    w.WriteEndObject();
                }
                w.WritePropertyName("exception");
                Exception(w, r.Exception, 0);
                w.WritePropertyName("faulting_thread");
                if (r.FaultingThread == null)
                    w.WriteNullValue();
                else
                {
                    w.WriteStartObject();
                    w.WriteString("os_id", Text.Hex(r.FaultingThread.Thread.OsId));
                    w.WriteNumber("managed_id", r.FaultingThread.Thread.ManagedId);
                    Str(w, "name", r.FaultingThread.Thread.Name);
                    w.WriteStartArray("stack");
                    foreach (string f in r.FaultingThread.Frames)
                        w.WriteStringValue(Text.Clean(f));
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                w.WriteStartArray("contexts");
                foreach (ContextInfo c in r.Contexts)
                    Context(w, c);
                w.WriteEndArray();
                w.WriteStartObject("roots_searched");
                w.WriteNumber("handles", r.HandlesSearched);
                w.WriteNumber("statics", r.StaticsSearched);
                w.WriteNumber("thread_statics", r.ThreadStaticsSearched);
                w.WriteNumber("stack", r.StackSearched);
                w.WriteNumber("finalizer", r.FinalizerSearched);
                w.WriteEndObject();
                w.WriteEndObject();
            }
            output.WriteByte((byte)'\n');
            output.Flush();
        }

        private static void Str(Utf8JsonWriter w, string name, string? value)
        {
            if (value == null)
                w.WriteNull(name);
            else
                w.WriteString(name, Text.Clean(value));
        }

        private static void Addr(Utf8JsonWriter w, string name, ulong value)
        {
            if (value == 0)
                w.WriteNull(name);
            else
                w.WriteString(name, Text.Hex(value));
        }

        private static void Exception(Utf8JsonWriter w, ExceptionInfo? e, int depth)
        {
            if (e == null || depth > 8)
            {
                w.WriteNullValue();
                return;
            }
            w.WriteStartObject();
            Str(w, "type", e.Type);
            Str(w, "message", e.Message);
            w.WriteString("hresult", "0x" + ((uint)e.HResult).ToString("x8", CultureInfo.InvariantCulture));
            if (e.ThreadOsId == 0)
                w.WriteNull("thread");
            else
                w.WriteString("thread", Text.Hex(e.ThreadOsId));
            w.WriteStartArray("stack");
            foreach (string f in e.Stack)
                w.WriteStringValue(Text.Clean(f));
            w.WriteEndArray();
            w.WritePropertyName("inner");
            Exception(w, e.Inner, depth + 1);
            w.WriteEndObject();
        }

        private static void Thread(Utf8JsonWriter w, ThreadRef? t)
        {
            if (t == null)
            {
                w.WriteNull("thread");
                return;
            }
            w.WriteStartObject("thread");
            w.WriteString("os_id", Text.Hex(t.OsId));
            w.WriteNumber("managed_id", t.ManagedId);
            Str(w, "name", t.Name);
            w.WriteEndObject();
        }

        private static void Context(Utf8JsonWriter w, ContextInfo c)
        {
            w.WriteStartObject();
            Addr(w, "loader_allocator", c.LoaderAllocator);
            Addr(w, "scout", c.Scout);
            Addr(w, "alc", c.Alc);
            Str(w, "alc_type", c.AlcType);
            Str(w, "name", c.Name);
            w.WriteString("state", c.State);
            w.WriteBoolean("dynamic", c.Dynamic);
            w.WriteStartArray("assemblies");
            foreach (string a in c.Assemblies)
                w.WriteStringValue(Text.Clean(a));
            w.WriteEndArray();
            w.WriteBoolean("roots_truncated", c.RootsTruncated);
            w.WriteStartArray("roots");
            foreach (RootPath rp in c.Roots)
            {
                Root r = rp.Root;
                w.WriteStartObject();
                w.WriteString("kind", r.Kind);
                Str(w, "field", r.Field);
                if (r.HasHandle)
                    w.WriteString("handle", Text.Hex(r.Handle));
                else
                    w.WriteNull("handle");
                Thread(w, r.Thread);
                Str(w, "frame", r.Frame);
                Str(w, "false_root_hint", r.FalseRootHint);
                w.WriteStartArray("path");
                foreach (Link l in rp.Path)
                {
                    w.WriteStartObject();
                    w.WriteString("address", Text.Hex(l.Address));
                    Str(w, "type", l.Type);
                    w.WriteString("via", l.Via);
                    Str(w, "field", l.Field);
                    w.WriteBoolean("collectible", l.Collectible);
                    Str(w, "method", l.Method);
                    Str(w, "runtime_type", l.RuntimeType);
                    if (l.Via != "dependent")
                        w.WriteNull("dependent");
                    else
                    {
                        w.WriteStartObject("dependent");
                        w.WriteString("handle", Text.Hex(l.DependentHandle));
                        Addr(w, "table", l.DependentTable);
                        Str(w, "table_type", l.DependentTableType);
                        if (l.DependentTableRoot == null)
                            w.WriteNull("table_root");
                        else
                        {
                            w.WriteStartObject("table_root");
                            w.WriteString("kind", l.DependentTableRoot.Kind);
                            Str(w, "field", l.DependentTableRoot.Field);
                            w.WriteEndObject();
                        }
                        w.WriteEndObject();
                    }
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteBoolean("path_truncated", rp.Truncated);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
    }
}
