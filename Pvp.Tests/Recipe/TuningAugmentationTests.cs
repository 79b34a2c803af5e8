using Pvp.Training.Data;
using Pvp.Recipes;
using Pvp.Recipes.Runner;
using SkiaSharp;

namespace Pvp.Tests.Recipe;

/// <summary>
/// Stage 2's training augmentation: VPT's resize → random crop → flip (its <c>src/data/transforms.py</c>) unless the
/// recipe or a tuning reference's preset chose; pre-training's random-resized crop stays for stage 1; a task can turn
/// the flip off; the run's output and each <c>result.json</c> say what was used.
/// </summary>
public sealed class TuningAugmentationTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("pvp-tuneaug-").FullName;

    static TuningAugmentationTests() => VariantRegistry.Load(typeof(Pvp.Models.VptDeepMicro).Assembly);

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private void WriteLists(string name)
    {
        string root = Path.Combine(folder, name);
        var source = SyntheticShapes.Target(SyntheticSplit.Train, 6, 2, imageSize: 32, seed: 2, sourceClassCount: 6);
        var train = new List<string>();
        var test = new List<string>();
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < 6; i++)
            {
                string relative = $"c{c}/{i}.png";
                Directory.CreateDirectory(Path.Combine(root, $"c{c}"));
                using var image = source.Read(c * 6 + i);
                using var encoded = SKImage.FromBitmap(image).Encode(SKEncodedImageFormat.Png, 100);
                File.WriteAllBytes(Path.Combine(root, relative), encoded.ToArray());
                (i < 3 ? train : test).Add($"{relative} {c}");
            }
        File.WriteAllLines(Path.Combine(root, "train.list"), train);
        File.WriteAllLines(Path.Combine(root, "test.list"), test);
    }

    private string Yaml(string output, string preprocess = "") => $"""
        variant: VptDeepMicro
        workers: 2
        output: {output}
        backbone: {"{"} pretrain: {"{"} epochs: 1, batch: 16 {"}"} {"}"}
        source:
          builtin: {"{"} classes: 6, train_per_class: 6, test_per_class: 2 {"}"}
        {preprocess}
        stage1: {"{"} epochs: 1, lr: 0.01, batch: 16 {"}"}
        stage2:
          tasks:
            - name: photos
              list: {"{"} root: photos, train: photos/train.list, test: photos/test.list {"}"}
            - name: digits
              flip: false
              list: {"{"} root: digits, train: digits/train.list, test: digits/test.list {"}"}
          shots: [1]
          seeds: [0]
          baseline: false
          epochs: 1
        """;

    [Fact]
    public void StageTwoTunesWithVptsCropAndFlipStageOneKeepsPretrainingsAndATaskCanDropTheFlip()
    {
        WriteLists("photos");
        WriteLists("digits");
        var quiet = new Quiet();
        var runner = new PvpRunner(RecipeParser.Parse(Yaml("run-default"), Path.Combine(folder, "recipe.yaml")), quiet);
        runner.Run();
        string run = Path.Combine(folder, "run-default");
        // Pvp's own preset (a backbone Pvp pre-trained): random-resized crop for pre-training and stage 1.
        using var sidecar = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "stage1", "petuning.json")));
        Assert.EndsWith("train random-resized-crop + flip 0.5", sidecar.RootElement.GetProperty("preprocessing").GetString());
        Assert.StartsWith("pvp: ", sidecar.RootElement.GetProperty("preprocessing").GetString());
        var photos = CellResult.Load(Path.Combine(run, "stage2", "photos", "1shot-seed0-pvp", "result.json"));
        Assert.StartsWith("pvp + stage-2 tuning augmentation (VPT's resize → random crop → flip): ", photos.Preprocessing);
        Assert.EndsWith("train resize 32 → random crop 32 + flip 0.5", photos.Preprocessing);
        var digits = CellResult.Load(Path.Combine(run, "stage2", "digits", "1shot-seed0-pvp", "result.json"));
        Assert.Contains("+ flip off for task digits", digits.Preprocessing);
        Assert.EndsWith("train resize 32 → random crop 32 + flip 0", digits.Preprocessing);
        // The run's output says it before the cells' lines.
        int header = quiet.Lines.FindIndex(l => l.StartsWith("photos: stage-2 training: pvp + stage-2 tuning augmentation", StringComparison.Ordinal));
        Assert.True(header >= 0, string.Join("\n", quiet.Lines));
        Assert.Contains(quiet.Lines, l => l.StartsWith("digits: stage-2 training: ", StringComparison.Ordinal) && l.Contains("flip off for task digits", StringComparison.Ordinal));
        Assert.True(header < quiet.Lines.FindIndex(l => l.StartsWith("photos/1shot-seed0-pvp", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("preprocess: { preset: vpt }", "vpt: ", "train resize 36 → random crop 32 + flip 0.5")]
    [InlineData("preprocess: { preset: noah }", "noah: ", "train random-resized-crop + flip 0.5")]
    [InlineData("preprocess: { train_augmentation: random_resized_crop }", "pvp + recipe overrides: ", "train random-resized-crop + flip 0.5")]
    [InlineData("preprocess: { train_augmentation: none }", "pvp + recipe overrides: ", "no training augmentation")]
    [InlineData("preprocess: { preset: timm }", "timm + stage-2 tuning augmentation (VPT's resize → random crop → flip): ", "train resize 35 → random crop 32 + flip 0.5")]
    public void ARecipesOwnChoiceOrATuningPresetIsKept(string preprocess, string start, string end)
    {
        var recipe = RecipeParser.Parse(Yaml("run-x", preprocess), Path.Combine(folder, "recipe.yaml"));
        var context = new RunContext(recipe, new Quiet());
        var photos = context.StageTwoPreprocessing(recipe.Stage2.Tasks[0]).Describe(32);
        Assert.StartsWith(start, photos);
        Assert.EndsWith(end, photos);
        // Stage 1 and the backbone keep the run's preprocessing whatever stage 2 does.
        Assert.DoesNotContain("stage-2", context.Preprocessing.Describe(32));
        var digits = context.StageTwoPreprocessing(recipe.Stage2.Tasks[1]).Describe(32);
        if (end != "no training augmentation") Assert.EndsWith(end.Replace("flip 0.5", "flip 0"), digits);
    }
}
