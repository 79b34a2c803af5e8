using System.Diagnostics;

namespace Pvp.Bench;

/// <summary>Timing helpers: medians of interleaved repetitions, so both sides see the same machine state.</summary>
internal static class Measure
{
    /// <summary>Runs each action <paramref name="warmup"/> times, then <paramref name="rounds"/> interleaved rounds; returns median seconds per action.</summary>
    public static double[] Interleaved(int warmup, int rounds, params Action[] actions)
    {
        foreach (var action in actions)
            for (int i = 0; i < warmup; i++) action();
        var samples = actions.Select(_ => new List<double>()).ToArray();
        for (int r = 0; r < rounds; r++)
            for (int a = 0; a < actions.Length; a++)
            {
                var clock = Stopwatch.StartNew();
                actions[a]();
                samples[a].Add(clock.Elapsed.TotalSeconds);
            }
        return samples.Select(Median).ToArray();
    }

    public static double Median(List<double> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>Peak resident set size of this process (VmHWM), in bytes.</summary>
    public static long PeakResidentBytes() => ReadStatus("VmHWM:");

    /// <summary>Current resident set size (VmRSS), in bytes.</summary>
    public static long ResidentBytes() => ReadStatus("VmRSS:");

    private static long ReadStatus(string field)
    {
        string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
        return line is null ? -1 : long.Parse(line[field.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>
    /// Runs this bench again as a child process with <paramref name="arguments"/> (so its memory is its own) and returns
    /// the text after <paramref name="prefix"/> on the last output line that starts with it; null when none does.
    /// </summary>
    public static string? RunChild(string arguments, string prefix, out int exitCode)
    {
        var start = Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet"
            ? new ProcessStartInfo(Environment.ProcessPath!, $"\"{typeof(Measure).Assembly.Location}\" {arguments}")
            : new ProcessStartInfo(Environment.ProcessPath!, arguments);
        start.RedirectStandardOutput = true;
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        exitCode = process.ExitCode;
        string? line = output.Split('\n').LastOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return line?[prefix.Length..].Trim();
    }

    public static string Mib(long bytes) => $"{bytes / (1024.0 * 1024.0):F0} MiB";
}
