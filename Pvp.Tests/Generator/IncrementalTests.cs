using System.Collections;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Pvp.Generators;

namespace Pvp.Tests.Generator;

/// <summary>The pipeline caches: unrelated edits redo no work, and its models hold no compiler objects.</summary>
public class IncrementalTests
{
    private const string Declaration = """
        using Pvp;
        namespace Demo;
        [VisionTransformer(ImageSize = 32, PatchSize = 4, EmbedDim = 64, Depth = 2, Heads = 4)]
        public partial class TinyVit;
        """;

    private const string Unrelated = "namespace Demo; public static class Helper { public static int One() => 1; }";

    private static readonly string[] TrackedSteps = { TrackingNames.Parse, TrackingNames.Validate, TrackingNames.Emit };

    [Fact]
    public void UnrelatedEditLeavesEveryStepCached()
    {
        var compilation = GeneratorHarness.Compile(Declaration, Unrelated);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        var first = driver.GetRunResult().Results.Single();
        Assert.All(TrackedSteps, step => Assert.True(first.TrackedSteps.ContainsKey(step), $"step {step} was not tracked"));

        // Edit the unrelated file and add a new one: nothing about TinyVit changed.
        var oldTree = compilation.SyntaxTrees.Last();
        var edited = compilation
            .ReplaceSyntaxTree(oldTree, CSharpSyntaxTree.ParseText(Unrelated.Replace("=> 1", "=> 2"), (CSharpParseOptions)oldTree.Options, oldTree.FilePath))
            .AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace Demo; class Another {}", (CSharpParseOptions)oldTree.Options, "Another.cs"));
        var second = driver.RunGenerators(edited).GetRunResult().Results.Single();

        foreach (var step in TrackedSteps)
        {
            var reasons = second.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
            Assert.NotEmpty(reasons);
            Assert.All(reasons, reason => Assert.True(
                reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
                $"step {step} re-ran with reason {reason}"));
        }
    }

    [Fact]
    public void EditingTheDeclarationReRunsTheSteps()
    {
        var compilation = GeneratorHarness.Compile(Declaration);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        var tree = compilation.SyntaxTrees.Single();
        var edited = compilation.ReplaceSyntaxTree(tree,
            CSharpSyntaxTree.ParseText(Declaration.Replace("Depth = 2", "Depth = 3"), (CSharpParseOptions)tree.Options, tree.FilePath));
        var second = driver.RunGenerators(edited).GetRunResult().Results.Single();
        Assert.Contains(second.TrackedSteps[TrackingNames.Emit].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains("blocks[2].call(h);", second.GeneratedSources.Single().SourceText.ToString());
    }

    private static (GeneratorDriver Driver, CSharpCompilation Compilation) First(string source)
    {
        var compilation = GeneratorHarness.Compile(source);
        return (GeneratorHarness.CreateDriver().RunGenerators(compilation), compilation);
    }

    /// <summary>Runs the generator again on <paramref name="edited"/> in place of the single source, returning each tracked step's output reasons.</summary>
    private static (GeneratorRunResult Run, Dictionary<string, List<IncrementalStepRunReason>> Reasons) Again(GeneratorDriver driver, CSharpCompilation compilation, string edited)
    {
        var tree = compilation.SyntaxTrees.Single();
        var next = compilation.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText(edited, (CSharpParseOptions)tree.Options, tree.FilePath));
        var run = driver.RunGenerators(next).GetRunResult().Results.Single();
        var reasons = TrackedSteps.ToDictionary(step => step,
            step => run.TrackedSteps.TryGetValue(step, out var steps) ? steps.SelectMany(s => s.Outputs).Select(o => o.Reason).ToList() : new List<IncrementalStepRunReason>());
        return (run, reasons);
    }

    private static bool Reused(IncrementalStepRunReason reason) => reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged;

    [Fact]
    public void AnEditInTheSameFileOutsideTheClassEmitsNothingAgain()
    {
        var (driver, compilation) = First(Declaration);
        var (_, reasons) = Again(driver, compilation, Declaration + "\ninternal static class Helpers { public static int Two() => 2; }\n");
        Assert.All(TrackedSteps, step => Assert.NotEmpty(reasons[step]));
        Assert.All(reasons[TrackingNames.Parse], reason => Assert.True(Reused(reason), $"parse: {reason}"));
        Assert.All(reasons[TrackingNames.Validate], reason => Assert.True(Reused(reason), $"validate: {reason}"));
        Assert.All(reasons[TrackingNames.Emit], reason => Assert.True(Reused(reason), $"emit: {reason}"));
    }

