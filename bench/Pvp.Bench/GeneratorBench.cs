using System.Diagnostics;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Pvp.Testing;

namespace Pvp.Bench;

/// <summary>Generating and compiling a project of 200 declared variants, and the incremental re-run after an unrelated edit.</summary>
internal static class GeneratorBench
{
    private static readonly string[] Bodies =
    {
        "[Prompts(Length = 10, Deep = true)]",
        "[Lora(Rank = 8, Targets = LoraTargets.Query | LoraTargets.Value)]",
        "[Adapter(Bottleneck = 8, Placement = AdapterPlacement.Parallel)]",
        "[Prompts(Length = 5)]\n[Lora(Rank = 4, Blocks = \"6..\")]",
        "[TrainBias]",
        "[LinearProbe]",
        "[Adapter(Bottleneck = 16)]\n[TrainNorms]",
        "[Lora(Rank = 2, Targets = LoraTargets.MlpFc1 | LoraTargets.MlpFc2, Blocks = \"..4\")]",
    };

    public static int Run()
    {
        string[] presets = { "Tiny16", "Small16", "Base16" };
        var source = new StringBuilder("using Pvp;\nnamespace Bench;\n");
        for (int i = 0; i < 200; i++)
            source.Append($"[VisionTransformer(VitPreset.{presets[i % 3]})]\n{Bodies[i % Bodies.Length]}\npublic partial class Variant{i:D3};\n");
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var trees = new[]
        {
            CSharpSyntaxTree.ParseText(source.ToString(), parse, "Variants.cs"),
            CSharpSyntaxTree.ParseText("namespace Bench; public static class Other { public static int Value() => 1; }", parse, "Other.cs"),
        };
        var compilation = GeneratorRunner.Compile(trees);

        var clock = Stopwatch.StartNew();
        var driver = GeneratorRunner.CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
        double generate = clock.Elapsed.TotalSeconds;
        int files = driver.GetRunResult().GeneratedTrees.Length;
        long lines = driver.GetRunResult().GeneratedTrees.Sum(t => (long)t.GetText().Lines.Count);
        clock.Restart();
        using var assembly = new MemoryStream();
        var emit = output.Emit(assembly);
        double compile = clock.Elapsed.TotalSeconds;
        if (!emit.Success || diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error))
        {
            Console.WriteLine("generated project does not compile: " + string.Join("\n", emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(5)));
            return 1;
        }

        // An unrelated edit: the other file changes; every variant's step should be cached.
        var edited = compilation.ReplaceSyntaxTree(trees[1], CSharpSyntaxTree.ParseText("namespace Bench; public static class Other { public static int Value() => 2; }", parse, "Other.cs"));
        clock.Restart();
        var rerun = driver.RunGenerators(edited);
        double incremental = clock.Elapsed.TotalSeconds;
        var steps = rerun.GetRunResult().Results[0].TrackedSteps[Pvp.Generators.TrackingNames.Emit].SelectMany(s => s.Outputs).ToList();
        int cached = steps.Count(o => o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged);

        Console.WriteLine($"200 variants: generated {files} files ({lines:N0} lines) in {1000 * generate:F0} ms; compiled (Roslyn emit) in {1000 * compile:F0} ms");
        Console.WriteLine($"incremental re-run after an unrelated edit: {1000 * incremental:F1} ms, {cached} of {steps.Count} emit steps cached; ratio full/incremental {generate / incremental:F0}×");
        return 0;
    }
}
