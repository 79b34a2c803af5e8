using System.Diagnostics;
using Pvp.Optim;
using Pvp.Recipes.Runner;
using Pvp.Training;
using Pvp.Training.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Pvp.Recipes;

/// <summary>
/// One line of a <see cref="RunPlan"/>: a training run (the backbone pre-training, stage 1, a stage-2 cell) or, for a
/// successive-halving round after the first, the survivors' runs together.
/// </summary>
/// <param name="Stage"><see cref="RunPlan.Backbone"/>, <see cref="RunPlan.StageOne"/> or <see cref="RunPlan.StageTwo"/>.</param>
/// <param name="Id">The cell's id, or the stage's name; a later halving round is <c>CELL-search/round2</c>.</param>
/// <param name="Cell">The cell, when the line is one the runner enumerates (<see cref="PvpRunner.Cells"/>); null otherwise.</param>
/// <param name="Runs">Training runs the line stands for (a later halving round: its survivors).</param>
/// <param name="TrainImages">Images each run trains on (k-shot: k × classes).</param>
/// <param name="Classes">Classes of the run's head (0: not known without reading the data).</param>
/// <param name="Batch">The batch each step takes (the configured one, or every image when fewer).</param>
/// <param name="Epochs">Epochs each run trains for (0: a cell that only evaluates the model its search chose).</param>
/// <param name="StepsPerRun">Optimizer steps of each run, counted as the trainer counts them.</param>
public sealed record PlanEntry(string Stage, string Id, GridCell? Cell, int Runs, int TrainImages, int Classes, int Batch,
    int Epochs, long StepsPerRun)
{
    /// <summary>All the line's optimizer steps: runs × steps per run.</summary>
    public long Steps => Runs * StepsPerRun;

    /// <summary>The variant whose PETuning modules the line trains (stages 1 and 2); null for the backbone's line.</summary>
    public string? Variant { get; init; }
}

/// <summary>A measured training step of a stage (see <see cref="RunPlan.MeasureStep"/>).</summary>
/// <param name="Stage">The stage measured.</param>
/// <param name="Batch">The batch of the measured steps.</param>
/// <param name="Warmup">Steps run first and not timed.</param>
/// <param name="Steps">Steps timed.</param>
/// <param name="SecondsPerStep">Their median, in seconds.</param>
/// <param name="Precision">The frozen backbone's precision in the measured model.</param>
/// <param name="Device">The device measured on.</param>
public sealed record StepTiming(string Stage, int Batch, int Warmup, int Steps, double SecondsPerStep, string Precision,
    string Device)
{
    /// <summary>
    /// Seconds of <paramref name="entry"/>'s steps at this rate: per image, so a step of a smaller batch costs its share.
    /// </summary>
    public double SecondsFor(PlanEntry entry) => entry.Steps * SecondsPerStep * entry.Batch / Batch;
}

/// <summary>
/// What a recipe costs before anything trains: every training run the runner would start (its cells in the runner's
/// own order, with their search), each run's optimizer steps from the sizes the recipe declares (k-shot: k × the
/// task's classes; the built-in data's counts; the data itself only where the recipe does not say), and, from a few
/// measured steps of the recipe's own variant and batch, the time of each stage on this device.
/// </summary>
public sealed class RunPlan
{
    /// <summary>The backbone pre-training's stage name.</summary>
    public const string Backbone = "backbone";

    /// <summary>Stage 1's stage name.</summary>
    public const string StageOne = "stage 1";

    /// <summary>Stage 2's stage name.</summary>
    public const string StageTwo = "stage 2";

    private RunPlan(PvpRecipe recipe, IReadOnlyList<PlanEntry> entries, IReadOnlyList<GridCell> cells)
    {
        Recipe = recipe;
        Entries = entries;
        Cells = cells;
    }

    /// <summary>The recipe planned.</summary>
    public PvpRecipe Recipe { get; }

    /// <summary>Every line: the backbone pre-training (when the recipe gives no weights), stage 1, then stage 2's.</summary>
    public IReadOnlyList<PlanEntry> Entries { get; }

    /// <summary>The recipe's cells, as the runner enumerates them (<see cref="PvpRunner.Cells"/>).</summary>
    public IReadOnlyList<GridCell> Cells { get; }

    /// <summary>The stages present, in order.</summary>
    public IReadOnlyList<string> Stages => Entries.Select(e => e.Stage).Distinct().ToList();

    /// <summary>The optimizer steps of <paramref name="stage"/>.</summary>
    public long Steps(string stage) => Entries.Where(e => e.Stage == stage).Sum(e => e.Steps);

