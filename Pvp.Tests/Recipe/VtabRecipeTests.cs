using System.Globalization;
using Pvp.Training.Data;
using Pvp.Recipes;
using SkiaSharp;

namespace Pvp.Tests.Recipe;

/// <summary>
/// VTAB-1k end to end on a miniature tree in VPT's and NOAH's layout, written here:
/// <c>vtab-1k/&lt;task&gt;/{images/, train800.txt, val200.txt, train800val200.txt, test.txt}</c> with
/// <c>images/… label</c> lines relative to the task folder (NOAH's <c>lib/datasets.py</c>, <c>general_dataset</c>). Three
/// tasks in two groups, so that the mean over tasks and the mean of group means differ and both are checked by hand.
/// </summary>
public sealed class VtabRecipeTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("pvp-vtab-").FullName;

    static VtabRecipeTests() => VariantRegistry.Load(typeof(Pvp.Models.VptDeepMicro).Assembly);

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private static readonly (string Task, string Group, int Classes)[] Tasks =
        { ("cifar", "natural", 3), ("dtd", "natural", 2), ("clevr_count", "structured", 3) };

    /// <summary>
    /// One task folder: 10 images a class (built-in target shapes, JPEG, not square), 3 a class in train800, 2 in
    /// val200, train800val200 their union, 4 in test.
    /// </summary>
    private static void WriteTask(string root, int classes, int seed)
    {
        var source = SyntheticShapes.Target(SyntheticSplit.Train, 10, classes, imageSize: 40, seed: seed, sourceClassCount: 6);
        var lists = new Dictionary<string, List<string>>
        {
            [VtabSpec.SearchTrainFile] = new(), [VtabSpec.ValidationFile] = new(), [VtabSpec.TrainFile] = new(), [VtabSpec.TestFile] = new(),
        };
        for (int c = 0; c < classes; c++)
            for (int i = 0; i < 9; i++)
            {
                string relative = $"images/{c}_{i:000}.jpg";
                string path = Path.Combine(root, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                using var square = source.Read(c * 10 + i);
                using var wide = square.Resize(new SKImageInfo(44, 40), new SKSamplingOptions(SKFilterMode.Linear));
                using var encoded = SKImage.FromBitmap(wide).Encode(SKEncodedImageFormat.Jpeg, 95);
                File.WriteAllBytes(path, encoded.ToArray());
                string line = $"{relative} {c}";
                if (i < 3) lists[VtabSpec.SearchTrainFile].Add(line);
                else if (i < 5) lists[VtabSpec.ValidationFile].Add(line);
                else lists[VtabSpec.TestFile].Add(line);
                if (i < 5) lists[VtabSpec.TrainFile].Add(line);
            }
        foreach (var (file, lines) in lists) File.WriteAllLines(Path.Combine(root, file), lines);
    }

    private void WriteTree()
    {
        for (int t = 0; t < Tasks.Length; t++) WriteTask(Path.Combine(folder, "vtab-1k", Tasks[t].Task), Tasks[t].Classes, seed: 5 + t);
    }

    private static string Yaml(string output, string extraStage2 = "") => $$"""
        variant: VptDeepMicro
        workers: 2
        output: {{output}}
        backbone: { pretrain: { epochs: 1, batch: 16 } }
        source:
          builtin: { classes: 6, train_per_class: 6, test_per_class: 2 }
        preprocess: { preset: noah, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], crop_fraction: 1 }
        stage1: { epochs: 1, lr: 0.01, batch: 16 }
        stage2:
          tasks:
        {{string.Concat(Tasks.Select(t => $"    - name: {t.Task}\n      group: {t.Group}\n      vtab: {{ root: vtab-1k/{t.Task}, classes: {t.Classes} }}\n"))}}
          seeds: [0]
          baseline: true
          epochs: 2
          warmup: 0
          batch: 64
          weight_decay: 0.0001
          label_smoothing: 0
          augment: false
          search: { lr: [0.005, 0.05], weight_decay: [0.0001] }
        {{extraStage2}}
        """;

    [Fact]
    public void SearchesOnTrain800Val200ThenTrainsOnTrain800Val200AndReportsBothMeans()
    {
        WriteTree();
        var recipe = RecipeParser.Parse(Yaml("run-vtab"), Path.Combine(folder, "recipe.yaml"));
        Assert.Equal(new[] { "natural", "natural", "structured" }, recipe.Stage2.Tasks.Select(t => t.Group));
        var runner = new PvpRunner(recipe, new Quiet());
        // Per task and init: two search cells, then the final cell; no shot counts.
        Assert.Equal(3 * 2 * 3, runner.Cells().Count);
        Assert.Equal("cifar/all-seed0-pvp-search/lr0.005-wd0.0001", runner.Cells()[0].Id);
        Assert.Equal("cifar/all-seed0-pvp", runner.Cells()[2].Id);
        Assert.Equal(runner.Cells()[2], GridCell.Parse("cifar/all-seed0-pvp"));
        Assert.Equal(runner.Cells()[0], GridCell.Parse("cifar/all-seed0-pvp-search/lr0.005-wd0.0001"));
        Assert.Contains("TASK/all-seed<s>", Assert.Throws<FormatException>(() => GridCell.Parse("cifar/0shot-seed0-pvp")).Message);
        var report = runner.Run();
        string run = Path.Combine(folder, "run-vtab");
        Assert.Equal(6, report.Results.Count); // the search cells are not results

        foreach (var (task, _, classes) in Tasks)
        {
            string root = Path.Combine(folder, "vtab-1k", task);
            static string[] Listed(string path) => File.ReadAllLines(path).Where(l => l.Length > 0).ToArray();
            foreach (string init in new[] { "pvp", "random" })
            {
                var final = GridCell.Parse($"{task}/all-seed0-{init}");
                var searched = runner.Cells().Where(c => c.Final == final && c.Search is not null).ToList();
                Assert.Equal(2, searched.Count);
                foreach (var s in searched)
                {
                    // A search setting trains on train800 and is scored on val200's images.
                    string cellFolder = runner.CellFolder(s);
                    Assert.Equal(Listed(Path.Combine(root, VtabSpec.SearchTrainFile)), File.ReadAllLines(Path.Combine(cellFolder, "split.txt")).Skip(1).ToArray());
                    Assert.Contains($"\"count\":{2 * classes}", File.ReadAllLines(Path.Combine(cellFolder, "metrics.jsonl")).Last());
                    Assert.Equal("validation", CellResult.Load(Path.Combine(cellFolder, "result.json")).EvaluatedOn);
                }
                var scores = searched.ToDictionary(c => c.Search!.Id, c => CellResult.Load(Path.Combine(runner.CellFolder(c), "result.json")).Top1);
                var best = searched.OrderByDescending(c => scores[c.Search!.Id]).ThenBy(c => c.Search!.LearningRate).First().Search!;
                var result = CellResult.Load(Path.Combine(runner.CellFolder(final), "result.json"));
                Assert.Equal(best.Id, result.Chosen);
                Assert.Equal(scores, result.SearchScores);
                Assert.Equal("test", result.EvaluatedOn);
                Assert.Equal(0, result.Shots);
                // The final run trained again, on train800val200, with the chosen setting (no batch scaling: NOAH's lr as given).
                string finalFolder = runner.CellFolder(final);
                Assert.Equal(Listed(Path.Combine(root, VtabSpec.TrainFile)), File.ReadAllLines(Path.Combine(finalFolder, "split.txt")).Skip(1).ToArray());
                Assert.Equal(best.LearningRate, result.LearningRate!.Value, 12);
                Assert.Equal(best.WeightDecay, result.WeightDecay!.Value, 12);
                Assert.Contains($"\"count\":{4 * classes}", File.ReadAllLines(Path.Combine(finalFolder, "metrics.jsonl")).Last());
                // The reported top-1 is the final run's model on test.
                Assert.Equal(result.Top1, runner.Evaluate(final).Top1, 6);
                Assert.Contains("(training augmentation off)", result.Preprocessing);
                Assert.StartsWith("noah + recipe overrides: mean (0.5, 0.5, 0.5), std (0.5, 0.5, 0.5), resize to 32×32", result.Preprocessing);
            }
        }

        // The two overall means, by hand from the result files: each task's top-1, each group's mean, then both means.
        double Top1(string task, string init) => CellResult.Load(Path.Combine(run, "stage2", task, $"all-seed0-{init}", "result.json")).Top1;
        foreach (string init in new[] { "pvp", "random" })
        {
            double cifar = Top1("cifar", init), dtd = Top1("dtd", init), clevr = Top1("clevr_count", init);
            double natural = (cifar + dtd) / 2, structured = clevr;
            double meanOfTasks = (cifar + dtd + clevr) / 3, meanOfGroups = (natural + structured) / 2;
            // They differ unless the structured task scores exactly the natural mean; the tree makes them differ.
            Assert.NotEqual(Math.Round(meanOfTasks, 6), Math.Round(meanOfGroups, 6));
            var grouped = report.Grouped()!;
            Assert.Equal(natural, (init == "pvp" ? grouped.Groups[0].PvpMean : grouped.Groups[0].RandomMean)!.Value, 12);
            Assert.Equal(structured, (init == "pvp" ? grouped.Groups[1].PvpMean : grouped.Groups[1].RandomMean)!.Value, 12);
            Assert.Equal(meanOfTasks, (init == "pvp" ? grouped.PvpMeanOfTasks : grouped.RandomMeanOfTasks)!.Value, 12);
            Assert.Equal(meanOfGroups, (init == "pvp" ? grouped.PvpMeanOfGroups : grouped.RandomMeanOfGroups)!.Value, 12);
        }
        // results.md shows both, labelled, PVP and random init side by side.
        string markdown = File.ReadAllText(Path.Combine(run, "results.md"));
        string Pct(double v) => (100 * v).ToString("F2", CultureInfo.InvariantCulture);
        double P(string t) => Top1(t, "pvp");
        double R(string t) => Top1(t, "random");
        Assert.Contains($"| **mean over the 3 tasks** (each task weighs the same) | {Pct((P("cifar") + P("dtd") + P("clevr_count")) / 3)} | {Pct((R("cifar") + R("dtd") + R("clevr_count")) / 3)} |", markdown);
        Assert.Contains($"| **mean of the 2 group means** (each group weighs the same) | {Pct(((P("cifar") + P("dtd")) / 2 + P("clevr_count")) / 2)} | {Pct(((R("cifar") + R("dtd")) / 2 + R("clevr_count")) / 2)} |", markdown);
        Assert.Contains($"| natural | dtd | {Pct(P("dtd"))} | {Pct(R("dtd"))} |", markdown);
        Assert.Contains($"| structured (1 task) | {Pct(P("clevr_count"))} | {Pct(R("clevr_count"))} |", markdown);
        Assert.Equal(7, File.ReadAllLines(Path.Combine(run, "results.csv")).Length);
        Assert.False(File.Exists(Path.Combine(run, "accuracy_vs_shots.png"))); // no shot counts to plot
    }

    [Fact]
    public void AMissingSplitFileOrABadLineIsNamedBeforeTraining()
    {
        WriteTree();
        string dtd = Path.Combine(folder, "vtab-1k", "dtd");
        File.Delete(Path.Combine(dtd, VtabSpec.ValidationFile));
        var missing = Assert.Throws<DatasetException>(() =>
            new PvpRunner(RecipeParser.Parse(Yaml("run-missing"), Path.Combine(folder, "recipe.yaml")), new Quiet()).Validate(withSource: false));
        Assert.Contains("stage2 task 'dtd'", missing.Message);
        Assert.Contains($"has no {VtabSpec.ValidationFile}", missing.Message);
        Assert.Contains(dtd, missing.Message);

        WriteTask(dtd, 2, seed: 6);
        var test = Path.Combine(folder, "vtab-1k", "clevr_count", VtabSpec.TestFile);
        var lines = File.ReadAllLines(test).ToList();
        lines[2] = "images/0_005.jpg";
        File.WriteAllLines(test, lines);
        var bad = Assert.Throws<DatasetException>(() =>
            new PvpRunner(RecipeParser.Parse(Yaml("run-bad"), Path.Combine(folder, "recipe.yaml")), new Quiet()).Validate(withSource: false));
        Assert.Contains("stage2 task 'clevr_count'", bad.Message);
        Assert.Contains($"{test}:3: expected 'relative/path label'", bad.Message);
    }

    [Fact]
    public void ShotsForVtabTasksAndVtabAsTheSourceAreRecipeErrors()
    {
        var shots = Assert.Throws<RecipeException>(() => RecipeParser.Parse(Yaml("run-x", "  shots: [1, 2]"), Path.Combine(folder, "recipe.yaml")));
        Assert.Contains("stage2.shots: every task trains on its whole training list (vtab)", shots.Message);
        Assert.Contains("recipe.yaml:", shots.Message);
        var source = Assert.Throws<RecipeException>(() => RecipeParser.Parse(
            Yaml("run-y").Replace("builtin: { classes: 6, train_per_class: 6, test_per_class: 2 }", "vtab: { root: vtab-1k/cifar }"),
            Path.Combine(folder, "recipe.yaml")));
        Assert.Contains("a VTAB-1k task folder is a stage-2 task", source.Message);
        var group = Assert.Throws<RecipeException>(() => RecipeParser.Parse(Yaml("run-z").Replace("group: natural", "group: \"../x\""), Path.Combine(folder, "recipe.yaml")));
        Assert.Contains("group '../x'", group.Message);
    }
}
