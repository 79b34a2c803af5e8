using ApprovalTests;
using ApprovalTests.Namers;
using ApprovalTests.Reporters;
using Pvp.Testing;

namespace Pvp.Tests.Generator.Catalog;

/// <summary>
/// The code generated for each distinct shape of the Pvp.Models catalog, pinned file by file
/// (<c>CatalogSnapshotTests.Variant.ForScenario.{full name}.approved.cs</c> beside this file): every Micro variant, and
/// the sized variants whose generated shape no Micro one has (a preset's name, bf16 at a preset). The other sizes differ
/// from their Micro twin only in numbers; <see cref="CatalogGeneratesCleanly"/> checks that all of them generate, and
/// the catalog and weights tests check their parameter counts and keys.
/// </summary>
[UseReporter(typeof(QuietReporter))]
public class CatalogSnapshotTests
{
    private static readonly Lazy<GeneratorRun> Catalog = new(() =>
        GeneratorRunner.RunFiles(Directory.GetFiles(ModelsFolder(), "*.cs", SearchOption.AllDirectories)
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !p.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)).ToArray()));

    /// <summary>Sized variants pinned besides the Micro ones: a preset's shape (ViT-B/16, LoRA on half the blocks) and bf16 at a preset.</summary>
    private static readonly string[] PinnedSized = { "VptDeepLoraB16", "VptDeepBf16S16", "VitBase16" };

    private static IEnumerable<Type> AllVariants() => typeof(Pvp.Models.VptDeepB16).Assembly.GetTypes()
        .Where(t => t.IsSubclassOf(typeof(PetModel))).OrderBy(t => t.Name, StringComparer.Ordinal);

    public static TheoryData<string> Variants()
    {
        var data = new TheoryData<string>();
        foreach (var type in AllVariants().Where(t => t.Name.EndsWith("Micro", StringComparison.Ordinal) || PinnedSized.Contains(t.Name)))
            data.Add(type.FullName!);
        return data;
    }

    [Fact]
    public void CatalogGeneratesCleanly()
    {
        Assert.Empty(Catalog.Value.Diagnostics);
        Assert.Empty(Catalog.Value.CompilationErrors);
        Assert.Equal(AllVariants().Count(), Catalog.Value.Files.Count);
        // Every catalog variant's family has a pinned Micro twin.
        var pinned = AllVariants().Where(t => t.Name.EndsWith("Micro", StringComparison.Ordinal) || PinnedSized.Contains(t.Name)).Select(t => t.Name).ToHashSet();
        foreach (var type in AllVariants())
        {
            string family = System.Text.RegularExpressions.Regex.Replace(type.Name, "(Ti16|S16|B16|L16|Tiny16|Small16|Base16|Large16|Micro)$", "");
            Assert.True(pinned.Contains(family + "Micro") || pinned.Contains(type.Name), $"{type.Name} has no pinned shape");
        }
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
