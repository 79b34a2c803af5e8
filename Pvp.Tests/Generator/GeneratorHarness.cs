using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Pvp.Testing;

namespace Pvp.Tests.Generator;

/// <summary>The tests' shorthand over <see cref="GeneratorRunner"/>, the helper users get for their own snapshots.</summary>
internal static class GeneratorHarness
{
    public static CSharpCompilation Compile(params string[] sources) =>
        GeneratorRunner.Compile(sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, new CSharpParseOptions(LanguageVersion.Latest), path: $"Source{i}.cs")),
            new[] { typeof(GeneratorHarness).Assembly });

    public static GeneratorDriver CreateDriver() => GeneratorRunner.CreateDriver();

    /// <summary>Runs the generator once; the test assembly is referenced so sources can attach its modules.</summary>
    public static (GeneratorDriverRunResult Result, Compilation Output) Run(params string[] sources)
    {
        var run = GeneratorRunner.Run(Compile(sources));
        return (run.Result, run.Output);
    }

    public static IReadOnlyList<Diagnostic> AllErrors(GeneratorDriverRunResult result, Compilation output) =>
        result.Diagnostics.Concat(output.GetDiagnostics()).Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
}
