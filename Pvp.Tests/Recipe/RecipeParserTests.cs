using Pvp.Recipes;
using Pvp.MixedPrecision;

namespace Pvp.Tests.Recipe;

/// <summary>Recipe files: the shipped ones parse, and every mistake is named with its file, line and key.</summary>
public sealed class RecipeParserTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("pvp-recipe-").FullName;

    static RecipeParserTests() => VariantRegistry.Load(typeof(Pvp.Models.VptDeepMicro).Assembly);

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private const string Valid = """
        variant: VptDeepMicro
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

    private PvpRecipe Parse(string yaml) => RecipeParser.Parse(yaml, Path.Combine(folder, "recipe.yaml"));

    private string Error(string yaml) => Assert.Throws<RecipeException>(() => Parse(yaml)).Message;

    private static string RepoFile(string relative) => Numerics.TestTensors.RepoPath(relative);

    [Fact]
    public void ShippedRecipesParse()
    {
        var builtin = RecipeParser.Load(RepoFile("recipes/builtin.yaml"));
        Assert.Equal("VptDeepMicro", builtin.Variant);
        Assert.Null(builtin.BackboneWeights);
        Assert.Equal(new[] { 1, 2, 4, 8, 16 }, builtin.Stage2.Shots);
        Assert.Equal(3, builtin.Stage2.Seeds.Count);

        var paper = RecipeParser.Load(RepoFile("recipes/paper-vitb16-fgvc.yaml"));
        Assert.Equal("VptDeepB16", paper.Variant);
        Assert.EndsWith("imagenet21k_ViT-B_16.npz", paper.BackboneWeights);
        Assert.Equal(new[] { "cub", "nabirds", "flowers", "dogs", "cars" }, paper.Stage2.Tasks.Select(t => t.Name));
        Assert.IsType<FgvcSpec>(paper.Stage2.Tasks[0].Data);
        Assert.Equal(200, ((FgvcSpec)paper.Stage2.Tasks[0].Data).Classes);
        Assert.Equal("vpt", paper.Preprocess.Preset);
        Assert.Equal("images", ((FgvcSpec)paper.Stage2.Tasks[0].Data).Images);
        Assert.Equal("Images", ((FgvcSpec)paper.Stage2.Tasks[3].Data).Images);
        Assert.Equal(Pvp.Training.OptimizerKind.Sgd, paper.Stage2.Settings.Optimizer);
        Assert.True(paper.Stage2.Settings.ScaleLrByBatch);
        Assert.Equal(new[] { 0.01, 0.001, 0.0001, 0.0 }, paper.Stage2.Search!.WeightDecays);
        Assert.Null(builtin.Stage2.Settings.Augment); // the built-in images are not augmented unless a stage says so

        var noah = RecipeParser.Load(RepoFile("recipes/noah-fewshot-fgvc.yaml"));
        Assert.True(noah.Stage2.Tasks.All(t => t.Data.HasFixedSplits));
        Assert.EndsWith("train_meta.list.num_shot_4.seed_2", ((ListFileSpec)noah.Stage2.Tasks[0].Data).TrainListFor(4, 2));

        var vtab = RecipeParser.Load(RepoFile("recipes/vtab1k-vitb16.yaml"));
        Assert.Equal(19, vtab.Stage2.Tasks.Count);
        Assert.All(vtab.Stage2.Tasks, t => Assert.IsType<VtabSpec>(t.Data));
        Assert.Equal(new[] { ("natural", 7), ("specialized", 4), ("structured", 8) },
            vtab.Stage2.Tasks.GroupBy(t => t.Group!).Select(g => (g.Key, g.Count())));
        Assert.Equal(new[] { 0.005, 0.001 }, vtab.Stage2.Search!.LearningRates);
        Assert.False(vtab.Stage2.Settings.Augment);
        Assert.Equal(0, vtab.Stage2.Settings.LabelSmoothing);
        Assert.Equal(397, ((VtabSpec)vtab.Stage2.Tasks.Single(t => t.Name == "sun397").Data).Classes);
    }

    [Fact]
    public void DefaultsAndRelativePathsResolve()
    {
        var recipe = Parse(Valid);
        Assert.Equal(Path.Combine(folder, "run"), recipe.Output);
        Assert.Equal("auto", recipe.Device);
        Assert.Equal(8, recipe.Stage1.Batch);
        Assert.Equal(16, recipe.Stage2.Settings.Batch);
        Assert.True(recipe.Stage2.Baseline);
        var target = Assert.IsType<BuiltinDatasetSpec>(recipe.Stage2.Tasks[0].Data);
        Assert.Equal(6, target.SourceClasses); // the target classes come after the source's, so they never overlap
        Assert.Equal(BackbonePrecision.Auto, recipe.Precision);
        Assert.Empty(recipe.Assemblies);
    }

    [Fact]
    public void DropPathIsAStageKeyThatReachesTheTrainer()
    {
        var recipe = Parse(Valid.Replace("  epochs: 1", "  epochs: 1\n  drop_path: 0.1"));
        Assert.Equal(0.1, recipe.Stage2.Settings.DropPath);
        Assert.Equal(0, recipe.Stage1.DropPath);
        Assert.Equal(0.1, recipe.Stage2.Settings.ToOptions("cpu", 0, null, Pvp.Training.Data.Preprocessing.Pvp, false).DropPathRate);
        var error = Assert.Throws<RecipeException>(() => Parse(Valid.Replace("  epochs: 1", "  epochs: 1\n  drop_path: 1")));
        Assert.Contains("stage2.drop_path", error.Message);
    }

    [Fact]
    public void MaxImagePixelsReachesEveryDatasetTheRecipeBuilds()
    {
        var recipe = Parse(Valid.Replace("output: run", "output: run\nmax_image_pixels: 1234"));
        Assert.Equal(1234, recipe.MaxImagePixels);
        Assert.Equal(1234, recipe.Source.MaxImagePixels);
        Assert.All(recipe.Stage2.Tasks, t => Assert.Equal(1234, t.Data.MaxImagePixels));
        Assert.Equal(Pvp.Training.Data.ImageCodec.DefaultMaxPixels, Parse(Valid).Stage2.Tasks[0].Data.MaxImagePixels);
    }

    [Theory]
    [InlineData("auto", BackbonePrecision.Auto)]
    [InlineData("float32", BackbonePrecision.Float32)]
    [InlineData("bf16", BackbonePrecision.Bf16)]
    public void PrecisionIsARecipeKey(string value, BackbonePrecision expected)
    {
        var recipe = Parse(Valid.Replace("variant: VptDeepMicro", $"variant: VptDeepBf16Micro\nprecision: {value}"));
        Assert.Equal(expected, recipe.Precision);
    }

    [Theory]
    [InlineData("stage1: { epochs: 1, lr: 0.01, batch: 8 }", "stage1: { epochs: 1, lerning_rate: 0.01 }", "recipe.yaml:5:22: unknown key 'lerning_rate' in stage1; expected one of: augment, batch, checkpoint_every_steps, clip_grad, decay, drop_path, epochs")]
    [InlineData("stage1: { epochs: 1, lr: 0.01, batch: 8 }", "stage1: { epochs: 1, lr: fast }", "recipe.yaml:5:26: stage1.lr: expected a number, got 'fast'.")]
    [InlineData("stage1: { epochs: 1, lr: 0.01, batch: 8 }", "stage1: { epochs: 0 }", "recipe.yaml:5:19: stage1.epochs: 0 is out of range; expected between 1 and 100000.")]
    [InlineData("  shots: [1, 2]", "  shots: [1, zero]", "recipe.yaml:10:14: stage2.shots: expected whole numbers from 1 to 100000, got 'zero'.")]
    [InlineData("variant: VptDeepMicro", "variant: VptDepMicro", "recipe.yaml:1:10: variant: No PETuning variant named 'VptDepMicro' is registered. Did you mean: VptDeepMicro")]
    [InlineData("output: run", "output: run\ndevise: cpu", "recipe.yaml:3:1: unknown key 'devise'; expected one of:")]
    [InlineData("output: run", "output: run\ndevise: cpu", "Did you mean 'device'?")]
    [InlineData("stage1: { epochs: 1, lr: 0.01, batch: 8 }", "stage_1: { epochs: 1 }", "missing section 'stage1' (is 'stage_1' at 5:1 meant to be it?)")]
    [InlineData("output: run", "output: run\ndevice: tpu", "recipe.yaml:3:9: device: expected auto, cpu, cuda or cuda:N, got 'tpu'.")]
    [InlineData("output: run", "output: run\n\tseed: 1", "recipe.yaml:3:1: a tab in the indentation; YAML indents with spaces only.")]
    [InlineData("stage1: { epochs: 1, lr: 0.01, batch: 8 }", "stage1: { epochs: 1, lr: 0.01, batch: 2147483647 }", "recipe.yaml:5:39: stage1.batch: 2147483647 is out of range; expected between 1 and 65536.")]
    [InlineData("stage1: { epochs: 1, lr: 0.01, batch: 8 }", "stage1: { epochs: 1, lr: 1e308, batch: 8 }", "stage1.lr: 1E+308 is out of range")]
    [InlineData("  shots: [1, 2]", "  shots: [1, 2000000]", "recipe.yaml:10:14: stage2.shots: expected whole numbers from 1 to 100000, got '2000000'.")]
    [InlineData("    - name: shapes", "    - name: ..", "stage2.tasks[0].name '..' is used as a folder name")]
    [InlineData("  seeds: [0]", "  seeds: [0, 0]", "recipe.yaml:11:14: stage2.seeds: 0 appears twice; each value names one run.")]
    [InlineData("      builtin: { classes: 3, train_per_class: 4, test_per_class: 3 }", "      builtin: { classes: 300, train_per_class: 4, test_per_class: 3 }", "stage2.tasks[0].builtin.classes: 300 is out of range; expected between 2 and 234.")]
    [InlineData("    - name: shapes", "    - name: ../../elsewhere", "stage2.tasks[0].name '../../elsewhere' is used as a folder name")]
    [InlineData("    - name: shapes", "    - name: .hidden", "stage2.tasks[0].name '.hidden' is used as a folder name")]
    [InlineData("stage1: { epochs: 1, lr: 0.01, batch: 8 }", "stage1: {", "recipe.yaml:")]
    [InlineData("output: run", "output: run\nprecision: fp16", "recipe.yaml:3:12: precision: expected auto, float32 or bf16, got 'fp16'.")]
    [InlineData("output: run", "output: run\nprecision: bf16", "recipe.yaml:3:12: precision: bf16, but VptDeepMicro allows float32 only; declare it with Precision = PrecisionPlan.BackboneBf16")]
    [InlineData("output: run", "output: run\nassemblies: [missing/MyVariants.dll]", "recipe.yaml:3:14: assemblies: '")]
    [InlineData("      builtin: { classes: 3, train_per_class: 4, test_per_class: 3 }", "      builtin: { classes: 3 }\n      list: { root: a, train: b, test: c }", "give exactly one of builtin, imagefolder, list, fgvc or vtab (found builtin, list)")]
    [InlineData("  seeds: [0]", "  seeds: 0", "recipe.yaml:11:10: stage2.seeds: expected a non-empty list of whole numbers")]
    [InlineData("stage1: { epochs: 1, lr: 0.01, batch: 8 }", "", "missing section 'stage1'")]
    [InlineData("    - name: shapes", "    - name: my shapes", "stage2.tasks[0].name 'my shapes' is used as a folder name")]
    [InlineData("stage1: { epochs: 1, lr: 0.01, batch: 8 }", "stage1: { epochs: 1, lr: [0.01 }", "recipe.yaml:5:")]
    public void MistakesNameFileLineAndKey(string replace, string with, string expected)
    {
        Assert.Contains(replace, Valid);
        string message = Error(Valid.Replace(replace, with));
        Assert.Contains(expected, message);
    }

    [Fact]
    public void ReadingNamesTheAssembliesAndTheCallerLoadsThem()
    {
        // A project file that no build could make anything of: reading the recipe must not try.
        Directory.CreateDirectory(Path.Combine(folder, "MyPets"));
        File.WriteAllText(Path.Combine(folder, "MyPets", "MyPets.csproj"), "not a project");
        var recipe = Parse(Valid.Replace("output: run", "output: run\nassemblies: [MyPets]"));
        Assert.Equal(new[] { Path.Combine(folder, "MyPets", "MyPets.csproj") }, recipe.Assemblies);

        File.WriteAllText(Path.Combine(folder, "NotAnAssembly.dll"), "text");
        var notAssembly = Parse(Valid.Replace("output: run", "output: run\nassemblies: [NotAnAssembly.dll]"));
        var error = Assert.Throws<RecipeException>(() => VariantSources.Load(notAssembly));
        Assert.StartsWith($"{Path.Combine(folder, "recipe.yaml")}:3:14: assemblies: '", error.Message);
        Assert.Contains("is not a .NET assembly", error.Message);
    }

    [Fact]
    public void AVariantTheAssembliesDeclareIsCheckedOnceTheyAreLoaded()
    {
        // The catalog's assembly stands in for the user's: it loads, and does not declare the variant.
        string catalog = typeof(Pvp.Models.VptDeepMicro).Assembly.Location;
        var recipe = Parse(Valid.Replace("variant: VptDeepMicro", $"variant: VptDepMicro\nassemblies: ['{catalog}']"));
        Assert.Equal("VptDepMicro", recipe.Variant);
        var error = Assert.Throws<RecipeException>(() => VariantSources.Load(recipe));
        Assert.StartsWith($"{Path.Combine(folder, "recipe.yaml")}:1:10: variant: No PETuning variant named 'VptDepMicro'",
            error.Message);
        Assert.Contains("name its assembly or project under 'assemblies:'", error.Message);
        var known = Parse(Valid.Replace("output: run", $"output: run\nassemblies: ['{catalog}']"));
        Assert.Equal(new[] { catalog }, VariantSources.Load(known));
    }

    [Fact]
    public void HostileShapesAreErrorsNotCrashes()
    {
        // A tagged key is still the key (it crashed the lookup by node once).
        Assert.Equal("VptDeepMicro", Parse(Valid.Replace("variant: VptDeepMicro", "!!str variant: VptDeepMicro")).Variant);
        // 50,000 nested brackets overflowed the stack of a recursive parser; the event walk stops at 32 levels.
        Assert.Contains("recipe.yaml:1:", Error("variant: " + new string('[', 50_000)));
        Assert.Contains("nested more than 32 levels deep", Error("variant: " + new string('[', 50_000)));
        Assert.Contains("nested more than 32 levels deep", Error(Valid + "\nextra: " + string.Concat(Enumerable.Repeat("{a: ", 40)) + "1" + new string('}', 40)));
        Assert.Contains("a recipe is at most 1,048,576", Error(Valid + "# " + new string('x', 1 << 20)));
    }

    [Fact]
    public void CellIdsAreDeterministicAndParse()
    {
        var recipe = Parse(Valid);
        var cells = new PvpRunner(recipe).Cells();
        Assert.Equal(new[] { "shapes/1shot-seed0-pvp", "shapes/1shot-seed0-random", "shapes/2shot-seed0-pvp", "shapes/2shot-seed0-random" }, cells.Select(c => c.Id));
        Assert.Equal(cells[3], GridCell.Parse("shapes/2shot-seed0-random"));
        Assert.Contains("expected TASK/<k>shot-seed<s>-pvp", Assert.Throws<FormatException>(() => GridCell.Parse("shapes/two")).Message);
    }
}
