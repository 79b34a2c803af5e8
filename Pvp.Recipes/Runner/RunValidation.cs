using Pvp.Training.Data;
using Pvp.Training;
using Pvp.Weights;

namespace Pvp.Recipes.Runner;

/// <summary>
/// Checks everything a recipe names before any training starts, so that nothing fails hours in: the device, the output
/// folder, the backbone weights file, and every dataset (folders, list files and their shot counts, classes across
/// splits, images per class, every image's header).
/// </summary>
internal sealed class RunValidation(RunContext run, RunData data)
{
    private bool validated, sourceValidated;

    private PvpRecipe Recipe => run.Recipe;
    private IRunReporter Reporter => run.Reporter;

    /// <summary>
    /// See <see cref="PvpRunner.Validate"/>: runs once per runner (again when the source is asked for later).
    /// </summary>
    public void Validate(bool forThisMachine, bool withSource)
    {
        if (validated && (!withSource || sourceValidated)) return;
        if (forThisMachine)
        {
            var device = Devices.Resolve(Recipe.Device);
            Devices.ApplySchedulerThreadLimit();
            Reporter.Info($"device: {Devices.Describe(device)} (recipe device: {Recipe.Device})");
            if (Recipe.Device.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase) &&
                Devices.VisibleGpuWithoutCuda() is { } warning)
                Reporter.Info($"WARNING: {warning}");
        }

        WritableFolder.Ensure(Recipe.Output, "The output folder", "choose another with 'output:' or --output");
        CheckBackboneWeights();

