using System.Diagnostics;
using static TorchSharp.torch;

namespace Pvp.Bench;

/// <summary>
/// Peak resident memory of a ViT-B/16 training step (batch 8, 224×224) per variant, each in its own process (peak RSS
/// is per process), and the optimizer state it holds: frozen weights must hold none.
/// </summary>
internal static class MemoryBench
{
    private static readonly string[] Variants = { "LinearProbeB16", "VptDeepB16", "LoraB16", "AdaptFormerB16", "FullFineTuneB16" };

    public static int Run(string[] args)
    {
        Console.WriteLine("variant            trainable    optimizer state   RSS after build   peak RSS (2 steps, batch 8)");
        foreach (string variant in Variants)
        {
            string? result = Measure.RunChild($"memory-child {variant}", "result ", out int exit);
            Console.WriteLine(result ?? $"{variant}: child failed, exit {exit}");
        }
        Console.WriteLine("CUDA memory: not measured (no GPU here, and TorchSharp 0.107 exposes no CUDA allocator statistics; on a GPU machine read nvidia-smi during the step).");
        return 0;
    }

    public static int Child(string variant)
    {
        manual_seed(0);
        using var model = VariantRegistry.Create(variant, numClasses: 1000);
        model.train();
        long afterBuild = Measure.ResidentBytes();
        using var optimizer = model.CreateAdamW(1e-3, 0.05);
        using var x = randn(8, 3, 224, 224);
        using var y = randint(0, 1000, new long[] { 8 });
        for (int i = 0; i < 2; i++)
        {
            using var scope = NewDisposeScope();
            optimizer.ZeroGrad();
            nn.functional.cross_entropy(model.call(x), y).backward();
            optimizer.Step();
        }
        Console.WriteLine($"result {variant,-18} {model.TrainableParameterCount,11:N0}   {Measure.Mib(optimizer.StateBytes),15}   {Measure.Mib(afterBuild),15}   {Measure.Mib(Measure.PeakResidentBytes()),15}");
        return 0;
    }
}
