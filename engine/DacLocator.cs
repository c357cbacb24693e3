// DacLocator.cs - finds the runtime's version and its data-access library (the DAC) for one dump: from
// --dac, beside the runtime module recorded in the dump, or in an installed shared runtime of the exact
// version. It only looks at files; opening the runtime is Program's job.
using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Microsoft.Diagnostics.Runtime;

namespace DumpScout.Heap
{
    /// <summary>The outcome of a DAC search: the file found (or null) and every folder tried.</summary>
    internal sealed class DacSearch
    {
        public string Version = "unknown";
        public string FileName = "";
        public string? Found;
        public readonly List<string> Tried = new List<string>();
    }

    internal static class DacLocator
    {
        private static readonly Regex VersionInPath =
            new Regex(@"Microsoft\.NETCore\.App[/\\]([0-9]+\.[0-9]+\.[0-9]+(?:-[A-Za-z0-9.\-]+)?)[/\\]", RegexOptions.CultureInvariant);

        /// <summary>The runtime's version as "X.Y.Z": from the shared-runtime folder in the runtime module's
        /// path, else ClrMD's (0.0 on createdump cores of .NET 10: the version resource is not in the dump),
        /// else the version string embedded in the runtime file on disk.</summary>
        public static string RuntimeVersion(ClrInfo clr)
        {
            // The shared-runtime folder names the product version (X.Y.Z); ClrMD's Version is the file
            // version (8.0.3126 for an 8.0.x runtime) or 0.0 (.NET 10 createdump cores).
            string path = clr.ModuleInfo.FileName ?? "";
            Match m = VersionInPath.Match(path);
            if (m.Success)
                return m.Groups[1].Value;
            Version v = clr.Version;
            if (v.Major > 0)
                return ProductVersion(v.Major, v.Minor, Math.Max(v.Build, 0));
            foreach (ModuleInfo mod in clr.DataTarget.EnumerateModules())
            {
                m = VersionInPath.Match(mod.FileName ?? "");
                if (m.Success)
                    return m.Groups[1].Value;
            }
            string? fromFile = VersionFromFile(path);
            return fromFile ?? "unknown";
        }

        /// <summary>The product version (what the shared-runtime folder and the runtime packs are named) from
        /// a runtime file's version: from .NET 5 on, the file version's third part is patch * 100 plus the
        /// build year's last two digits (8.0.3126 is 8.0.31).</summary>
        private static string ProductVersion(int major, int minor, int build) =>
            major >= 5 && build >= 100 ? $"{major}.{minor}.{build / 100}" : $"{major}.{minor}.{build}";

        // The runtime binaries carry "@(#)Version X.Y.Z..." (the sccsid string); read it from the file on
        // disk when the dump's runtime folder exists here (a self-contained app's folder, say).
        private static string? VersionFromFile(string path)
        {
            try
            {
                if (path.Length == 0 || !File.Exists(path))
                    return null;
                var info = new FileInfo(path);
                if (info.Length > 64L * 1024 * 1024)
                    return null;
                byte[] bytes = File.ReadAllBytes(path);
                byte[] marker = System.Text.Encoding.ASCII.GetBytes("@(#)Version ");
                int at = bytes.AsSpan().IndexOf(marker);
                if (at < 0)
                    return null;
                int start = at + marker.Length, end = start;
                while (end < bytes.Length && end - start < 32 && (char.IsDigit((char)bytes[end]) || bytes[end] == '.'))
                    end++;
                string s = System.Text.Encoding.ASCII.GetString(bytes, start, end - start);
                string[] parts = s.Split('.');
                if (parts.Length >= 3 && int.TryParse(parts[0], out int major) && int.TryParse(parts[1], out int minor) &&
                    int.TryParse(parts[2], out int build))
                    return ProductVersion(major, minor, build);
                return null;
            }
            catch (Exception)
            {
                return null;
            }
        }

        /// <summary>The DAC's file name for a target OS, as the host that reads it needs it.</summary>
        public static string DacFileName(ClrInfo clr)
        {
            string runtime = Path.GetFileName(clr.ModuleInfo.FileName ?? "").ToLowerInvariant();
            if (runtime.EndsWith(".dll", StringComparison.Ordinal))
                return "mscordaccore.dll";
            if (runtime.EndsWith(".dylib", StringComparison.Ordinal))
                return "libmscordaccore.dylib";
            return "libmscordaccore.so";
        }

        public static DacSearch Find(ClrInfo clr, string? dacOption)
        {
            var s = new DacSearch { Version = RuntimeVersion(clr), FileName = DacFileName(clr) };
            var folders = new List<string>();
            if (dacOption != null)
            {
                if (File.Exists(dacOption))
                {
                    s.Found = Path.GetFullPath(dacOption);
                    s.Tried.Add(s.Found);
                    return s;
                }
                folders.Add(dacOption);
            }
            else
            {
                string runtimePath = clr.ModuleInfo.FileName ?? "";
                string? dir = SafeDirectoryName(runtimePath);
                if (dir != null)
                    folders.Add(dir);
                foreach (string root in DotnetRoots())
                    folders.Add(Path.Combine(root, "shared", "Microsoft.NETCore.App", s.Version));
            }
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (string folder in folders)
            {
                if (!seen.Add(folder))
                    continue;
                s.Tried.Add(folder);
                string candidate = Path.Combine(folder, s.FileName);
                if (s.Found == null && File.Exists(candidate))
                    s.Found = candidate;
            }
            return s;
        }

        private static string? SafeDirectoryName(string path)
        {
            try
            {
                return path.Length == 0 ? null : Path.GetDirectoryName(path);
            }
            catch (ArgumentException)
            {
                return null;
            }
        }

        // Installed .NET roots in search order: the usual Linux folders, DOTNET_ROOT, the dotnet on PATH,
        // and on Windows the Program Files folder.
        private static IEnumerable<string> DotnetRoots()
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                string? pf = Environment.GetEnvironmentVariable("ProgramFiles");
                if (!string.IsNullOrEmpty(pf))
                    yield return Path.Combine(pf, "dotnet");
            }
            else
            {
                yield return "/usr/share/dotnet";
                yield return "/usr/lib/dotnet";
            }
            string? env = Environment.GetEnvironmentVariable("DOTNET_ROOT");
            if (!string.IsNullOrEmpty(env))
                yield return env;
            string? onPath = DotnetOnPath();
            if (onPath != null)
                yield return onPath;
        }

        private static string? DotnetOnPath()
        {
            string exe = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "dotnet.exe" : "dotnet";
            string? path = Environment.GetEnvironmentVariable("PATH");
            if (string.IsNullOrEmpty(path))
                return null;
            foreach (string dir in path.Split(Path.PathSeparator))
            {
                if (dir.Length == 0)
                    continue;
                string candidate = Path.Combine(dir, exe);
                try
                {
                    if (!File.Exists(candidate))
                        continue;
                    var fi = new FileInfo(candidate);
                    string real = fi.LinkTarget != null ? (fi.ResolveLinkTarget(true)?.FullName ?? candidate) : candidate;
                    return Path.GetDirectoryName(real);
                }
                catch (Exception)
                {
                    continue;
                }
            }
            return null;
        }
    }
}