        if (withSource)
        {
            data.Source();
            sourceValidated = true;
        }
        int mostShots = Recipe.Stage2.Shots.Max();
        _ = run.Preprocessing; // resolves (and checks) the preprocessing now, not hours in
        foreach (var task in Recipe.Stage2.Tasks)
            CheckTask(task, mostShots);
        CheckStageTwoImages();
        validated = forThisMachine;
    }

    /// <summary>The recipe's backbone weights: an existing file (not a folder) whose header parses.</summary>
    private void CheckBackboneWeights()
    {
        if (Recipe.BackboneWeights is not { } given) return;
        if (Pvp.Weights.Hub.HubModelId.IsHubId(given))
        {
            // A hf-hub: id is fetched here, before anything trains; its progress goes to the reporter as lines (a live
            // console line would tear the run's progress bars).
            var started = new HashSet<string>(StringComparer.Ordinal);
            var options = Pvp.Weights.Hub.HubOptions.FromEnvironment() with
            {
                Progress = p =>
                {
                    lock (started)
                        if (started.Add(p.File))
                            Reporter.Info($"downloading {p.Id} {p.File}" +
                                          (p.Total is { } t ? $" ({Pvp.Weights.Hub.HubProgress.Size(t)})" : ""));
                    if (p.Done) Reporter.Info(p.ToString());
                },
            };
            Pvp.Weights.Hub.HubWeights.Resolve(given, options); // remembered: the layout's path below asks nothing again
        }
        string weights = run.Layout.BackbonePath;
        if (Directory.Exists(weights))
            throw new InvalidDataException($"Backbone weights '{weights}' (recipe key backbone.weights) is a " +
                                           "folder; name the weights file inside it.");
        if (!File.Exists(weights))
            throw new FileNotFoundException(
                $"Backbone weights '{weights}' (recipe key backbone.weights) do not exist.", weights);
        if (weights.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            SafeTensors.ReadMetadata(weights); // the header parses
    }

    /// <summary>A task's splits: listed ones per (shots, seed), or a pool with enough images per class.</summary>
    private void CheckTask(TaskSpec task, int mostShots)
    {
        RunData.TaskImages images;
        try
        {
            images = data.Task(task);
            if (task.Data.HasFixedSplits)
            {
                CheckListedSplits(task, images);
                return;
            }
        }
        catch (Exception e) when (e is DatasetException or IOException)
        {
            throw new DatasetException($"stage2 task '{task.Name}': {e.Message}");
        }
        if (task.Data.TrainsOnWholeSplit)
        {
            CheckWholeSplits(task, images);
            return;
        }
        CheckPool(task, images, mostShots);
    }

    /// <summary>
    /// A whole-list task (VTAB-1k): every list uses the final training list's classes, label for label; no shot count
    /// applies.
    /// </summary>
    private static void CheckWholeSplits(TaskSpec task, RunData.TaskImages images)
    {
        var train = images.Pool!;
        CheckSameClasses(task, train, images.Test, "test");
        if (images.Validation is { } validation) CheckSameClasses(task, train, validation, "validation");
        if (images.SearchTrain is { } searchTrain) CheckSameClasses(task, train, searchTrain, "search-training");
    }

    /// <summary>
    /// Every (shots, seed) list must exist, parse, hold the shots its cells claim and name existing images of the test
    /// split's classes.
    /// </summary>
    private void CheckListedSplits(TaskSpec task, RunData.TaskImages images)
    {
        if (task.Data is ListFileSpec { TrainList: var pattern } &&
            !pattern.Contains("{seed}", StringComparison.Ordinal) && Recipe.Stage2.Seeds.Count > 1)
            Reporter.Info($"stage2 task '{task.Name}': its training lists name no {{seed}}, so its seeds share each " +
                          "split and differ only in initialisation and order.");
        CheckListPerShotCount(task);
        foreach (int shots in Recipe.Stage2.Shots)
            foreach (int seed in Recipe.Stage2.Seeds)
            {
                var (list, _, test) = data.Cell(task, new GridCell(task.Name, shots, seed, true));
                string listWhat = $"the training list for {shots} shots, seed {seed}";
                CheckListedShots(task, list, shots, seed);
                CheckSameClasses(task, list, test, "test", listWhat);
                if (images.Validation is { } listValidation)
                    CheckSameClasses(task, list, listValidation, "validation", listWhat);
            }
        if (Recipe.Stage2.Search is not null && images.Validation is null)
            throw new DatasetException("the search needs validation images, and its training lists are fixed, so " +
                                       "none can be carved from them; give the task a val list.");
    }

    /// <summary>
    /// A sampled task's pool: the test split's classes, and images enough per class for the shots and the search.
    /// </summary>
    private void CheckPool(TaskSpec task, RunData.TaskImages images, int mostShots)
    {
        var train = images.Pool!;
        CheckSameClasses(task, train, images.Test, "test");
        if (images.Validation is { } validation) CheckSameClasses(task, train, validation, "validation");
        var counts = train.ClassCounts();
        var short_ = Enumerable.Range(0, counts.Length).Where(c => counts[c] < mostShots).ToList();
        if (short_.Count > 0)
            throw new DatasetException(
                $"stage2 task '{task.Name}': the recipe asks for {mostShots} shots, but class " +
                string.Join(", ", short_.Take(5).Select(c =>
                    $"'{train.Classes[c]}' has {counts[c]} training image{(counts[c] == 1 ? "" : "s")}")) +
                $"{(short_.Count > 5 ? $" (and {short_.Count - 5} more classes)" : "")}. " +
                "Lower stage2.shots or add images.");
        if (Recipe.Stage2.Search is { } search && images.Validation is null &&
            counts.Min() < mostShots + search.ValPerClass)
        {
            int c = Array.IndexOf(counts, counts.Min());
            throw new DatasetException(
                $"stage2 task '{task.Name}': the search carves {search.ValPerClass} validation image(s) per class " +
                $"from the training images besides the {mostShots}-shot split, but class '{train.Classes[c]}' has " +
                $"{counts[c]}. Lower search.val_per_class, or give the task a val split.");
        }
    }

    /// <summary>
    /// Every stage-2 image's header (test, validation, the training pool or each listed split), before stage 1 trains:
    /// a damaged file would otherwise be found when its cell reads it, after hours of stage 1.
    /// </summary>
    private void CheckStageTwoImages()
    {
        foreach (var task in Recipe.Stage2.Tasks)
        {
            var images = data.Task(task);
            try
            {
                images.Test.CheckHeaders();
                images.Validation?.CheckHeaders();
                images.SearchTrain?.CheckHeaders();
                if (images.Pool is { } pool) pool.CheckHeaders();
                else
                    foreach (int shots in Recipe.Stage2.Shots)
                        foreach (int seed in Recipe.Stage2.Seeds)
                            data.Cell(task, new GridCell(task.Name, shots, seed, true)).Train.CheckHeaders();
            }
            catch (ImageReadException e)
            {
                throw new DatasetException(
                    $"stage2 task '{task.Name}': {e.Message} (found before training; fix or remove the image).");
            }
        }
    }

    /// <summary>
    /// Cells of different shot counts must not share one training list: a pattern without <c>{shots}</c> would train
    /// every shot count on the same file, and the table would show rows that all measured one split.
    /// </summary>
    private void CheckListPerShotCount(TaskSpec task)
    {
        if (task.Data is not ListFileSpec list) return;
        foreach (int seed in Recipe.Stage2.Seeds)
        {
            var shared = Recipe.Stage2.Shots.GroupBy(shots => list.TrainListFor(shots, seed))
                .FirstOrDefault(g => g.Count() > 1);
            if (shared is not null)
                throw new DatasetException(
                    $"its training list '{list.TrainList}' names no {{shots}}, so the " +
                    $"{string.Join("/", shared)}-shot cells of seed {seed} would all train on '{shared.Key}'. " +
                    "Put {shots} in the pattern (NOAH's: " +
                    "train_meta.list.num_shot_{shots}.seed_{seed}), or list only the shot count that file holds " +
                    "under stage2.shots.");
        }
    }

    /// <summary>
    /// A listed split must hold the shot count its cells claim, counted in distinct images per class (NOAH's lists may
    /// repeat lines): no class with more than <paramref name="shots"/>, and at least one with exactly that many (a
    /// class with fewer images than k may be short; a 4-shot file is not a 1-shot split, nor the reverse).
    /// </summary>
    private static void CheckListedShots(TaskSpec task, IImageDataset list, int shots, int seed)
    {
        string file = task.Data is ListFileSpec spec
            ? spec.TrainListFor(shots, seed)
            : $"the {shots}-shot list of seed {seed}";
        var distinct = Enumerable.Range(0, list.Count).GroupBy(list.LabelOf)
            .Select(g => (Class: g.Key, Images: g.Select(list.NameOf).Distinct(StringComparer.Ordinal).Count()))
            .ToList();
        if (distinct.Count == 0) return;
        var over = distinct.FirstOrDefault(c => c.Images > shots);
        if (over.Images > 0)
            throw new DatasetException(
                $"the training list '{file}' names {over.Images} images of class '{list.Classes[over.Class]}', " +
                $"but its cells are {shots}-shot: it is the split of another shot count. Check the list's name " +
                "against stage2.shots.");
        int most = distinct.Max(c => c.Images);
        if (most < shots)
            throw new DatasetException(
                $"the training list '{file}' names at most {most} image(s) per class, but its cells are " +
                $"{shots}-shot: it is the split of another shot count. Check the list's name against stage2.shots.");
    }

    /// <summary>
    /// The test (or validation) images must use the training images' classes, label for label: a list whose largest
    /// label exceeds the training one, or an ImageFolder with other class folders, would otherwise train and then fail
    /// (or, worse, score against other classes).
    /// </summary>
    private static void CheckSameClasses(TaskSpec task, IImageDataset train, IImageDataset other, string what,
        string trainWhat = "its training images")
    {
        if (other.Classes.SequenceEqual(train.Classes)) return;
        var extra = other.Classes.Except(train.Classes).Take(5).ToList();
        var missing = train.Classes.Except(other.Classes).Take(5).ToList();
        string detail = extra.Count > 0
            ? $"its {what} images have class(es) {string.Join(", ", extra.Select(c => $"'{c}'"))} that {trainWhat} lack"
            : missing.Count > 0
                ? $"its {what} images lack class(es) {string.Join(", ", missing.Select(c => $"'{c}'"))} of {trainWhat}"
                : $"its {what} images order their {other.Classes.Count} classes differently from {trainWhat}";
        throw new DatasetException(
            $"stage2 task '{task.Name}': {detail} (labels must mean the same classes in every split); for list files " +
            "give 'classes:' so that all count the same, for ImageFolder trees use the same class folders.");
    }
}
