using System.Diagnostics;
using Pvp.MixedPrecision;
using static TorchSharp.torch;

namespace Pvp.Bench;

/// <summary>
/// This host's measured peak through libtorch, at the thread count the step benchmarks run with: the median of a few
/// large float32 GEMMs (n × n × n, 2n³ flops), and where the CPU computes bf16 natively (avx512_bf16 or amx_bf16 in
/// /proc/cpuinfo) the same GEMM in bf16. A step's GFLOP/s as a share of it says how far from the machine's own ceiling
/// a step runs, whatever the machine.
/// </summary>
internal sealed record Peak(double Float32Gflops, double? Bf16Gflops, int Size, int Reps, int Threads)
{
    /// <summary>Measures and prints the peak.</summary>
    public static Peak Measure(int size = 2048, int reps = 5)
    {
        var cpu = CpuFeatures.Current;
        double fp32 = Gemm(ScalarType.Float32, size, reps);
        double? bf16 = cpu.HasNativeBf16 ? Gemm(ScalarType.BFloat16, size, reps) : null;
        var peak = new Peak(fp32, bf16, size, reps, get_num_threads());
        Console.WriteLine($"peak: {size}³ GEMM through libtorch, median of {reps} after 1 warm-up, torch threads {peak.Threads}: " +
                          $"float32 {fp32:F1} GFLOP/s; " +
                          (bf16 is { } b ? $"bf16 {b:F1} GFLOP/s ({b / fp32:F2}× float32)" :
                              $"bf16 not measured (no {string.Join(" or ", CpuFeatures.Bf16Flags)} in /proc/cpuinfo)"));
        return peak;
    }

    /// <summary><paramref name="gflops"/> as a share of the peak of <paramref name="dtype"/>, e.g. "41% of float32 peak".</summary>
    public string Share(double gflops, ScalarType dtype = ScalarType.Float32) =>
        dtype == ScalarType.BFloat16 && Bf16Gflops is { } b
            ? $"{100 * gflops / b:F0}% of bf16 peak"
            : $"{100 * gflops / Float32Gflops:F0}% of float32 peak";

    private static double Gemm(ScalarType dtype, int n, int reps)
    {
        manual_seed(0);
        using var a = randn(n, n).to(dtype);
        using var b = randn(n, n).to(dtype);
        using (mm(a, b)) { } // warm-up: the allocator and the kernel choice
        var seconds = new List<double>();
        for (int i = 0; i < reps; i++)
        {
            var clock = Stopwatch.StartNew();
            using (mm(a, b)) { }
            seconds.Add(clock.Elapsed.TotalSeconds);
        }
        return 2.0 * n * n * n / Pvp.Bench.Measure.Median(seconds) / 1e9;
    }

    /// <summary>
    /// Floating-point operations of one VPT-deep training step with a frozen backbone (forward + backward), counted from
    /// the matrix products: the patch embedding forward only; each block's qkv, projection and MLP forward and their
    /// input gradients (2×; frozen weights take no weight gradient), attention's QKᵀ and AV forward and both operands'
    /// gradients (3×). Softmax, norms and the optimizer are left out (a few percent).
    /// </summary>
    public static double VptDeepStepFlops(int batch, int imageSize, int patch, int width, int depth, int prompts)
    {
        long patches = (long)(imageSize / patch) * (imageSize / patch);
        long tokens = 1 + patches + prompts;
        double patchMacs = patches * 3.0 * patch * patch * width;
        double linearMacs = depth * 12.0 * tokens * width * width;
        double attentionMacs = depth * 2.0 * tokens * tokens * width;
        return 2.0 * batch * (patchMacs + 2 * linearMacs + 3 * attentionMacs);
    }
}
