using Pvp.Recipes;

namespace Pvp.Tests.Recipe;

/// <summary>Both PVP stages end to end on a tiny recipe; results merge from cell folders; finished work is skipped.</summary>
public sealed class PvpRunnerTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("pvp-run-").FullName;

    static PvpRunnerTests() => VariantRegistry.Load(typeof(Pvp.Models.VptDeepMicro).Assembly);

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void BothStagesRunAndWriteTheReport()
    {
        var recipe = RecipeParser.Parse("""
            variant: VptDeepMicro
            output: run
            workers: 2
            backbone: { pretrain: { epochs: 1, batch: 16 } }
            source:
              builtin: { classes: 6, train_per_class: 6, test_per_class: 2 }
            stage1: { epochs: 1, lr: 0.01, batch: 16 }
            stage2:
              tasks:
                - name: shapes
                  builtin: { classes: 3, train_per_class: 4, test_per_class: 4 }
              shots: [1, 2]
              seeds: [0, 1]
              epochs: 2
            """, Path.Combine(folder, "recipe.yaml"));
        var quiet = new Quiet();
        var report = new PvpRunner(recipe, quiet).Run();
        string run = Path.Combine(folder, "run");

        Assert.Contains(quiet.Lines, l => l.Contains("no weights given, so a", StringComparison.Ordinal) && l.Contains("FullFineTuneMicro", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(run, "backbone", "backbone.safetensors")));
        Assert.True(File.Exists(Path.Combine(run, "stage1", "petuning.safetensors")));
        string sidecar = File.ReadAllText(Path.Combine(run, "stage1", "petuning.json"));
        Assert.Contains("\"variant\": \"VptDeepMicro\"", sidecar);
        Assert.Contains("\"prompt_embeddings\": [", sidecar);
        Assert.Contains("built-in source shapes: 6 classes", sidecar);

        Assert.Equal(8, report.Results.Count);
        Assert.True(File.Exists(Path.Combine(run, "stage2", "shapes", "2shot-seed1-random", "result.json")));
        Assert.Equal(7, File.ReadAllLines(Path.Combine(run, "stage2", "shapes", "2shot-seed1-pvp", "split.txt")).Length); // comment + 3 classes × 2
        Assert.Equal(9, File.ReadAllLines(Path.Combine(run, "results.csv")).Length);
        Assert.Contains("| 1 |", File.ReadAllText(Path.Combine(run, "results.md")));
        Assert.True(new FileInfo(Path.Combine(run, "accuracy_vs_shots.png")).Length > 1000);
        Assert.Contains("\"event\":\"step\"", File.ReadAllText(Path.Combine(run, "stage2", "shapes", "1shot-seed0-pvp", "metrics.jsonl")));

        // The precision used is in the output, the metrics, the stage-1 sidecar and every result (float32-only variant).
        Assert.Contains(quiet.Lines, l => l.StartsWith("precision: float32 backbone (the declaration allows float32 only)", StringComparison.Ordinal));
        Assert.Contains(quiet.Lines, l => l.StartsWith("device: cpu", StringComparison.Ordinal));
        Assert.Contains("\"event\":\"start\",", File.ReadAllLines(Path.Combine(run, "stage1", "metrics.jsonl"))[0]);
        Assert.Contains("\"precision\":\"float32\"", File.ReadAllLines(Path.Combine(run, "stage1", "metrics.jsonl"))[0]);
        Assert.Contains("\"precision\": \"float32\"", sidecar);
        Assert.All(report.Results, r => Assert.Equal("float32", r.Precision));
        Assert.EndsWith(",float32", File.ReadAllLines(Path.Combine(run, "results.csv"))[1]);
        Assert.Contains("Frozen backbone in float32.", File.ReadAllText(Path.Combine(run, "results.md")));

        // Running again skips every finished piece; evaluation of a saved cell reproduces its accuracy.
        var again = new Quiet();
        new PvpRunner(recipe, again).Run();
        Assert.Contains(again.Lines, l => l.StartsWith("stage 1: done earlier", StringComparison.Ordinal));
        Assert.DoesNotContain(again.Lines, l => l.Contains("top-1", StringComparison.Ordinal) && l.StartsWith("shapes/", StringComparison.Ordinal));
        var cell = GridCell.Parse("shapes/2shot-seed0-pvp");
        double saved = report.Results.Single(r => r.Task == "shapes" && r.Shots == 2 && r.Seed == 0 && r.Init == "pvp").Top1;
        Assert.Equal(saved, new PvpRunner(recipe, again).Evaluate(cell).Top1, 6);
    }

    [Fact]
    public void AForcedBf16BackboneIsWhatTheResultsRecord()
    {
        var recipe = RecipeParser.Parse("""
            variant: VptDeepBf16Micro
            precision: bf16
            output: run-bf16
            backbone: { pretrain: { epochs: 1, batch: 16 } }
            source:
              builtin: { classes: 4, train_per_class: 4, test_per_class: 2 }
            stage1: { epochs: 1, lr: 0.01, batch: 16 }
            stage2:
              tasks:
                - name: shapes
                  builtin: { classes: 3, train_per_class: 2, test_per_class: 2 }
              shots: [1]
              seeds: [0]
              baseline: false
              epochs: 1
            """, Path.Combine(folder, "recipe.yaml"));
        var quiet = new Quiet();
        var report = new PvpRunner(recipe, quiet).Run();
        Assert.Contains(quiet.Lines, l => l.StartsWith("precision: bf16 backbone (bf16 was asked for", StringComparison.Ordinal));
        Assert.Equal("bf16", Assert.Single(report.Results).Precision);
        Assert.Contains("\"precision\":\"bf16\"", File.ReadAllLines(Path.Combine(folder, "run-bf16", "stage2", "shapes", "1shot-seed0-pvp", "metrics.jsonl"))[0]);
    }

    [Fact]
    public void TasksFromImageFoldersAndListFilesRunLikeTheBuiltInOnes()
    {
        // The target task written to disk as an ImageFolder pair and as VTAB-style list files.
        var train = Pvp.Training.Data.SyntheticShapes.Target(Pvp.Training.Data.SyntheticSplit.Train, imagesPerClass: 3, classCount: 3);
        var test = Pvp.Training.Data.SyntheticShapes.Target(Pvp.Training.Data.SyntheticSplit.Test, imagesPerClass: 2, classCount: 3);
        train.WriteImageFolder(Path.Combine(folder, "data", "train"));
        test.WriteImageFolder(Path.Combine(folder, "data", "test"));
        var trainFolder = Pvp.Training.Data.FileDataset.ImageFolder(Path.Combine(folder, "data", "train"));
        var testFolder = Pvp.Training.Data.FileDataset.ImageFolder(Path.Combine(folder, "data", "test"));
        File.WriteAllLines(Path.Combine(folder, "data", "train800val200.txt"), Enumerable.Range(0, trainFolder.Count).Select(i => $"train/{trainFolder.NameOf(i)} {trainFolder.LabelOf(i)}"));
        File.WriteAllLines(Path.Combine(folder, "data", "test.txt"), Enumerable.Range(0, testFolder.Count).Select(i => $"test/{testFolder.NameOf(i)} {testFolder.LabelOf(i)}"));

        var recipe = RecipeParser.Parse("""
            variant: LoraMicro
            output: run
            workers: 2
            backbone: { pretrain: { epochs: 1, batch: 16 } }
            source:
              builtin: { classes: 4, train_per_class: 4, test_per_class: 2 }
            stage1: { epochs: 1, batch: 16 }
            stage2:
              tasks:
                - name: folder
                  imagefolder: { train: data/train, test: data/test }
                - name: vtab
                  list: { root: data, train: data/train800val200.txt, test: data/test.txt, classes: 3 }
              shots: [2]
              seeds: [0]
              epochs: 2
            """, Path.Combine(folder, "recipe.yaml"));
        var report = new PvpRunner(recipe, new Quiet()).Run();
        Assert.Equal(4, report.Results.Count);
        Assert.Equal(new[] { "folder", "vtab" }, report.Results.Select(r => r.Task).Distinct().OrderBy(t => t, StringComparer.Ordinal));
        string split = File.ReadAllText(Path.Combine(folder, "run", "stage2", "vtab", "2shot-seed0-pvp", "split.txt"));
        Assert.Contains("train/", split);
        Assert.Equal(6, split.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => !l.StartsWith('#')));
    }

    [Fact]
    public void WithoutWeightsAndWithoutAPlainTwinTheRecipeSaysWhatToDo()
    {
        var recipe = RecipeParser.Parse("""
            variant: OddSizedVpt
            output: run
            source:
              builtin: { classes: 4, train_per_class: 2, test_per_class: 1 }
            stage1: { epochs: 1 }
            stage2:
              tasks:
                - name: shapes
                  builtin: { classes: 2, train_per_class: 2, test_per_class: 1 }
              shots: [1, 2]
            """, Path.Combine(folder, "recipe.yaml"));
        var error = Assert.Throws<InvalidOperationException>(() => new PvpRunner(recipe, new Quiet()).Pretrain());
        Assert.Contains("no plain backbone with ViT D=32 depth 1", error.Message);
        Assert.Contains("Set backbone.weights", error.Message);
    }

    [Fact]
    public void ReportAveragesSeedsAndComparesInits()
    {
        var results = new[]
        {
            new CellResult("t", 1, 0, "pvp", 0.50, 1, 1, 1, 1), new CellResult("t", 1, 1, "pvp", 0.70, 1, 1, 1, 1),
            new CellResult("t", 1, 0, "random", 0.30, 1, 1, 1, 1), new CellResult("t", 1, 1, "random", 0.40, 1, 1, 1, 1),
            new CellResult("t", 4, 0, "pvp", 0.90, 1, 1, 1, 1),
        };
        var summary = new ResultsReport(results).Summary();
        var one = summary.Single(s => s.Shots == 1);
        Assert.Equal(0.60, one.PvpMean, 12);
        Assert.Equal(Math.Sqrt(0.02), one.PvpStd, 12);        // sample std of 0.5 and 0.7
        Assert.Equal(0.35, one.RandomMean!.Value, 12);
        Assert.Equal(0.25, one.Difference!.Value, 12);
        Assert.Null(summary.Single(s => s.Shots == 4).RandomMean);
        string markdown = new ResultsReport(results).Markdown("title");
        Assert.Contains("| 1 | 60.0 ± 14.1 | 35.0 ± 7.1 | +25.0 | 2 |", markdown);
        Assert.Contains("| 4 | 90.0 (n = 1) | — | — | 1 |", markdown); // one seed: no spread to show, not a measured ± 0.0
    }
}

/// <summary>A PETuning variant whose backbone size no plain declaration shares.</summary>
[VisionTransformer(ImageSize = 16, PatchSize = 4, EmbedDim = 32, Depth = 1, Heads = 2)]
[Prompts(Length = 2)]
public partial class OddSizedVpt;
