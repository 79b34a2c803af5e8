using Pvp.Training.Data;
using Pvp.Training;

namespace Pvp.Recipes.Runner;

/// <summary>
/// The images a run reads, each read once per runner: the source data of the backbone and stage 1, each task's pool,
/// test and validation images, the listed training split of a cell, and the validation images a search cell is scored
/// on.
/// </summary>
internal sealed class RunData(RunContext run)
{
    private readonly Dictionary<string, TaskImages> taskData = new();
    private readonly Dictionary<(string Task, int Shots, int Seed), IImageDataset> fixedTrain = new();
    private IImageDataset? sourceTrain, sourceTest;

    /// <summary>
    /// A task's images: the pool k-shot cells sample from (null when the task lists a training file per cell), its test
    /// and validation images.
    /// </summary>
    public sealed record TaskImages(IImageDataset? Pool, IImageDataset Test, IImageDataset? Validation)
    {
        /// <summary>What a search setting trains on when it differs from the final training images (VTAB-1k's train800), or null.</summary>
        public IImageDataset? SearchTrain { get; init; }
    }

    private PvpRecipe Recipe => run.Recipe;

    /// <summary>The source data's training and test images.</summary>
    /// <exception cref="DatasetException">They cannot be read; the message starts with <c>source:</c>.</exception>
    public (IImageDataset Train, IImageDataset Test) Source()
    {
        try
        {
            sourceTrain ??= Recipe.Source.Train(run.ImageSize);
            sourceTest ??= Recipe.Source.Test(run.ImageSize);
        }
        catch (Exception e) when (e is DatasetException or IOException)
        {
            throw new DatasetException($"source: {e.Message}");
        }
        return (sourceTrain, sourceTest);
    }

    /// <summary>A task's pool, test and validation images.</summary>
    public TaskImages Task(TaskSpec task)
    {
        if (!taskData.TryGetValue(task.Name, out var data))
        {
            int size = run.ImageSize;
            taskData[task.Name] = data = new TaskImages(task.Data.HasFixedSplits ? null : task.Data.Train(size),
                task.Data.Test(size), task.Data.Validation(size)) { SearchTrain = task.Data.SearchTrain(size) };
        }
        return data;
    }

    /// <summary>
    /// A cell's training images (with their indices in the pool when sampled) and the task's test images; a whole-list
    /// task's cell trains on all of its training list (a search cell on <see cref="DatasetSpec.SearchTrain"/> when given).
    /// </summary>
    public (IImageDataset Train, IReadOnlyList<int>? Indices, IImageDataset Test) Cell(TaskSpec task, GridCell cell)
    {
        var images = Task(task);
        if (task.Data.TrainsOnWholeSplit)
            // VTAB-1k: a search setting trains on train800, the final cell on train800val200; all of it, no sampling.
            return (cell.Search is not null && images.SearchTrain is { } searchTrain ? searchTrain : images.Pool!, null, images.Test);
        if (task.Data.HasFixedSplits)
        {
            var key = (task.Name, cell.Shots, cell.Seed);
            if (!fixedTrain.TryGetValue(key, out var list))
                fixedTrain[key] = list = task.Data.FixedTrain(cell.Shots, cell.Seed, run.ImageSize);
            return (list, null, images.Test);
        }
        var indices = KShotSampler.Sample(images.Pool!, cell.Shots, cell.Seed);
        return (images.Pool!.Subset(indices), indices, images.Test);
    }

    /// <summary>
    /// The images a search cell is scored on: the task's validation split, or — when it has none — <c>val_per_class</c>
    /// images per class drawn (seeded by the cell's seed and shots) from the training pool minus the cell's training
    /// images.
    /// </summary>
    public IImageDataset SearchValidation(TaskSpec task, GridCell cell, IReadOnlyList<int>? trainIndices)
    {
        var images = Task(task);
        if (images.Validation is { } given) return given;
        var pool = images.Pool ?? throw new DatasetException(
            $"stage2 task '{task.Name}': the search needs validation images, and its training lists are fixed, " +
            "so none can be carved from them; give the task a val list.");
        int perClass = Recipe.Stage2.Search!.ValPerClass;
        // Disjoint by image, not by position: a list that names an image twice must not put its other copy in
        // validation.
        var taken = new HashSet<string>(
            (trainIndices ?? Array.Empty<int>()).Select(pool.NameOf), StringComparer.Ordinal);
        var chosen = KShotSampler.Draw(pool, perClass, c => Seeds.Mix(cell.Seed, cell.Shots, 1_000_003 + c), taken,
            (c, available) => new DatasetException(
                $"stage2 task '{task.Name}': class '{pool.Classes[c]}' has {available} training image(s) besides the " +
                $"{cell.Shots}-shot split, fewer than the search's val_per_class ({perClass}); lower it, or give the " +
                "task a val split."));
        return pool.Subset(chosen);
    }
}
