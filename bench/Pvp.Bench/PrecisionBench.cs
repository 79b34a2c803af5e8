using Pvp.Models;
using Pvp.Recipe;
using TorchSharp;
using static TorchSharp.torch;

namespace Pvp.Bench;

/// <summary>
/// Precision = BackboneBf16 against float32: the VPT-deep ViT-S/16 training step (batch 16, 224×224), interleaved in
/// one process; then the few-shot accuracy of both on the built-in dataset (the quick start's recipe, 1/2/4 shots, 3
/// seeds, one shared float32-trained backbone).
/// </summary>
internal static class PrecisionBench
{
    public static int Run(string[] args)
    {
        int batch = 16, rounds = args.Contains("--quick") ? 3 : 7;
        manual_seed(0);
        using var x = randn(batch, 3, 224, 224);
        using var y = randint(0, 100, new long[] { batch });
        using var fp32 = new VptDeepS16(100);
        using var bf16 = new VptDeepBf16S16(100);
        using var fp32Optimizer = fp32.CreateAdamW(1e-3, 1e-4);
        using var bf16Optimizer = bf16.CreateAdamW(1e-3, 1e-4);
        fp32.train();
        bf16.train();
        Action Step(PetModel model, Pvp.Optim.PetAdamW optimizer) => () =>
        {
            using var scope = NewDisposeScope();
            optimizer.ZeroGrad();
            nn.functional.cross_entropy(model.call(x), y).backward();
            optimizer.Step();
        };
        var seconds = Measure.Interleaved(1, rounds, Step(fp32, fp32Optimizer), Step(bf16, bf16Optimizer));
        Console.WriteLine($"VPT-deep ViT-S/16 step, batch {batch}: float32 {seconds[0]:F3} s ({batch / seconds[0]:F2} images/s), " +
                          $"bf16 backbone {seconds[1]:F3} s ({batch / seconds[1]:F2} images/s); speed-up {seconds[0] / seconds[1]:F2}× (target ≥ 2.5×)");
        if (args.Contains("--no-accuracy")) return 0;

        string recipePath = Path.Combine(AppContext.BaseDirectory, "builtin.yaml");
        string root = Path.Combine(Path.GetTempPath(), "pvp-precision-bench");
        var baseRecipe = RecipeParser.Load(recipePath);
        var shots = new[] { 1, 2, 4 };
        var fp32Recipe = baseRecipe with
        {
            Output = Path.Combine(root, "fp32"),
            Stage2 = baseRecipe.Stage2 with { Shots = shots },
        };
        var reporter = new ConsoleReporter(cellEpochs: false);
        var fp32Report = new PvpRunner(fp32Recipe, reporter).Run();
        var bf16Recipe = fp32Recipe with
        {
            Variant = nameof(VptDeepBf16Micro),
            Output = Path.Combine(root, "bf16"),
            BackboneWeights = Path.Combine(root, "fp32", "backbone", "backbone.safetensors"),
        };
        var bf16Report = new PvpRunner(bf16Recipe, reporter).Run();
        Console.WriteLine();
        Console.WriteLine("few-shot top-1 on the built-in dataset (PVP init, mean ± std over 3 seeds):");
        Console.WriteLine("| shots | float32 | bf16 backbone | difference |");
        Console.WriteLine("| ---: | ---: | ---: | ---: |");
        foreach (var (a, b) in fp32Report.Summary().Zip(bf16Report.Summary()))
            Console.WriteLine($"| {a.Shots} | {100 * a.PvpMean:F1} ± {100 * a.PvpStd:F1} | {100 * b.PvpMean:F1} ± {100 * b.PvpStd:F1} | {100 * (b.PvpMean - a.PvpMean):+0.0;−0.0} |");
        return 0;
    }
}
