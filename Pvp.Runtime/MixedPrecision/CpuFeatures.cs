namespace Pvp.MixedPrecision;

/// <summary>The CPU's model name and feature flags as the operating system reports them (Linux: <c>/proc/cpuinfo</c>).</summary>
/// <param name="Model">The model name ("" when unknown).</param>
/// <param name="Flags">The feature flags, e.g. <c>avx2</c>, <c>avx512_bf16</c>, <c>amx_bf16</c> (empty when unknown).</param>
public sealed record CpuFeatures(string Model, IReadOnlySet<string> Flags)
{
    private static readonly Lazy<CpuFeatures> Host = new(ReadHost);

    /// <summary>The flags that make bf16 matrix products native on x86: AVX-512 BF16 and AMX-BF16.</summary>
    public static IReadOnlyList<string> Bf16Flags { get; } = new[] { "avx512_bf16", "amx_bf16" };

    /// <summary>The flags a precision report shows (those of the list this CPU has).</summary>
    public static IReadOnlyList<string> ReportedFlags { get; } = new[] { "avx2", "fma", "avx512f", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16" };

    /// <summary>This machine's CPU (read once per process).</summary>
    public static CpuFeatures Current => Host.Value;

    /// <summary>True where bf16 matrix products run natively: AVX-512 BF16 or AMX-BF16.</summary>
    public bool HasNativeBf16 => Bf16Flags.Any(Flags.Contains);

    /// <summary>The <see cref="ReportedFlags"/> this CPU has, space-separated ("none of …" when it has none).</summary>
    public string ReportedFlagsPresent =>
        ReportedFlags.Where(Flags.Contains).ToList() is { Count: > 0 } present ? string.Join(' ', present) : $"none of {string.Join(' ', ReportedFlags)}";

    /// <summary>Reads the first processor's model name and flags (x86 <c>flags</c>, Arm <c>Features</c>) from the text of <c>/proc/cpuinfo</c>.</summary>
    public static CpuFeatures Parse(string cpuinfo)
    {
        string model = "";
        IReadOnlySet<string>? flags = null;
        foreach (var line in cpuinfo.Split('\n'))
        {
            int colon = line.IndexOf(':');
            if (colon < 0) continue;
            string key = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
            if (key == "model name" && model.Length == 0) model = value;
            else if (key is "flags" or "Features" && flags is null) flags = value.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        }
        return new CpuFeatures(model, flags ?? new HashSet<string>());
    }

    private static CpuFeatures ReadHost()
    {
        try
        {
            return File.Exists("/proc/cpuinfo") ? Parse(File.ReadAllText("/proc/cpuinfo")) : new CpuFeatures("", new HashSet<string>());
        }
        catch (IOException)
        {
            return new CpuFeatures("", new HashSet<string>());
        }
    }
}
