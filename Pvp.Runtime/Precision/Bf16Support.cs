using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace Pvp.Precision;

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
            ? new(false, "the CPU's features are unknown (no /proc/cpuinfo)")
            : new(false, $"no AVX-512 BF16 or AMX-BF16 on {name} (it has: {cpu.ReportedFlagsPresent})");
    }

    /// <summary>bf16 support of a CUDA device of this compute capability (null: unknown).</summary>
    public static Bf16Support OfCuda(int index, (int Major, int Minor)? capability) => capability switch
    {
        null => new(false, $"the compute capability of cuda:{index} is unknown (nvidia-smi did not report it)"),
        var (major, minor) when major >= 8 => new(true, $"cuda:{index} has compute capability {major}.{minor} (8.0 or newer)"),
        var (major, minor) => new(false, $"cuda:{index} has compute capability {major}.{minor}; native bf16 needs 8.0 or newer"),
    };

    /// <summary>bf16 support of <paramref name="device"/> on this machine (the CPU when null).</summary>
    public static Bf16Support Of(Device? device) =>
        device is { type: DeviceType.CUDA } ? OfCuda(Math.Max(0, device.index), CudaCapability(Math.Max(0, device.index))) : OfCpu(CpuFeatures.Current);

    /// <summary>The compute capability of CUDA device <paramref name="index"/>, from <c>nvidia-smi</c> (TorchSharp does not expose it).</summary>
    private static (int, int)? CudaCapability(int index)
    {
        try
        {
            var start = new ProcessStartInfo("nvidia-smi", $"--query-gpu=compute_cap --format=csv,noheader -i {index}")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            using var process = Process.Start(start);
            if (process is null) return null;
            string text = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            var parts = text.Split('.');
            return process.ExitCode == 0 && parts.Length == 2
                   && int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int major)
                   && int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int minor)
                ? (major, minor) : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // no nvidia-smi
        }
    }
}
