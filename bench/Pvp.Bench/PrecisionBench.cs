using Pvp.Models;
using Pvp.MixedPrecision;
using Pvp.Recipes;
using TorchSharp;
using static TorchSharp.torch;

namespace Pvp.Bench;

/// <summary>
/// Precision = BackboneBf16 against float32 on this machine: the CPU's relevant features, what `auto` chooses here, and
/// the VPT-deep ViT-S/16 training step (batch 16, 224×224) of (a) the float32-only variant, (b) the bf16-allowed variant
/// at auto, (c) the bf16-allowed variant at float32 — what auto builds on a CPU without native bf16 — and, where bf16 is
/// native (or with --forced-bf16), (d) it at bf16; interleaved in one process. Then the few-shot accuracy of both
/// precisions on the built-in dataset (the quick start's recipe, 1/2/4 shots, 3 seeds, one shared float32-trained backbone).
/// </summary>
internal static class PrecisionBench
{
    public static int Run(string[] args)
    {
        int batch = 16, rounds = args.Contains("--quick") ? 3 : 7;
        var cpu = CpuFeatures.Current;
        var support = Bf16Support.Of(null);
        Console.WriteLine($"CPU: {(cpu.Model.Length > 0 ? cpu.Model : "unknown")}; flags: {cpu.ReportedFlagsPresent}; torch threads {get_num_threads()}");
        Console.WriteLine($"bf16 native here: {(support.Native ? "yes" : "no")} ({support.Reason})");
        manual_seed(0);
        using var x = randn(batch, 3, 224, 224);
        using var y = randint(0, 100, new long[] { batch });
        var models = new List<(string Name, PetModel Model)>
        {
            ("float32-only variant", new VptDeepS16(100)),
            ("bf16-allowed, auto", new VptDeepBf16S16(100)),
            ("bf16-allowed, float32 (auto without native bf16)", new VptDeepBf16S16(100, precision: BackbonePrecision.Float32)),
        };
        bool forced = support.Native || args.Contains("--forced-bf16");
        if (forced) models.Add(("bf16-allowed, bf16 forced", new VptDeepBf16S16(100, precision: BackbonePrecision.Bf16)));
        var optimizers = models.Select(m => m.Model.CreateAdamW(1e-3, 1e-4)).ToList();
        foreach (var (_, model) in models) model.train();
        Action Step(PetModel model, Pvp.Optim.PetAdamW optimizer) => () =>
        {
            using var scope = NewDisposeScope();
            optimizer.ZeroGrad();
            nn.functional.cross_entropy(model.call(x), y).backward();
            optimizer.Step();
        };
        var peak = Peak.Measure();
        var seconds = Measure.Interleaved(1, rounds, models.Select((m, i) => Step(m.Model, optimizers[i])).ToArray());
        double gflop = Peak.VptDeepStepFlops(batch, 224, 16, 384, 12, 50) / 1e9;
        Console.WriteLine($"VPT-deep ViT-S/16 training step, batch {batch}, median of {rounds} interleaved rounds ({gflop:F0} GFLOP each):");
        for (int i = 0; i < models.Count; i++)
            Console.WriteLine($"  {models[i].Name,-50} {seconds[i],7:F3} s  ({batch / seconds[i],6:F2} images/s)  {models[i].Model.Precision}  " +
                              $"{gflop / seconds[i],6:F1} GFLOP/s = {peak.Share(gflop / seconds[i], models[i].Model.Precision.Name == "bf16" ? ScalarType.BFloat16 : ScalarType.Float32)}");
        Console.WriteLine($"auto vs float32-only: {seconds[0] / seconds[1]:F2}× faster (target ≥ 2.5× where bf16 is native, else ~1.00×)");
        Console.WriteLine($"bf16-allowed at float32 / float32-only: {seconds[2] / seconds[0]:F3} (target ≤ 1.03: no cost on a CPU without native bf16)");
        if (forced) Console.WriteLine($"bf16 forced vs float32-only: {seconds[0] / seconds[3]:F2}× faster");
        foreach (var o in optimizers) o.Dispose();
        foreach (var (_, model) in models) model.Dispose();
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
            Precision = BackbonePrecision.Bf16,
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
