using System.Diagnostics;
using static TorchSharp.torch;

namespace Pvp.Bench;

/// <summary>
/// Every PETuning method of the catalog on ViT-S/16 side by side: one AdamW training step at batch 16, 224×224 (median
/// of interleaved rounds, so every method sees the same machine state), images per second, trainable parameters, and
/// the peak resident memory of two steps, each method in a process of its own (peak RSS is per process).
/// </summary>
internal static class MethodsBench
{
    private const int Batch = 16;

    // One variant per method, the catalog's ViT-S/16 form; linear probe and full fine-tuning bracket them.
    private static readonly (string Variant, string Method)[] Methods =
    {
        ("LinearProbeS16", "linear probe"),
        ("BitFitS16", "BitFit"),
        ("LnTuningS16", "LN-tuning"),
        ("Ia3S16", "IA³"),
        ("SsfS16", "SSF"),
        ("SsfFullS16", "SSF, full form"),
        ("VptShallowS16", "VPT-shallow (50)"),
        ("VptDeepS16", "VPT-deep (50)"),
        ("LoraS16", "LoRA r 8 on q, v"),
        ("DoraS16", "DoRA r 8 on q, v"),
        ("AdapterS16", "Pfeiffer adapter"),
        ("AdaptFormerS16", "AdaptFormer"),
        ("AdapterPlusS16", "Adapter+ (bottleneck 8)"),
        ("ConvpassS16", "Convpass (bottleneck 8)"),
        ("KvPromptsS16", "E2VPT key-value prompts (5)"),
        ("E2vptS16", "E2VPT: VPT-deep (5) + key-value (5)"),
        ("FullFineTuneS16", "full fine-tuning"),
    };

    public static int Run(string[] args)
    {
        int rounds = args.Length > 0 && int.TryParse(args[0], out int r) ? r : 3;
        // Further arguments name the variants to measure (the linear probe, the ratios' base, always comes first).
        var only = args.Skip(1).ToHashSet(StringComparer.Ordinal);
        var unknown = only.Where(v => Methods.All(m => m.Variant != v)).ToList();
        if (unknown.Count > 0)
        {
            Console.Error.WriteLine($"methods: unknown variant(s) {string.Join(", ", unknown)}; " +
                                    $"the bench knows {string.Join(", ", Methods.Select(m => m.Variant))}");
            return 2;
        }
        var methods = only.Count == 0 ? Methods : Methods.Where((m, i) => i == 0 || only.Contains(m.Variant)).ToArray();
        Console.WriteLine($"methods: ViT-S/16, batch {Batch}, 224×224, AdamW step (forward, backward, update), " +
                          $"median of {rounds} interleaved rounds after 1 warm-up step each");
        var cpu = Pvp.MixedPrecision.CpuFeatures.Current;
        Console.WriteLine($"cpu: {cpu.Model}, flags {cpu.ReportedFlagsPresent}");
        manual_seed(0);
        using var x = randn(Batch, 3, 224, 224);
        using var y = randint(0, 100, new long[] { Batch });
        var models = methods.Select(m => VariantRegistry.Create(m.Variant, numClasses: 100)).ToList();
        var optimizers = models.Select(m => m.CreateAdamW(1e-3, 1e-4)).ToList();
        var steps = models.Select((model, i) => (Action)(() =>
        {
            using var scope = NewDisposeScope();
            model.train();
            optimizers[i].ZeroGrad();
            nn.functional.cross_entropy(model.call(x), y).backward();
            optimizers[i].Step();
        })).ToArray();
        var seconds = Measure.Interleaved(1, rounds, steps);
        var trainable = models.Select(m => m.TrainableParameterCount).ToArray();
        foreach (var optimizer in optimizers) optimizer.Dispose();
        foreach (var model in models) model.Dispose();

        double linear = seconds[0];
        Console.WriteLine();
        Console.WriteLine("| method | variant | trainable | step (s) | images/s | × linear probe's step | peak RSS |");
        Console.WriteLine("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
        for (int i = 0; i < methods.Length; i++)
        {
            string peak = PeakOf(methods[i].Variant);
            Console.WriteLine($"| {methods[i].Method} | `{methods[i].Variant}` | {trainable[i]:N0} | {seconds[i]:F2} | " +
                              $"{Batch / seconds[i]:F1} | {seconds[i] / linear:F2} | {peak} |");
        }
        return 0;
    }

    /// <summary>Two steps of <paramref name="variant"/> in a child process; its peak RSS.</summary>
    private static string PeakOf(string variant) =>
        Measure.RunChild($"methods-child {variant}", "peak ", out int exit) ?? $"(child failed, exit {exit})";

    /// <summary>The child: builds the variant, takes two steps, prints its peak RSS.</summary>
    public static int Child(string variant)
    {
        manual_seed(0);
        using var model = VariantRegistry.Create(variant, numClasses: 100);
        model.train();
        using var optimizer = model.CreateAdamW(1e-3, 1e-4);
        using var x = randn(Batch, 3, 224, 224);
        using var y = randint(0, 100, new long[] { Batch });
        for (int i = 0; i < 2; i++)
        {
            using var scope = NewDisposeScope();
            optimizer.ZeroGrad();
            nn.functional.cross_entropy(model.call(x), y).backward();
            optimizer.Step();
        }
        Console.WriteLine($"peak {Measure.Mib(Measure.PeakResidentBytes())}");
        return 0;
    }
}
