using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace Pvp.MixedPrecision;

/// <summary>Whether a device computes bf16 natively, and why it is said so.</summary>
/// <param name="Native">True: bf16 matrix products run in hardware (fast); false: emulated or unknown (slow, or untested).</param>
/// <param name="Reason">What was found, e.g. "AVX-512 BF16 on AMD EPYC" or "no AVX-512 BF16 or AMX on this CPU (flags: avx2 fma)".</param>
public sealed record Bf16Support(bool Native, string Reason)
{
    /// <summary>bf16 support of a CPU with these features.</summary>
    public static Bf16Support OfCpu(CpuFeatures cpu)
    {
        string name = cpu.Model.Length > 0 ? cpu.Model : "this CPU";
        if (cpu.Flags.Contains("amx_bf16")) return new(true, $"AMX-BF16 on {name}");
        if (cpu.Flags.Contains("avx512_bf16")) return new(true, $"AVX-512 BF16 on {name}");
        return cpu.Flags.Count == 0
            ? new(false, "the CPU's features are unknown (no flags in /proc/cpuinfo)")
            : new(false, $"no AVX-512 BF16 or AMX-BF16 on {name} (it has: {cpu.ReportedFlagsPresent})");
    }

    /// <summary>bf16 support of a CUDA device of this compute capability (null: unknown; with several GPUs, the lowest visible one's).</summary>
    public static Bf16Support OfCuda(int index, (int Major, int Minor)? capability) => capability switch
    {
        null => new(false, $"the compute capability of cuda:{index} is unknown (nvidia-smi did not report it)"),
        var (major, minor) when major >= 8 => new(true, $"cuda:{index}: compute capability {major}.{minor} (8.0 or newer)"),
        var (major, minor) => new(false, $"cuda:{index}: compute capability {major}.{minor}; native bf16 needs 8.0 or newer"),
    };

    /// <summary>bf16 support of <paramref name="device"/> on this machine (the CPU when null).</summary>
    public static Bf16Support Of(Device? device) =>
        device is { type: DeviceType.CUDA } ? OfCuda(Math.Max(0, device.index), VisibleCudaCapability.Value) : OfCpu(CpuFeatures.Current);

    /// <summary>
    /// The lowest compute capability among the GPUs this process may use (those of <c>CUDA_VISIBLE_DEVICES</c>, by index or
    /// UUID, else all), from <c>nvidia-smi</c>, once per process. The lowest, because nvidia-smi's numbering need not be
    /// CUDA's: bf16 is chosen only when every GPU the index could mean computes it natively.
    /// </summary>
    private static readonly Lazy<(int, int)?> VisibleCudaCapability = new(() =>
    {
        var gpus = NvidiaSmi("--query-gpu=index,uuid,compute_cap --format=csv,noheader");
        if (gpus is null) return null;
        var rows = gpus.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(',').Select(f => f.Trim()).ToArray()).Where(f => f.Length == 3).ToList();
        string? visible = Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES");
        if (!string.IsNullOrWhiteSpace(visible))
        {
            var wanted = visible.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            rows = rows.Where(r => wanted.Any(w => w == r[0] || (w.Length > 4 && r[1].StartsWith(w, StringComparison.Ordinal)))).ToList();
        }
        var capabilities = rows.Select(r => r[2].Split('.')).Where(p => p.Length == 2
                && int.TryParse(p[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out _) && int.TryParse(p[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
            .Select(p => (Major: int.Parse(p[0], CultureInfo.InvariantCulture), Minor: int.Parse(p[1], CultureInfo.InvariantCulture))).ToList();
        return capabilities.Count == 0 ? null : capabilities.Min();
    });

    private static string? NvidiaSmi(string arguments)
    {
        try
        {
            var start = new ProcessStartInfo("nvidia-smi", arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var process = Process.Start(start);
            if (process is null) return null;
            var error = process.StandardError.ReadToEndAsync();
            var output = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(10_000))
            {
                process.Kill();
                return null;
            }
            return process.ExitCode == 0 ? output.Result : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // no nvidia-smi
        }
    }
}
