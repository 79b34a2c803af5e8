using System.Globalization;
using Pvp.Training.Data;
using Pvp.Training;

namespace Pvp.Recipes.Runner;

/// <summary>
/// What each stage and cell records as made by this recipe (see <see cref="Fingerprint"/>): the Pvp version, the
/// variant's declaration, the preprocessing, the settings that change results, the upstream files' and the datasets'
/// contents. A dataset's component is computed once per runner, since status and report fingerprint every cell.
/// </summary>
internal sealed class RunFingerprints(
    RunContext run, RunData data, RunTraining training, Dictionary<string, string>? sharedComponents = null)
{
    /// <summary>
    /// The component stage 2 does not recompute: reading the source data (ImageNet, say) in every cell would cost
    /// minutes.
    /// </summary>
    public const string SourceDataComponent = "source.data";

    // What a dataset holds does not depend on the variant: every variant of a run shares these.
    private readonly Dictionary<string, string> dataComponents = sharedComponents ?? new(StringComparer.Ordinal);

    private PvpRecipe Recipe => run.Recipe;
    private RunLayout Layout => run.Layout;
    /// <summary>
    /// The one version Pvp records (ONNX metadata, checkpoints, fingerprints): the runtime's, without a source suffix.
    /// </summary>
    private static string PvpVersion => PetModel.PvpVersion;

    /// <summary>The backbone pre-training's, with or without the source data's contents.</summary>
    public Fingerprint Backbone(bool withSourceData = true)
    {
        var components = new Dictionary<string, string>
        {
            ["pvp"] = PvpVersion,
            ["backbone"] = run.Variant.Backbone.ToString(),
            ["seed"] = Recipe.Seed.ToString(CultureInfo.InvariantCulture),
            ["source"] = Recipe.Source.Describe(), // what stage 2 compares, cheaply, in place of the contents
            ["preprocessing"] = run.Preprocessing.Describe(run.ImageSize),
        };
        if (withSourceData) components[SourceDataComponent] = SourceComponent();
        AddSettings(components, "backbone.pretrain", Recipe.BackbonePretrain);
        return new Fingerprint(components);
    }

    /// <summary>Stage 1's, with or without the source data's contents.</summary>
    public Fingerprint StageOne(bool withSourceData = true)
    {
        var components = Declaration();
        components["backbone.weights"] = Fingerprint.HashFile(Layout.BackbonePath);
        components["source"] = Recipe.Source.Describe(); // what stage 2 compares, cheaply, in place of the contents
        if (withSourceData) components[SourceDataComponent] = SourceComponent();
        AddSettings(components, "stage1", Recipe.Stage1);
        components["seed"] = Recipe.Seed.ToString(CultureInfo.InvariantCulture);
        return new Fingerprint(components);
    }

    /// <summary>A stage-2 cell's.</summary>
    public Fingerprint Cell(GridCell cell)
    {
        var task = Recipe.Stage2.Tasks.First(t => t.Name == cell.Task);
        var images = data.Task(task);
        var components = Declaration();
        string backbone = Layout.BackbonePath, petuning = Layout.PetuningPath;
        components["backbone.weights"] = File.Exists(backbone) ? Fingerprint.HashFile(backbone) : "(absent)";
        if (cell.PvpInit)
            components["stage1.modules"] = File.Exists(petuning) ? Fingerprint.HashFile(petuning) : "(absent)";
        // The pool a sampled split is drawn (and a validation set carved) from, or the cell's own listed file; hashed
        // once per runner, since status and report fingerprint every cell of a grid.
        components["task.data"] = images.Pool is { } pool
            ? Once($"data:{task.Name}", () => DataComponent(task.Data, pool, images.Test))
            : Once($"data:{task.Name}:{cell.Shots}:{cell.Seed}",
                () => DataComponent(task.Data, data.Cell(task, cell).Train, images.Test));
        if (cell.Search is not null && images.SearchTrain is { } searchTrain)
            components["task.search_train"] = Once($"search-train:{task.Name}",
                () => $"{searchTrain.Count} images, contents {Fingerprint.HashDataset(searchTrain)}");
        // it seeds the cell
        components["task.position"] = Recipe.Stage2.Tasks.ToList().IndexOf(task).ToString(CultureInfo.InvariantCulture);
        AddSettings(components, "stage2", training.CellSettings(cell));
        // Only where stage 2 trains otherwise than the run's preprocessing says: the fingerprints of cells that do not
        // augment (the quick start's) stay as they were.
        if (run.StageTwoPreprocessing(task) is var tuning && tuning != run.Preprocessing)
            components["stage2.preprocessing"] = tuning.Describe(run.ImageSize);
        if (Recipe.Stage2.Search is { } search)
        {
            var invariant = CultureInfo.InvariantCulture;
            components["search.validation"] = images.Validation is { } validation
                ? Once($"validation:{task.Name}",
                    () => $"the task's, {validation.Count} images, contents {Fingerprint.HashDataset(validation)}")
                : $"{search.ValPerClass.ToString(invariant)} per class carved from the training pool";
            if (cell.Search is null)
            {
                components["search.grid"] = string.Join(", ", search.Settings().Select(x => x.Id));
                // Only for halving: the full grid's fingerprints stay what they were.
                if (search.Strategy != SearchStrategy.Full)
                    components["search.strategy"] = search.Describe(Recipe.Stage2.Settings.Epochs);
            }
        }
        components["cell"] = cell.Id;
        return new Fingerprint(components);
    }

    /// <summary>
    /// What differs between the fingerprint <paramref name="cell"/>'s folder records and this recipe's (or that it
    /// records none); empty when they agree.
    /// </summary>
    public IReadOnlyList<string> CellDifferences(GridCell cell) =>
        Fingerprint.Load(Layout.CellFolder(cell)) is { } recorded
            ? Cell(cell).DifferencesFrom(recorded)
            : new[] { "it records no fingerprint" };

    private Dictionary<string, string> Declaration() => new()
    {
        ["pvp"] = PvpVersion,
        ["variant"] = Recipe.Variant,
        ["variant.declaration"] = $"{run.Variant.Backbone}; {string.Join("; ", run.Variant.Attachments)}",
        ["precision"] = Recipe.Precision.ToString(),
        ["preprocessing"] = run.Preprocessing.Describe(run.ImageSize),
    };

    /// <summary>
    /// A stage's settings, one component per field that changes results (not how often checkpoints are written).
    /// </summary>
    private static void AddSettings(Dictionary<string, string> components, string prefix, StageSettings s)
    {
        var invariant = CultureInfo.InvariantCulture;
        components[$"{prefix}.epochs"] = s.Epochs.ToString(invariant);
        components[$"{prefix}.lr"] = s.LearningRate.ToString("R", invariant);
        components[$"{prefix}.batch"] = s.Batch.ToString(invariant);
        components[$"{prefix}.warmup"] = s.WarmupEpochs.ToString("R", invariant);
        components[$"{prefix}.weight_decay"] = s.WeightDecay.ToString("R", invariant);
        components[$"{prefix}.label_smoothing"] = s.LabelSmoothing.ToString("R", invariant);
        components[$"{prefix}.clip_grad"] = s.ClipGrad.ToString("R", invariant);
        components[$"{prefix}.augment"] = s.Augment switch { true => "true", false => "false", null => "default" };
        components[$"{prefix}.optimizer"] = s.Optimizer == OptimizerKind.Sgd
            ? $"sgd, momentum {s.Momentum.ToString("R", invariant)}"
            : "adamw";
        components[$"{prefix}.lr_scaling"] = s.ScaleLrByBatch ? "batch/256" : "none";
        components[$"{prefix}.decay"] = s.Decay.ToString();
        components[$"{prefix}.schedule"] = s.ScheduleByEpoch ? "per epoch" : "per step";
        // Only when on, so the fingerprints of runs without them stay as they were.
        if (s.DropPath > 0) components[$"{prefix}.drop_path"] = s.DropPath.ToString("R", invariant);
        if (s.Mixup is { } mixup) components[$"{prefix}.mixup"] = mixup.Describe();
    }

    /// <summary>
    /// What a dataset holds, not where it is mounted: its kind, classes and images (see
    /// <see cref="Fingerprint.HashDataset"/>).
    /// </summary>
    private static string DataComponent(DatasetSpec spec, IImageDataset train, IImageDataset test) =>
        $"{spec.GetType().Name.Replace("Spec", "", StringComparison.Ordinal)}, {train.Classes.Count} classes, " +
        $"{train.Count} train / {test.Count} test images, " +
        $"contents {Fingerprint.HashDataset(train)} / {Fingerprint.HashDataset(test)}";

    private string SourceComponent() => Once(SourceDataComponent, () =>
    {
        var (train, test) = data.Source();
        return DataComponent(Recipe.Source, train, test);
    });

    /// <summary>
    /// A dataset's fingerprint component, computed once per runner (the datasets it describes are read once too).
    /// </summary>
    private string Once(string key, Func<string> make) =>
        dataComponents.TryGetValue(key, out string? value) ? value : dataComponents[key] = make();
}