    /// <summary>
    /// Optimizer steps of a run as the trainer counts them: every epoch drops its last partial batch when the images
    /// outnumber the batch (<c>BatchLoader</c>'s <c>dropLast</c>), and is one batch of all of them otherwise.
    /// </summary>
    public static long StepsFor(int images, int batch, int epochs)
    {
        int b = Math.Min(batch, images);
        return images <= 0 || b <= 0 ? 0 : (long)epochs * (images > b ? images / b : 1);
    }

    /// <summary>
    /// The plan of <paramref name="recipe"/>. <paramref name="sourceImages"/> gives the source's training image count
    /// where its data is not on this machine (a planning host without ImageNet); the built-in source's is known.
    /// </summary>
    /// <exception cref="DatasetException">
    /// A count the recipe does not declare and the data cannot give here; the message names the task and the key.
    /// </exception>
    public static RunPlan Of(PvpRecipe recipe, int? sourceImages = null)
    {
        int size = VariantRegistry.Describe(recipe.Variant).Backbone.ImageSize;
        var entries = new List<PlanEntry>();
        var (sourceCount, sourceClasses) = SourceSize(recipe, sourceImages, size);
        if (recipe.BackboneWeights is null)
            entries.Add(StageEntry(Backbone, recipe.BackbonePretrain, sourceCount, sourceClasses));
        // A variants: recipe trains a stage 1 per variant (its lines name it); a one-variant recipe's is "stage 1".
        foreach (string variant in recipe.NamesVariants ? recipe.Variants : new[] { recipe.Variant })
            entries.Add(StageEntry(StageOne, recipe.Stage1, sourceCount, sourceClasses) with
            {
                Id = recipe.NamesVariants ? $"{StageOne} {variant}" : StageOne,
                Variant = variant,
            });
        var layout = new RunLayout(recipe);
        var cells = layout.Cells();
        var stage = recipe.Stage2.Settings;
        var search = recipe.Stage2.Search;
        var classesOf = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var cell in cells)
        {
            var task = recipe.Stage2.Tasks.First(t => t.Name == cell.Task);
            if (!classesOf.TryGetValue(task.Name, out int classes)) classesOf[task.Name] = classes = TaskClasses(task, size);
            int images = TrainImages(task, cell, classes);
            string variantOf = cell.Variant ?? recipe.Variant;
            if (cell.Search is null && search is not null)
            {
                // Later halving rounds: the survivors, known once the round before has finished.
                var rounds = search.Rounds(stage.Epochs);
                foreach (var round in rounds.Skip(1))
                {
                    var settings = RunTraining.SettingsFor(stage, layout.AtRound(search.Settings()[0], round));
                    int roundImages = TrainImages(task, cell with { Search = search.Settings()[0] }, classes);
                    entries.Add(new PlanEntry(StageTwo, $"{cell.Id}-search/round{round.Index + 1}", null, round.Settings,
                        roundImages, classes, Math.Min(settings.Batch, roundImages), settings.Epochs,
                        StepsFor(roundImages, settings.Batch, settings.Epochs)) { Variant = variantOf });
                }
                // The chosen run's model is evaluated, not trained again, unless the search trained on other images.
                if (!task.Data.TrainsOnWholeSplit)
                {
                    entries.Add(new PlanEntry(StageTwo, cell.Id, cell, 1, images, classes, Math.Min(stage.Batch, images), 0, 0)
                        { Variant = variantOf });
                    continue;
                }
            }
            var cellSettings = RunTraining.SettingsFor(stage, cell.Search);
            entries.Add(new PlanEntry(StageTwo, cell.Id, cell, 1, images, classes, Math.Min(cellSettings.Batch, images),
                cellSettings.Epochs, StepsFor(images, cellSettings.Batch, cellSettings.Epochs)) { Variant = variantOf });
        }
        return new RunPlan(recipe, entries, cells);
    }

    private static PlanEntry StageEntry(string stage, StageSettings settings, int images, int classes) =>
        new(stage, stage, null, 1, images, classes, Math.Min(settings.Batch, images), settings.Epochs,
            StepsFor(images, settings.Batch, settings.Epochs));

    private static (int Images, int Classes) SourceSize(PvpRecipe recipe, int? sourceImages, int size)
    {
        if (recipe.Source is BuiltinDatasetSpec builtin) return (builtin.Classes * builtin.TrainPerClass, builtin.Classes);
        if (sourceImages is { } given) return (given, 0);
        try
        {
            var train = recipe.Source.Train(size);
            return (train.Count, train.Classes.Count);
        }
        catch (Exception e) when (e is DatasetException or IOException or UnauthorizedAccessException)
        {
            throw new DatasetException($"source: its training images cannot be counted here ({e.Message.TrimEnd('.')}); give their " +
                                       "number (ImageNet-1k's train: 1281167) with --source-images N to plan without them.");
        }
    }

    private static int TaskClasses(TaskSpec task, int size)
    {
        int? declared = task.Data switch
        {
            BuiltinDatasetSpec b => b.Classes,
            FgvcSpec f => f.Classes,
            ListFileSpec l => l.Classes,
            VtabSpec v => v.Classes,
            _ => null,
        };
        if (declared is { } classes) return classes;
        try
        {
            return task.Data.HasFixedSplits ? task.Data.Test(size).Classes.Count : task.Data.Train(size).Classes.Count;
        }
        catch (Exception e) when (e is DatasetException or IOException or UnauthorizedAccessException)
        {
            throw new DatasetException($"stage2 task '{task.Name}': its classes cannot be counted here ({e.Message.TrimEnd('.')}); " +
                                       "declare them in the recipe (classes: N under the task's data) to plan without the data.");
        }
    }

    /// <summary>
    /// A cell's training images: k per class for a k-shot cell (what the sampler draws, and what NOAH's lists hold); a
    /// whole-list task's list lines when the list is here, else VTAB-1k's 800 (search) and 1000 (final run).
    /// </summary>
    private static int TrainImages(TaskSpec task, GridCell cell, int classes)
    {
        if (!task.Data.TrainsOnWholeSplit) return cell.Shots * classes;
        bool search = cell.Search is not null;
        if (task.Data is VtabSpec vtab)
        {
            string list = Path.Combine(vtab.Root, search ? VtabSpec.SearchTrainFile : VtabSpec.TrainFile);
            if (File.Exists(list)) return File.ReadLines(list).Count(l => l.Trim().Length > 0);
        }
        return search ? 800 : 1000;
    }

    /// <summary>
    /// Times the training step of <paramref name="stage"/> on the recipe's device: the model that stage trains (the plain
    /// backbone for <see cref="Backbone"/>, the recipe's variant in its precision otherwise) with the stage's optimizer,
    /// forward, cross-entropy, backward and step on random images of the variant's size; <paramref name="warmup"/> steps
    /// first (allocator, kernel choice), then the median of <paramref name="steps"/>. Data loading and evaluation are not
    /// in it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A batch or step count below 1.</exception>
    public static StepTiming MeasureStep(PvpRecipe recipe, string stage, int batch, int classes, int warmup = 1,
        int steps = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(warmup);
        classes = Math.Max(2, classes);
        var info = VariantRegistry.Describe(recipe.Variant);
        var device = Devices.Resolve(recipe.Device);
        var settings = stage switch
        {
            Backbone => recipe.BackbonePretrain,
            StageOne => recipe.Stage1,
            StageTwo => recipe.Stage2.Settings,
            _ => throw new ArgumentException($"Unknown stage '{stage}'; expected {Backbone}, {StageOne} or {StageTwo}.",
                nameof(stage)),
        };
        PetModel model = stage == Backbone
            ? (VariantRegistry.FindPlainBackbone(info.Backbone) ?? throw new InvalidOperationException(
                  $"No plain backbone with {info.Backbone} is declared to time the backbone pre-training.")).Factory(
                  classes, device, ScalarType.Float32)
            : VariantRegistry.Create(recipe.Variant, classes, device, precision: recipe.Precision);
        using (model)
        {
            model.DropPathRate = settings.DropPath;
            model.train();
            double lr = settings.AppliedLearningRate();
            using PetOptimizer optimizer = settings.Optimizer == OptimizerKind.Sgd
                ? model.CreateSgd(lr, settings.WeightDecay, settings.Momentum, settings.Decay)
                : model.CreateAdamW(lr, settings.WeightDecay, rule: settings.Decay);
            int size = info.Backbone.ImageSize;
            manual_seed(0);
            using var x = randn(new long[] { batch, 3, size, size }, device: device);
            using var y = randint(0, classes, new long[] { batch }, device: device);
            var times = new List<double>();
            for (int i = 0; i < warmup + steps; i++)
            {
                var clock = Stopwatch.StartNew();
                using (NewDisposeScope())
                {
                    optimizer.ZeroGrad();
                    using var loss = nn.functional.cross_entropy(model.call(x), y);
                    loss.backward();
                    optimizer.Step();
                    if (device.type == DeviceType.CUDA) cuda.synchronize(device);
                }
                if (i >= warmup) times.Add(clock.Elapsed.TotalSeconds);
            }
            times.Sort();
            double median = times.Count % 2 == 1
                ? times[times.Count / 2]
                : (times[times.Count / 2 - 1] + times[times.Count / 2]) / 2;
            return new StepTiming(stage, batch, warmup, steps, median, model.Precision.Name, device.ToString());
        }
    }
}
