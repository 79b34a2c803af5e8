using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Pvp.Generators;

namespace Pvp.Testing;

/// <summary>What one run of the Pvp generator produced.</summary>
/// <param name="Files">
/// Generated sources by file name (e.g. <c>MyApp.MyVariant.g.cs</c>), in the generator's order.
/// </param>
/// <param name="Diagnostics">The generator's diagnostics (PVP…).</param>
/// <param name="CompilationErrors">Errors of the compilation with the generated files added (should be none).</param>
/// <param name="Result">The raw driver result, including tracked incremental steps.</param>
/// <param name="Output">The compilation with the generated files.</param>
public sealed record GeneratorRun(
    IReadOnlyDictionary<string, string> Files,
    IReadOnlyList<Diagnostic> Diagnostics,
    IReadOnlyList<Diagnostic> CompilationErrors,
    GeneratorDriverRunResult Result,
    Compilation Output);

/// <summary>
/// Runs the Pvp generator in memory over C# sources, as the compiler does in a project that references Pvp.Runtime,
/// so that a project can snapshot-test the code generated for the variants it declares:
/// <code>
/// var run = GeneratorRunner.RunFiles("Variants/MyVariant.cs");
/// Assert.Empty(run.Diagnostics);
/// Approvals.VerifyWithExtension(run.Files["MyApp.MyVariant.g.cs"], ".cs");
/// </code>
/// </summary>
public static class GeneratorRunner
{
    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private static readonly Lazy<ImmutableArray<MetadataReference>> DefaultReferences = new(() =>
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator).ToList();
        paths.Add(typeof(VisionTransformerAttribute).Assembly.Location);
        paths.Add(typeof(TorchSharp.torch).Assembly.Location);
        return paths.Distinct().Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToImmutableArray();
    });

    /// <summary>Runs the generator over source texts.</summary>
    /// <param name="sources">C# sources (file names Source0.cs, Source1.cs, … in diagnostics).</param>
    public static GeneratorRun Run(params string[] sources) => Run(sources, Array.Empty<Assembly>());

    /// <summary>
    /// Runs the generator over source texts, with extra assemblies referenced (e.g. the one defining attached modules).
    /// </summary>
    public static GeneratorRun Run(IEnumerable<string> sources, IEnumerable<Assembly> references)
    {
        var trees = sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"Source{i}.cs"));
        return Run(Compile(trees, references));
    }

    /// <summary>Runs the generator over source files on disk (paths keep their names in diagnostics).</summary>
    public static GeneratorRun RunFiles(params string[] paths) => RunFiles(paths, Array.Empty<Assembly>());

    /// <summary>Runs the generator over source files on disk, with extra assemblies referenced.</summary>
    public static GeneratorRun RunFiles(IEnumerable<string> paths, IEnumerable<Assembly> references)
    {
        var trees = paths.Select(p => CSharpSyntaxTree.ParseText(File.ReadAllText(p), ParseOptions, path: p));
        return Run(Compile(trees, references));
    }

    /// <summary>
    /// A compilation of <paramref name="trees"/> against the framework, Pvp.Runtime, TorchSharp and
    /// <paramref name="references"/>.
    /// </summary>
    public static CSharpCompilation Compile(IEnumerable<SyntaxTree> trees, IEnumerable<Assembly>? references = null) =>
        CSharpCompilation.Create(
            "PvpUser",
            trees,
            DefaultReferences.Value.AddRange(
                (references ?? Array.Empty<Assembly>())
                    .Select(a => (MetadataReference)MetadataReference.CreateFromFile(a.Location))),
            new CSharpCompilationOptions(
                OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    /// <summary>A driver for the Pvp generator that tracks incremental steps (for caching tests).</summary>
    public static GeneratorDriver CreateDriver() =>
        CSharpGeneratorDriver.Create(
            new[] { new PvpGenerator().AsSourceGenerator() },
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(
                IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator once over a compilation.</summary>
    public static GeneratorRun Run(Compilation compilation)
    {
        var driver = CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        var result = driver.GetRunResult();
        var files = result.Results.SelectMany(r => r.GeneratedSources)
            .ToDictionary(s => s.HintName, s => s.SourceText.ToString(), StringComparer.Ordinal);
        return new GeneratorRun(
            files,
            result.Diagnostics,
            output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList(),
            result,
            output);
    }
}
