using Microsoft.ML.OnnxRuntime;
using Pvp.Models.Backbones;
using static TorchSharp.torch;

namespace Pvp.Bench;

/// <summary>
/// ViT-S/16 inference, TorchSharp (libtorch) against ONNX Runtime running Pvp's exported file, on the same thread count:
/// batch 1 latency and batch 16 throughput, interleaved so that both see the same machine state.
/// </summary>
internal static class OnnxBench
{
    public static int Run(string[] args)
    {
        int threads = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : Environment.ProcessorCount;
        set_num_threads(threads);
        Console.WriteLine($"hardware: {Hardware.Describe()}");
        Console.WriteLine($"threads: {threads} (torch intra-op; ONNX Runtime intra-op {threads}, inter-op 1, sequential)");

        manual_seed(0);
        using var model = new VitSmall16(numClasses: 1000);
        model.eval();
        string path = Path.Combine(Path.GetTempPath(), $"pvp-bench-vits16-{Environment.ProcessId}.onnx");
        var export = System.Diagnostics.Stopwatch.StartNew();
        model.ExportOnnx(path);
        Console.WriteLine($"exported ViT-S/16 ({model.ParameterCount / 1e6:F1} M parameters) in {export.Elapsed.TotalSeconds:F1} s: {new FileInfo(path).Length / (1024.0 * 1024.0):F0} MiB");
        try
        {
            using var options = new SessionOptions
            {
                IntraOpNumThreads = threads,
                InterOpNumThreads = 1,
                ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            };
            using var session = new InferenceSession(path, options);
            foreach (var (batch, rounds) in new[] { (1, 30), (16, 7) })
            {
                using var x = randn(batch, 3, 224, 224);
                float[] pixels = x.data<float>().ToArray();
                long[] shape = x.shape;
                float[]? onnxLogits = null;
                Tensor? torchLogits = null;
                var times = Measure.Interleaved(3, rounds,
                    () =>
                    {
                        using var mode = inference_mode();
                        torchLogits?.Dispose();
                        torchLogits = model.call(x);
                    },
                    () =>
                    {
                        using var input = OrtValue.CreateTensorValueFromMemory(pixels, shape);
                        using var outputs = session.Run(new RunOptions(), new[] { "images" }, new[] { input }, new[] { "logits" });
                        onnxLogits = outputs[0].GetTensorDataAsSpan<float>().ToArray();
                    });
                float[] expected = torchLogits!.data<float>().ToArray();
                double diff = expected.Zip(onnxLogits!, (a, b) => Math.Abs(a - b)).Max();
                torchLogits.Dispose();
                if (batch == 1)
                    Console.WriteLine($"batch 1 latency:     TorchSharp {1000 * times[0]:F1} ms, ONNX Runtime {1000 * times[1]:F1} ms, ratio TorchSharp/ORT {times[0] / times[1]:F2} (max |Δlogits| {diff:E1})");
                else
                    Console.WriteLine($"batch {batch} throughput: TorchSharp {batch / times[0]:F1} img/s, ONNX Runtime {batch / times[1]:F1} img/s, ratio ORT/TorchSharp {times[0] / times[1]:F2} (max |Δlogits| {diff:E1})");
            }
        }
        finally
        {
            File.Delete(path);
        }
        return 0;
    }
}

/// <summary>The CPU this runs on, from /proc/cpuinfo (model and the vector extensions that matter here).</summary>
internal static class Hardware
{
    public static string Describe()
    {
        if (!File.Exists("/proc/cpuinfo")) return $"{Environment.ProcessorCount} logical CPUs, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}";
        var lines = File.ReadAllLines("/proc/cpuinfo");
        string Field(string name) => lines.FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        var flags = Field("flags").Split(' ').ToHashSet(StringComparer.Ordinal);
        var wanted = new[] { "avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16" }.Where(flags.Contains);
        return $"{Field("model name")}, {Environment.ProcessorCount} logical CPUs, {string.Join(" ", wanted)}";
    }
}
