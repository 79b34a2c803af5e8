using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace Pvp.MixedPrecision;

/// <summary>Whether a device computes bf16 natively, and why it is said so.</summary>
/// <param name="Native">
/// True: bf16 matrix products run in hardware (fast); false: emulated or unknown (slow, or untested).
/// </param>
/// <param name="Reason">
/// What was found, e.g. "AVX-512 BF16 on AMD EPYC" or "no AVX-512 BF16 or AMX on this CPU (flags: avx2 fma)".
/// </param>
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

    /// <summary>
    /// The least bf16 / float32 speed-up of a measured matrix product for which <c>auto</c> takes bf16 on a CPU: below
    /// it the casts at the backbone's boundaries and the elementwise ops eat the gain (the GEMM is most of a step).
    /// </summary>
    public const double MinimumCpuSpeedup = 1.25;

    /// <summary>
    /// bf16 support of a CPU with these features, given how much faster libtorch's bf16 matrix product measured than its
    /// float32 one there (<see cref="MeasureCpuSpeedup"/>; null: not measured, the flags decide). A flag is a promise
    /// of the instruction set, not of the kernels: on an Intel Xeon reporting avx512_bf16 and avx512_fp16 but no AMX,
    /// libtorch 2.10's bf16 GEMM measured 0.57× its float32 one, so the flags alone would pick the slower path.
    /// </summary>
    public static Bf16Support OfCpu(CpuFeatures cpu, double? measuredSpeedup)
    {
        var byFlags = OfCpu(cpu);
        if (!byFlags.Native || measuredSpeedup is not { } speedup) return byFlags;
        string measured = speedup.ToString("F2", CultureInfo.InvariantCulture);
        return speedup >= MinimumCpuSpeedup
            ? byFlags with { Reason = $"{byFlags.Reason}, bf16 matrix products measured {measured}× float32's" }
            : new(false, $"{byFlags.Reason} is reported, but libtorch's bf16 matrix product measured {measured}× " +
                         $"float32's here (auto takes bf16 from {MinimumCpuSpeedup.ToString(CultureInfo.InvariantCulture)}×)");
    }

    /// <summary>
    /// libtorch's bf16 / float32 speed on this CPU at this thread count: the median of five [m, k] · [k, n] products of
    /// each type after two warm-ups, the shape of a ViT's linear layer over a batch (a few tens of milliseconds in all).
    /// </summary>
    public static double MeasureCpuSpeedup(int m = 2048, int k = 768, int n = 768)
    {
        double Seconds(ScalarType dtype)
        {
            using var scope = NewDisposeScope();
            var a = randn(m, k).to(dtype);
            var b = randn(k, n).to(dtype);
            for (int i = 0; i < 2; i++) mm(a, b).Dispose();
            var times = new double[5];
            for (int i = 0; i < times.Length; i++)
            {
                var clock = Stopwatch.StartNew();
                mm(a, b).Dispose();
                times[i] = clock.Elapsed.TotalSeconds;
            }
            Array.Sort(times);
            return times[times.Length / 2];
        }
        using var noGrad = no_grad();
        return Seconds(ScalarType.Float32) / Seconds(ScalarType.BFloat16);
    }

    /// <summary>
    /// bf16 support of a CUDA device of this compute capability
    /// (null: unknown; with several GPUs, the lowest visible one's).
    /// </summary>
    public static Bf16Support OfCuda(int index, (int Major, int Minor)? capability) => capability switch
    {
        null => new(false, $"the compute capability of cuda:{index} is unknown (nvidia-smi did not report it)"),
        var (major, minor) when major >= 8 =>
            new(true, $"cuda:{index}: compute capability {major}.{minor} (8.0 or newer)"),
        var (major, minor) =>
            new(false, $"cuda:{index}: compute capability {major}.{minor}; native bf16 needs 8.0 or newer"),
    };

    /// <summary>
    /// bf16 support of <paramref name="device"/> on this machine (the CPU when null: its flags, and where they promise
    /// native bf16, a measured product, once per process).
    /// </summary>
    public static Bf16Support Of(Device? device) =>
        device is { type: DeviceType.CUDA }
            ? OfCuda(Math.Max(0, device.index), VisibleCudaCapability.Value)
            : OfCpu(CpuFeatures.Current, CpuSpeedup.Value);

    // Measured once per process, and only where the flags promise native bf16 (elsewhere bf16 is emulated and slow).
    private static readonly Lazy<double?> CpuSpeedup =
        new(() => OfCpu(CpuFeatures.Current).Native ? MeasureCpuSpeedup() : null);

    /// <summary>
    /// The lowest compute capability among the GPUs this process may use (those of <c>CUDA_VISIBLE_DEVICES</c>, by
    /// index or UUID, else all), from <c>nvidia-smi</c>, once per process. The lowest, because nvidia-smi's numbering
    /// need not be CUDA's: bf16 is chosen only when every GPU the index could mean computes it natively.
    /// </summary>
    private static readonly Lazy<(int, int)?> VisibleCudaCapability = new(() =>
    {
        var gpus = NvidiaSmi("--query-gpu=index,uuid,compute_cap --format=csv,noheader");
        if (gpus is null) return null;
        var rows = gpus.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(',').Select(f => f.Trim()).ToArray())
            .Where(f => f.Length == 3)
            .ToList();
        string? visible = Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES");
        if (!string.IsNullOrWhiteSpace(visible))
        {
            var wanted = visible.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            rows = rows
                .Where(r => wanted.Any(w => w == r[0] || (w.Length > 4 && r[1].StartsWith(w, StringComparison.Ordinal))))
                .ToList();
        }
        var capabilities = rows.Select(r => r[2].Split('.')).Where(p => p.Length == 2
                && int.TryParse(p[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out _)
                && int.TryParse(p[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
            .Select(p => (
                Major: int.Parse(p[0], CultureInfo.InvariantCulture),
                Minor: int.Parse(p[1], CultureInfo.InvariantCulture)))
            .ToList();
        return capabilities.Count == 0 ? null : capabilities.Min();
    });

    private static string? NvidiaSmi(string arguments)
    {
        try
        {
            var start = new ProcessStartInfo("nvidia-smi", arguments)
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
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
