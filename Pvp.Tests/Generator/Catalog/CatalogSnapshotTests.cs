using ApprovalTests;
using ApprovalTests.Namers;
using ApprovalTests.Reporters;
using Pvp.Testing;

namespace Pvp.Tests.Generator.Catalog;

/// <summary>
/// The code generated for every variant of the Pvp.Models catalog, pinned file by file
/// (<c>CatalogSnapshotTests.Variant.ForScenario.{full name}.approved.cs</c> beside this file).
/// </summary>
[UseReporter(typeof(QuietReporter))]
public class CatalogSnapshotTests
{
    private static readonly Lazy<GeneratorRun> Catalog = new(() =>
        GeneratorRunner.RunFiles(Directory.GetFiles(ModelsFolder(), "*.cs", SearchOption.AllDirectories)
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !p.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)).ToArray()));

    public static TheoryData<string> Variants()
    {
        var data = new TheoryData<string>();
        foreach (var type in typeof(Pvp.Models.VptDeepB16).Assembly.GetTypes()
                     .Where(t => t.IsSubclassOf(typeof(PetModel))).OrderBy(t => t.Name, StringComparer.Ordinal))
            data.Add(type.FullName!);
        return data;
    }

    [Fact]
    public void CatalogGeneratesCleanly()
    {
        Assert.Empty(Catalog.Value.Diagnostics);
        Assert.Empty(Catalog.Value.CompilationErrors);
        Assert.Equal(Variants().Count, Catalog.Value.Files.Count);
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Variant(string name)
    {
        using (ApprovalResults.ForScenario(name))
            Approvals.VerifyWithExtension(Catalog.Value.Files[$"{name}.g.cs"], ".cs");
    }

    private static string ModelsFolder() => Numerics.TestTensors.RepoPath("Pvp.Models");
}