    [Fact]
    public void MovingTheClassDownReparsesButEmitsNothingAgain()
    {
        // Lines above the class move its location (kept for diagnostics), so parse and validate run again; the spec they
        // make is equal, so the emitted source is reused.
        var (driver, compilation) = First(Declaration);
        var (_, reasons) = Again(driver, compilation, Declaration.Replace("namespace Demo;", "namespace Demo;\n\n// a comment\n"));
        Assert.All(TrackedSteps, step => Assert.NotEmpty(reasons[step]));
        Assert.Contains(reasons[TrackingNames.Parse], reason => reason == IncrementalStepRunReason.Modified);
        Assert.All(reasons[TrackingNames.Validate], reason => Assert.True(reason is IncrementalStepRunReason.Modified or IncrementalStepRunReason.Unchanged, $"validate: {reason}"));
        Assert.All(reasons[TrackingNames.Emit], reason => Assert.True(Reused(reason), $"emit: {reason}"));
    }

    [Fact]
    public void AnAttributeArgumentChangeReRunsEveryStep()
    {
        string source = Declaration.Replace("public partial class TinyVit;", "[Lora(Rank = 4)] public partial class TinyVit;");
        var (driver, compilation) = First(source);
        var (run, reasons) = Again(driver, compilation, source.Replace("Rank = 4", "Rank = 8"));
        foreach (var step in TrackedSteps)
            Assert.Contains(reasons[step], reason => reason == IncrementalStepRunReason.Modified);
        Assert.Contains("rank: 8", run.GeneratedSources.Single().SourceText.ToString());
    }

    [Fact]
    public void ADiagnosticsOnlyChangeReportsTheNewErrorAndEmitsNothing()
    {
        // Invalid before and after (heads must divide the width): validate's output changes (another message), emit has none.
        string source = Declaration.Replace("Heads = 4", "Heads = 5");
        var (driver, compilation) = First(source);
        var (run, reasons) = Again(driver, compilation, source.Replace("Heads = 5", "Heads = 7"));
        Assert.Contains(reasons[TrackingNames.Validate], reason => reason == IncrementalStepRunReason.Modified);
        Assert.Contains(reasons[TrackingNames.Parse], reason => reason == IncrementalStepRunReason.Modified);
        Assert.DoesNotContain(reasons[TrackingNames.Emit], reason => reason != IncrementalStepRunReason.Removed);
        Assert.Empty(run.GeneratedSources);
        Assert.Contains(run.Diagnostics, d => d.GetMessage(System.Globalization.CultureInfo.InvariantCulture).Contains("7", StringComparison.Ordinal));
    }

    [Fact]
    public void PipelineModelsHoldNoCompilerObjects()
    {
        var compilation = GeneratorHarness.Compile(Declaration, "using Pvp; [VisionTransformer(EmbedDim = 64, Depth = 2, Heads = 5)] public partial class Bad;");
        var result = GeneratorHarness.CreateDriver().RunGenerators(compilation).GetRunResult().Results.Single();
        int inspected = 0;
        foreach (var step in TrackedSteps)
            foreach (var run in result.TrackedSteps[step])
                foreach (var (value, _) in run.Outputs)
                {
                    AssertNoCompilerObjects(value, $"{step} output", new HashSet<object>(ReferenceEqualityComparer.Instance));
                    inspected++;
                }
        Assert.True(inspected >= 5, $"only {inspected} step outputs were inspected");
    }

    private static readonly Type[] Forbidden = { typeof(ISymbol), typeof(Compilation), typeof(SyntaxNode), typeof(SyntaxTree), typeof(SemanticModel), typeof(Location) };

    private static void AssertNoCompilerObjects(object? value, string path, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum) return;
        var type = value.GetType();
        Assert.False(Forbidden.Any(f => f.IsAssignableFrom(type)), $"{path} holds a {type.FullName}");
        if (!type.IsValueType && !seen.Add(value)) return;
        // A DiagnosticDescriptor is a static, immutable catalog entry: allowed, nothing inside it to follow.
        if (value is DiagnosticDescriptor) return;
        if (value is IEnumerable items and not string)
        {
            int i = 0;
            foreach (var item in items) AssertNoCompilerObjects(item, $"{path}[{i++}]", seen);
        }
        for (var t = type; t is not null && t != typeof(object); t = t.BaseType)
            foreach (var field in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                AssertNoCompilerObjects(field.GetValue(value), $"{path}.{field.Name}", seen);
    }
}
