using System.Text.Json;
using Pvp.Training.Data;
using Pvp.Recipes;
using SkiaSharp;

namespace Pvp.Tests.Recipe;

/// <summary>
/// The paper's settings end to end on miniature trees laid out exactly like the real datasets, written here: VPT's CUB
/// (images/ sub-folder, 1-based non-contiguous ids, train/val/test JSON) under VPT's protocol and search, and NOAH's
/// few-shot lists (a file per shots and seed, val and test lists, Pets' repeated lines).
/// </summary>
public sealed class PaperSettingTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("pvp-paper-").FullName;

    static PaperSettingTests() => VariantRegistry.Load(typeof(Pvp.Models.VptDeepMicro).Assembly);

    public void Dispose() => Directory.Delete(folder, recursive: true);

    /// <summary>Renders built-in target images (a class signal the model can learn) as JPEG files of a real dataset's size ratio.</summary>
    private static void WriteImages(string directory, IEnumerable<(string Relative, int Class, int Index)> images, int classes)
    {
        var source = SyntheticShapes.Target(SyntheticSplit.Train, 12, classes, imageSize: 40, seed: 3, sourceClassCount: 6);
        foreach (var (relative, cls, index) in images)
        {
            string path = Path.Combine(directory, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var square = source.Read(cls * 12 + index);
            using var wide = square.Resize(new SKImageInfo(48, 40), new SKSamplingOptions(SKFilterMode.Linear)); // not square: the resize matters
            using var encoded = SKImage.FromBitmap(wide).Encode(SKEncodedImageFormat.Jpeg, 95);
            File.WriteAllBytes(path, encoded.ToArray());
        }
    }

    private const string Source = """
        variant: VptDeepMicro
        workers: 2
        backbone: { pretrain: { epochs: 1, batch: 16 } }
        source:
          builtin: { classes: 6, train_per_class: 6, test_per_class: 2 }
        stage1: { epochs: 1, lr: 0.01, batch: 16 }
        """;

    [Fact]
    public void VptProtocolSearchesOnValJsonAndReportsTheChosenModelOnTest()
    {
        // CUB as VPT prepares it: <root>/images/<id>.<name>/<file>.jpg; keys relative to images/; ids 1, 17, 200.
        string cub = Path.Combine(folder, "CUB_200_2011");
        var ids = new[] { 1, 17, 200 };
        var splits = new Dictionary<string, Dictionary<string, int>> { ["train"] = new(), ["val"] = new(), ["test"] = new() };
        var files = new List<(string, int, int)>();
        for (int c = 0; c < ids.Length; c++)
            for (int i = 0; i < 12; i++)
            {
                string name = $"{ids[c]:000}.Bird_{ids[c]}/Bird_{ids[c]}_{i:0000}.jpg";
                splits[i < 4 ? "train" : i < 6 ? "val" : "test"][name] = ids[c];
                files.Add(("images/" + name, c, i));
            }
        WriteImages(cub, files, ids.Length);
        foreach (var (split, entries) in splits) File.WriteAllText(Path.Combine(cub, split + ".json"), JsonSerializer.Serialize(entries));

        var recipe = RecipeParser.Parse(Source + """

            output: run-vpt
            preprocess: { preset: vpt }
            stage2:
              tasks:
                - name: cub
                  fgvc: { root: CUB_200_2011, images: images, train: CUB_200_2011/train.json, val: CUB_200_2011/val.json, test: CUB_200_2011/test.json, classes: 3 }
              shots: [1, 2]
              seeds: [0]
              baseline: false
              protocol: vpt
              epochs: 3
              warmup: 1
              batch: 8
              search: { lr: [40, 4], weight_decay: [0.001, 0] }
            """, Path.Combine(folder, "recipe.yaml"));
        var runner = new PvpRunner(recipe, new Quiet());
        Assert.Equal(10, runner.Cells().Count); // per shot count: 4 search cells, then the cell they choose for
        Assert.Equal("cub/1shot-seed0-pvp-search/lr40-wd0.001", runner.Cells()[0].Id);
        var report = runner.Run();
        string run = Path.Combine(folder, "run-vpt");

        Assert.Equal(2, report.Results.Count); // the search cells are not results
        Assert.Equal(3, File.ReadAllLines(Path.Combine(run, "results.csv")).Length);
        foreach (int shots in new[] { 1, 2 })
        {
            var final = CellResult.Load(Path.Combine(run, "stage2", "cub", $"{shots}shot-seed0-pvp", "result.json"));
            Assert.Equal("test", final.EvaluatedOn);
            Assert.Equal(4, final.SearchScores!.Count);
            // The chosen setting is the best validation top-1; ties go to the smaller lr, then the smaller decay.
            var searched = runner.Cells().Where(c => c.Search is not null && c.Shots == shots).ToList();
            var scores = searched.ToDictionary(c => c.Search!.Id, c => CellResult.Load(Path.Combine(runner.CellFolder(c), "result.json")));
            Assert.All(scores.Values, r => Assert.Equal("validation", r.EvaluatedOn));
            var expected = searched.OrderByDescending(c => scores[c.Search!.Id].Top1).ThenBy(c => c.Search!.LearningRate).ThenBy(c => c.Search!.WeightDecay).First();
            Assert.Equal(expected.Search!.Id, final.Chosen);
            Assert.Equal(scores[expected.Search.Id].Top1, final.SearchScores[expected.Search.Id]);
            // The reported model is the chosen run's, measured on test: evaluating that run's saved model on test gives the same.
            Assert.Equal(final.Top1, runner.Evaluate(GridCell.Parse($"cub/{shots}shot-seed0-pvp")).Top1, 6);
            // VPT's learning-rate scaling: lr × batch / 256 at the configured batch (tune_fgvc.py), whatever the k-shot set's size.
            Assert.Equal(expected.Search.LearningRate * 8 / 256.0, final.LearningRate!.Value, 12);
            Assert.Equal("SGD (momentum 0.9)", final.Optimizer);
            Assert.StartsWith("vpt: mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225), resize short side 36 → centre crop 32", final.Preprocessing);
        }
        // A search cell is scored on val.json's 6 images; its split names CUB's own files, under their class ids.
        string searchCell = runner.CellFolder(runner.Cells()[0]);
        Assert.Contains("\"count\":6", File.ReadAllLines(Path.Combine(searchCell, "metrics.jsonl")).Last());
        var start = File.ReadAllLines(Path.Combine(searchCell, "metrics.jsonl")).First(l => l.Contains("\"event\":\"start\"", StringComparison.Ordinal));
        Assert.Contains("\"schedule\":\"per epoch\"", start);
        Assert.Contains("\"decay\":\"All\"", start);
        Assert.Contains("017.Bird_17/", File.ReadAllText(Path.Combine(searchCell, "split.txt")));
    }

    /// <summary>
    /// NOAH's layout: <c>&lt;dataset&gt;/images/&lt;class&gt;/&lt;file&gt;.jpg</c>; <c>annotations/train_meta.list.num_shot_{k}.seed_{s}</c>,
    /// <c>val_meta.list</c>, <c>test_meta.list</c>; "path label" lines with 0-based labels. The 1-shot seed-0 list repeats every
    /// line, as NOAH's Pets does. Returns the dataset folder.
    /// </summary>
    private string WriteNoahTree()
    {
        string food = Path.Combine(folder, "few-shot", "food-101");
        string[] names = { "apple_pie", "bibimbap", "churros" };
        var files = new List<(string, int, int)>();
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < 12; i++) files.Add(($"images/{names[c]}/{1000 * c + i}.jpg", c, i));
        WriteImages(food, files, 3);
        string Line(int c, int i) => $"{names[c]}/{1000 * c + i}.jpg {c}";
        Directory.CreateDirectory(Path.Combine(food, "annotations"));
        foreach (int shots in new[] { 1, 2 })
            foreach (int seed in new[] { 0, 1 })
            {
                var lines = Enumerable.Range(0, 3).SelectMany(c => Enumerable.Range(0, shots).Select(k => Line(c, (seed * 3 + k) % 6))).ToList();
                if (shots == 1 && seed == 0) lines = lines.Concat(lines).ToList();
                File.WriteAllLines(Path.Combine(food, "annotations", $"train_meta.list.num_shot_{shots}.seed_{seed}"), lines);
            }
        File.WriteAllLines(Path.Combine(food, "annotations", "val_meta.list"), Enumerable.Range(0, 3).SelectMany(c => new[] { Line(c, 6), Line(c, 7) }));
        File.WriteAllLines(Path.Combine(food, "annotations", "test_meta.list"), Enumerable.Range(0, 3).SelectMany(c => Enumerable.Range(8, 4).Select(i => Line(c, i))));
        return food;
    }

    private const string NoahTask = """
                - name: food-101
                  list: { root: few-shot/food-101/images, train: "few-shot/food-101/annotations/train_meta.list.num_shot_{shots}.seed_{seed}", val: few-shot/food-101/annotations/val_meta.list, test: few-shot/food-101/annotations/test_meta.list, classes: 3 }
        """;

    [Fact]
    public void NoahStyleRecipeTrainsEachCellOnItsListedSplit()
    {
        string food = WriteNoahTree();
        string yaml = Source + """

            output: run-noah
            preprocess: { preset: noah }
            stage2:
              tasks:
                - name: food-101
                  list: { root: few-shot/food-101/images, train: "few-shot/food-101/annotations/train_meta.list.num_shot_{shots}.seed_{seed}", val: few-shot/food-101/annotations/val_meta.list, test: few-shot/food-101/annotations/test_meta.list, classes: 3 }
              shots: [1, 2]
              seeds: [0, 1]
              epochs: 2
              lr: 0.005
              batch: 64
              weight_decay: 0.0001
              warmup: 1
              label_smoothing: 0.1
            """;
        var recipe = RecipeParser.Parse(yaml, Path.Combine(folder, "recipe.yaml"));
        var runner = new PvpRunner(recipe, new Quiet());
        var report = runner.Run();
        string run = Path.Combine(folder, "run-noah");
        Assert.Equal(8, report.Results.Count);
        Assert.All(report.Results, r => Assert.StartsWith("noah: mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225), resize to 36×36 → centre crop 32, bicubic", r.Preprocessing));
        // Each cell trained on exactly its list's images (the repeated lines kept, as NOAH trains on them).
        foreach (var cell in runner.Cells())
        {
            string list = Path.Combine(food, "annotations", $"train_meta.list.num_shot_{cell.Shots}.seed_{cell.Seed}");
            var expected = File.ReadAllLines(list);
            var split = File.ReadAllLines(Path.Combine(runner.CellFolder(cell), "split.txt")).Skip(1).ToArray();
            Assert.Equal(expected, split);
            Assert.Contains(list, File.ReadAllLines(Path.Combine(runner.CellFolder(cell), "split.txt"))[0]);
        }
        Assert.Equal(8, File.ReadAllLines(Path.Combine(run, "results.csv")).Length - 1);

        // A missing list file is named before anything trains.
        File.Delete(Path.Combine(food, "annotations", "train_meta.list.num_shot_2.seed_1"));
        var again = RecipeParser.Parse(yaml.Replace("output: run-noah", "output: run-noah-2"), Path.Combine(folder, "recipe.yaml"));
        var error = Assert.Throws<DatasetException>(() => new PvpRunner(again, new Quiet()).Validate());
        Assert.Contains("stage2 task 'food-101'", error.Message);
        Assert.Contains("train_meta.list.num_shot_2.seed_1' does not exist", error.Message);
    }

    [Fact]
    public void AGridWhoseCellsWouldTrainOnAnotherShotCountsListIsRefused()
    {
        WriteNoahTree();
        string Recipe(string train, string shots) => Source + $"""

            output: run-lists
            stage2:
              tasks:
            {NoahTask.Replace("train_meta.list.num_shot_{shots}.seed_{seed}", train, StringComparison.Ordinal)}
              shots: {shots}
              seeds: [0, 1]
              epochs: 1
            """;
        DatasetException Refused(string train, string shots) =>
            Assert.Throws<DatasetException>(() => new PvpRunner(RecipeParser.Parse(Recipe(train, shots), Path.Combine(folder, "recipe.yaml")), new Quiet()).Validate(withSource: false));

        // No {shots}: every shot count of a seed would train on one file (the table's 1- and 2-shot rows on the same images).
        var shared = Refused("train_meta.list.num_shot_2.seed_{seed}", "[1, 2]");
        Assert.Contains("stage2 task 'food-101'", shared.Message);
        Assert.Contains("names no {shots}", shared.Message);
        Assert.Contains("train_meta.list.num_shot_2.seed_0", shared.Message);
        // One shot count, but the file is another's split: 2 images a class claimed as 1-shot, and 1 as 2-shot.
        var message = Refused("train_meta.list.num_shot_2.seed_{seed}", "[1]").Message;
        Assert.Contains("names 2 images of class", message);
        Assert.Contains("but its cells are 1-shot", message);
        Assert.Contains("names at most 1 image(s) per class, but its cells are 2-shot", Refused("train_meta.list.num_shot_1.seed_{seed}", "[2]").Message);
        // The lists as named pass, the 1-shot list whose lines repeat included (distinct images are counted).
        new PvpRunner(RecipeParser.Parse(Recipe("train_meta.list.num_shot_{shots}.seed_{seed}", "[1, 2]"), Path.Combine(folder, "recipe.yaml")), new Quiet()).Validate(withSource: false);
    }

    [Fact]
    public void ASearchWithoutValidationImagesCarvesThemFromTheTrainingPoolOrSaysWhy()
    {
        var recipe = RecipeParser.Parse(Source + """

            output: run-carve
            stage2:
              tasks:
                - name: shapes
                  builtin: { classes: 3, train_per_class: 5, test_per_class: 4 }
              shots: [2]
              seeds: [0]
              baseline: false
              epochs: 1
              search: { lr: [0.01], weight_decay: [0], val_per_class: 3 }
            """, Path.Combine(folder, "recipe.yaml"));
        var runner = new PvpRunner(recipe, new Quiet());
        runner.Run();
        // 3 classes × 3 carved images, none of them among the cell's training images.
        string searchFolder = runner.CellFolder(runner.Cells()[0]);
        Assert.Contains("\"count\":9", File.ReadAllLines(Path.Combine(searchFolder, "metrics.jsonl")).Last());

        var tooFew = RecipeParser.Parse(Source + """

            output: run-carve-2
            stage2:
              tasks:
                - name: shapes
                  builtin: { classes: 3, train_per_class: 5, test_per_class: 4 }
              shots: [2]
              search: { lr: [0.01], weight_decay: [0], val_per_class: 4 }
            """, Path.Combine(folder, "recipe.yaml"));
        Assert.Contains("carves 4 validation image(s) per class", Assert.Throws<DatasetException>(() => new PvpRunner(tooFew, new Quiet()).Validate()).Message);
    }

    [Fact]
    public void ADivergingSearchSettingIsPassedOverAndAChangedGridMakesResultsStale()
    {
        string yaml = Source + """

            output: run-diverge
            stage2:
              tasks:
                - name: shapes
                  builtin: { classes: 3, train_per_class: 5, test_per_class: 4 }
              shots: [2]
              seeds: [0]
              baseline: false
              epochs: 3
              batch: 1
              warmup: 0
              clip_grad: 0
              optimizer: sgd
              search: { lr: [1000, 0.01], weight_decay: [100, 0], val_per_class: 2 }
            """;
        var recipe = RecipeParser.Parse(yaml, Path.Combine(folder, "recipe.yaml"));
        var quiet = new Quiet();
        var runner = new PvpRunner(recipe, quiet);
        var report = runner.Run();
        var final = Assert.Single(report.Results);
        // lr 1000 with decay 100: SGD multiplies the weights by (1 − 10⁵) each step, so the loss stops being finite.
        Assert.Contains("lr1000-wd100", final.SearchDiverged!);
        Assert.DoesNotContain(final.SearchDiverged!, id => id.StartsWith("lr0.01", StringComparison.Ordinal));
        Assert.DoesNotContain("lr1000-wd100", final.SearchScores!.Keys);
        Assert.Contains(final.Chosen!, final.SearchScores.Keys);
        Assert.Contains(quiet.Lines, l => l.Contains("diverged (passed over by the search)", StringComparison.Ordinal));
        Assert.All(RunStatus.Cells(runner), c => Assert.Equal(CellState.Done, c.State));

        // Another grid: the finished cell is another recipe's now, and status and --list say so rather than "done".
        var changed = new PvpRunner(RecipeParser.Parse(yaml.Replace("lr: [1000, 0.01]", "lr: [1000, 0.01, 0.001]"), Path.Combine(folder, "recipe.yaml")), new Quiet());
        var finalState = RunStatus.Of(changed, GridCell.Parse("shapes/2shot-seed0-pvp"));
        Assert.Equal(CellState.Stale, finalState.State);
        Assert.Contains("search.grid", finalState.Detail);
        Assert.Equal(CellState.Missing, RunStatus.Of(changed, GridCell.Parse("shapes/2shot-seed0-pvp-search/lr0.001-wd100")).State);
    }

    [Fact]
    public void TestOrValidationImagesWithClassesTrainingLacksAreRefusedBeforeTraining()
    {
        string root = Path.Combine(folder, "lists");
        var files = new List<(string, int, int)>();
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < 6; i++) files.Add(($"c{c}/{i}.jpg", c, i));
        WriteImages(root, files, 3);
        File.WriteAllLines(Path.Combine(root, "train.list"), Enumerable.Range(0, 3).SelectMany(c => new[] { $"c{c}/0.jpg {c}", $"c{c}/1.jpg {c}" }));
        File.WriteAllLines(Path.Combine(root, "test.list"), Enumerable.Range(0, 3).Select(c => $"c{c}/2.jpg {c}").Append("c2/3.jpg 3"));
        var recipe = RecipeParser.Parse(Source + """

            output: run-labels
            stage2:
              tasks:
                - name: lists
                  list: { root: lists, train: lists/train.list, test: lists/test.list }
              shots: [1]
              seeds: [0]
            """, Path.Combine(folder, "recipe.yaml"));
        var error = Assert.Throws<DatasetException>(() => new PvpRunner(recipe, new Quiet()).Validate());
        Assert.Contains("stage2 task 'lists': its test images have class(es) '3' that its training images lack", error.Message);
    }
}
