using Pvp.Recipes;

namespace Pvp.Tests.Recipe;

/// <summary>
/// <c>variants: [A, B, …]</c>: several methods side by side on one backbone; <c>variant:</c> stays the one-variant
/// form with its ids and layout. Good and hostile input.
/// </summary>
public sealed class VariantsParserTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("pvp-variants-").FullName;

    static VariantsParserTests() => VariantRegistry.Load(typeof(Pvp.Models.VptDeepMicro).Assembly);

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private const string Body = """
        output: run
        source:
          builtin: { classes: 6, train_per_class: 5, test_per_class: 3 }
        stage1: { epochs: 1, lr: 0.01, batch: 8 }
        stage2:
          tasks:
            - name: shapes
              builtin: { classes: 3, train_per_class: 4, test_per_class: 3 }
          shots: [1, 2]
          seeds: [0]
          epochs: 1
        """;

    private PvpRecipe Parse(string head) => RecipeParser.Parse(head + "\n" + Body, Path.Combine(folder, "recipe.yaml"));

    private string Error(string head) => Assert.Throws<RecipeException>(() => Parse(head)).Message;

    [Fact]
    public void AVariantsListNamesEveryVariantInItsOrder()
    {
        var recipe = Parse("variants: [VptDeepMicro, LoraMicro, Ia3Micro]");
        Assert.Equal(new[] { "VptDeepMicro", "LoraMicro", "Ia3Micro" }, recipe.Variants);
        Assert.Equal("VptDeepMicro", recipe.Variant);
        Assert.True(recipe.NamesVariants);
        var block = Parse("variants:\n  - LoraMicro\n  - DoraMicro");
        Assert.Equal(new[] { "LoraMicro", "DoraMicro" }, block.Variants);
    }

    [Fact]
    public void TheShippedMethodsRecipeParses()
    {
        var recipe = RecipeParser.Load(Numerics.TestTensors.RepoPath("recipes/builtin-methods.yaml"));
        Assert.True(recipe.NamesVariants);
        Assert.Equal(new[] { "VptDeepMicro", "LoraMicro", "DoraMicro", "AdapterPlusMicro", "Ia3Micro" }, recipe.Variants);
        Assert.Equal(5 * 5 * 3 * 2, new PvpRunner(recipe, new Quiet()).Cells().Count);
    }

    [Fact]
    public void TheOneVariantFormIsUnchanged()
    {
        var recipe = Parse("variant: VptDeepMicro");
        Assert.Equal(new[] { "VptDeepMicro" }, recipe.Variants);
        Assert.False(recipe.NamesVariants);
        var runner = new PvpRunner(recipe, new Quiet());
        Assert.Equal("shapes/1shot-seed0-pvp", runner.Cells()[0].Id);
        Assert.Null(runner.Cells()[0].Variant);
        Assert.Equal(Path.Combine(folder, "run", "stage2", "shapes", "1shot-seed0-pvp"), runner.CellFolder(runner.Cells()[0]));
        Assert.Equal(Path.Combine(folder, "run", "stage1", "petuning.safetensors"), runner.PetuningPath);
    }

    [Fact]
    public void AListOfOneStillNamesItsVariantSoThatAddingOneMovesNothing()
    {
        var one = new PvpRunner(Parse("variants: [LoraMicro]"), new Quiet());
        var two = new PvpRunner(Parse("variants: [LoraMicro, DoraMicro]"), new Quiet());
        Assert.Equal("LoraMicro/shapes/1shot-seed0-pvp", one.Cells()[0].Id);
        Assert.Equal(one.Cells(), two.Cells().Take(one.Cells().Count));
        Assert.Equal(one.CellFolder(one.Cells()[0]), two.CellFolder(two.Cells()[0]));
        Assert.Equal(Path.Combine(folder, "run", "stage1", "LoraMicro", "petuning.safetensors"), one.PetuningPath);
        Assert.Equal(Path.Combine(folder, "run", "stage1", "DoraMicro", "petuning.safetensors"), two.PetuningPathOf("DoraMicro"));
    }

    [Fact]
    public void CellsCoverEveryVariantAndTheirIdsNameIt()
    {
        var runner = new PvpRunner(Parse("variants: [VptDeepMicro, LoraMicro]"), new Quiet());
        var cells = runner.Cells();
        Assert.Equal(2 * 2 * 2, cells.Count); // variants × shots × init
        Assert.Equal(new[] { "VptDeepMicro", "LoraMicro" }, cells.Select(c => c.Variant).Distinct());
        Assert.Equal("LoraMicro/shapes/2shot-seed0-random", cells[^1].Id);
        Assert.Equal(Path.Combine(folder, "run", "stage2", "LoraMicro", "shapes", "2shot-seed0-random"), runner.CellFolder(cells[^1]));
        foreach (var cell in cells) Assert.Equal(cell, GridCell.Parse(cell.Id));
        // Every id differs, and so does every folder: the variants' cells never share one.
        Assert.Equal(cells.Count, cells.Select(runner.CellFolder).Distinct().Count());
        // An id without the variant is not one of this recipe's cells.
        var bare = GridCell.Parse("shapes/1shot-seed0-pvp");
        Assert.Contains("start the id with one, e.g. VptDeepMicro/shapes/1shot-seed0-pvp",
            Assert.Throws<ArgumentException>(() => runner.CellFolder(bare)).Message);
        Assert.Contains("its variants are VptDeepMicro, LoraMicro",
            Assert.Throws<ArgumentException>(() => runner.CellFolder(bare with { Variant = "DoraMicro" })).Message);
        var single = new PvpRunner(Parse("variant: VptDeepMicro"), new Quiet());
        Assert.Contains("use shapes/1shot-seed0-pvp",
            Assert.Throws<ArgumentException>(() => single.CellFolder(bare with { Variant = "VptDeepMicro" })).Message);
    }

    [Fact]
    public void CellIdsWithAVariantParse()
    {
        var cell = GridCell.Parse("LoraMicro/shapes/4shot-seed1-pvp");
        Assert.Equal(("LoraMicro", "shapes", 4, 1, true), (cell.Variant, cell.Task, cell.Shots, cell.Seed, cell.PvpInit));
        var search = GridCell.Parse("Ia3Micro/cifar/all-seed0-random-search/lr0.5-wd0.001-ep3");
        Assert.Equal(("Ia3Micro", "cifar", 0), (search.Variant, search.Task, search.Shots));
        Assert.Equal(3, search.Search!.Epochs);
        Assert.Equal("Ia3Micro/cifar/all-seed0-random-search/lr0.5-wd0.001-ep3", search.Id);
        // A one-variant id is read as before: a task name alone before the cell.
        var plain = GridCell.Parse("shapes/4shot-seed1-pvp-search/lr0.5-wd0.001");
        Assert.Null(plain.Variant);
        Assert.Equal("shapes", plain.Task);
        Assert.Contains("starts it with VARIANT/", Assert.Throws<FormatException>(() => GridCell.Parse("a/b/c/4shot-seed0-pvp")).Message);
        Assert.Throws<FormatException>(() => GridCell.Parse("../shapes/4shot-seed0-pvp"));
    }

    [Fact]
    public void ARunOfSeveralVariantsIsNamedAfterItsFileByDefault()
    {
        var recipe = RecipeParser.Parse("variants: [LoraMicro, DoraMicro]\n" + Body.Replace("output: run\n", ""),
            Path.Combine(folder, "methods.yaml"));
        Assert.Equal(Path.Combine(folder, "runs", "methods"), recipe.Output);
    }

    [Fact]
    public void RecipesForOneVariantOfSeveralKeepTheLayout()
    {
        var recipe = Parse("variants: [LoraMicro, DoraMicro]");
        var dora = recipe.ForVariant("DoraMicro");
        Assert.Equal(("DoraMicro", "DoraMicro", true), (dora.Variant, Assert.Single(dora.Variants), dora.NamesVariants));
        Assert.Throws<ArgumentException>(() => recipe.ForVariant("Ia3Micro"));
    }

    [Theory]
    [InlineData("variant: VptDeepMicro\nvariants: [LoraMicro]", "recipe.yaml:2:11: variant: and variants: are both given;")]
    [InlineData("variant: VptDeepMicro\nvariants: [LoraMicro]", "keep one of the two keys")]
    [InlineData("variants: [LoraMicro, DoraMicro, LoraMicro]", "recipe.yaml:1:34: variants[2]: LoraMicro is listed twice (first at 1:12)")]
    [InlineData("variants: []", "recipe.yaml:1:11: variants: the list is empty")]
    [InlineData("variants: LoraMicro", "recipe.yaml:1:11: variants: expected a list of variant names")]
    [InlineData("variants: { a: LoraMicro }", "variants: expected a list of variant names")]
    [InlineData("variants: [LoraMicro, [DoraMicro]]", "variants: expected a string, got a list.")]
    [InlineData("variants: [LoraMicro, LoraMicr0]", "recipe.yaml:1:23: variants: No PETuning variant named 'LoraMicr0' is registered. Did you mean: LoraMicro")]
    [InlineData("variants: [LoraMicro, ../LoraMicro]", "variants[1]: '../LoraMicro' is not a variant name")]
    [InlineData("variants: [LoraMicro, 'Lora Micro']", "variants[1]: 'Lora Micro' is not a variant name")]
    [InlineData("variants: [LoraMicro, VptDeepTi16]", "recipe.yaml:1:23: variants: VptDeepTi16 has backbone ViT D=192")]
    [InlineData("variants: [LoraMicro, VptDeepTi16]", "but LoraMicro has ViT D=64")]
    [InlineData("variants: [LoraMicro, VptDeepTi16]", "all must declare the same one")]
    [InlineData("variants: [VptDeepBf16Micro, LoraMicro]\nprecision: bf16", "precision: bf16, but LoraMicro allows float32 only")]
    [InlineData("variants: [LoraMicro]\nvariantz: [DoraMicro]", "unknown key 'variantz'; expected one of:")]
    [InlineData("seed: 1", "missing key 'variant'")]
    public void HostileVariantListsAreNamedWithTheFix(string head, string expected)
    {
        Assert.Contains(expected, Error(head));
    }
}
