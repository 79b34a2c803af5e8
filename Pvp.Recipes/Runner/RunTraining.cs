using Pvp.Training.Data;
using Pvp.Training;
using Pvp.MixedPrecision;

namespace Pvp.Recipes.Runner;

/// <summary>
/// How a run builds and trains its models: the variant on the recipe's device and precision, a stage's trainer options
/// and a cell's settings, and <see cref="Trainer.Fit"/> with an interruption turned into a cancellation.
/// </summary>
internal sealed class RunTraining(RunContext run)
{
    /// <summary>How the backbone pre-training is named to the reporter and in messages.</summary>
    public const string BackboneRun = "backbone";

    /// <summary>How stage 1 is named to the reporter and in messages.</summary>
    public const string StageOneRun = "stage 1";

    private PvpRecipe Recipe => run.Recipe;

    /// <summary>
    /// The recipe's variant, built for the recipe's device in the recipe's precision (auto: the device decides).
    /// </summary>
    public PetModel CreateModel(int classes) =>
        VariantRegistry.Create(Recipe.Variant, classes, Devices.Resolve(Recipe.Device), precision: Recipe.Precision);

    /// <summary>The recipe's variant in the precision a finished cell was trained in (its result records it).</summary>
    public PetModel CreateModel(int classes, CellResult trainedAs) =>
        VariantRegistry.Create(Recipe.Variant, classes, Devices.Resolve(Recipe.Device),
            precision: PrecisionOf(trainedAs));

    /// <summary>The precision a finished cell was trained in, whatever this host would choose now.</summary>
    public BackbonePrecision PrecisionOf(CellResult result) =>
        run.Variant.AllowsBf16Backbone
            ? result.Precision == "bf16"
                ? BackbonePrecision.Bf16
                : BackbonePrecision.Float32
            : Recipe.Precision;

    /// <summary>
    /// Trainer options of a stage on <paramref name="data"/> (the built-in images, rendered at the model's size, are
    /// not augmented unless the stage says so).
    /// </summary>
    public TrainerOptions OptionsFor(StageSettings settings, int seed, DatasetSpec data) =>
        settings.ToOptions(Recipe.Device, seed, Recipe.Workers, run.Preprocessing,
            augmentByDefault: data is not BuiltinDatasetSpec);

    /// <summary>
    /// Trainer options of a stage-2 cell of <paramref name="task"/>: <see cref="OptionsFor"/> with stage 2's
    /// preprocessing for that task (<see cref="RunContext.StageTwoPreprocessing"/>).
    /// </summary>
    public TrainerOptions CellOptionsFor(StageSettings settings, int seed, TaskSpec task) =>
        OptionsFor(settings, seed, task.Data) with { Preprocessing = run.StageTwoPreprocessing(task) };

    /// <summary>What stage 2 trains <paramref name="task"/>'s cells with, in one line: the run output's header and <c>result.json</c> say it.</summary>
    public string DescribeCellTraining(TaskSpec task)
    {
        var options = CellOptionsFor(Recipe.Stage2.Settings, 0, task);
        return options.Preprocessing.Describe(run.ImageSize) + (options.Augment ? "" : " (training augmentation off)")
            + (options.Mixup is { } mixup ? $"; batches: {mixup.Describe()}" : "");
    }

    /// <summary>
    /// The stage-2 settings a cell trains with: a search cell's lr and weight decay in place of the recipe's, or those
    /// its search <paramref name="chosen"/> for a final cell that trains again after the search (VTAB-1k). A
    /// successive-halving round's setting trains for its own epochs, with the warm-up scaled by the same share (a
    /// restart with a shorter schedule of the same shape).
    /// </summary>
    public StageSettings CellSettings(GridCell cell, SearchSetting? chosen = null) =>
        SettingsFor(Recipe.Stage2.Settings, cell.Search ?? chosen);

    /// <summary>Stage 2's <paramref name="stage"/> settings with <paramref name="setting"/>'s lr, decay and epochs.</summary>
    public static StageSettings SettingsFor(StageSettings stage, SearchSetting? setting) => setting switch
    {
        null => stage,
        { Epochs: { } epochs } when epochs != stage.Epochs => stage with
        {
            LearningRate = setting.LearningRate, WeightDecay = setting.WeightDecay, Epochs = epochs,
            WarmupEpochs = stage.WarmupEpochs * epochs / stage.Epochs,
        },
        _ => stage with { LearningRate = setting.LearningRate, WeightDecay = setting.WeightDecay },
    };

    /// <summary>Trains <paramref name="model"/>, checkpointing in <paramref name="folder"/>.</summary>
    /// <exception cref="OperationCanceledException">
    /// Interrupted: the checkpoint is kept and the same command continues.
    /// </exception>
    public TrainingResult Fit(PetModel model, IImageDataset train, IImageDataset test, TrainerOptions options,
        string folder, string name, CancellationToken cancellationToken)
    {
        var observer = run.Reporter.Observer(name, gridCell: name != BackboneRun && name != StageOneRun);
        var board = new TensorBoardRuns(run).For(folder, name, options);
        var result = Trainer.Fit(model, train, test, options, folder,
            board is null ? observer : new FanOutObserver(observer, board), cancellationToken);
        if (board is not null && result.Evaluation is { } evaluation) board.Evaluation(evaluation, result.Steps);
        if (result.Outcome == TrainingOutcome.Interrupted)
            throw new OperationCanceledException(
                $"Interrupted during {name} at step {result.Steps}; its checkpoint is in '{folder}'. " +
                "Run the same command again to continue.");
        return result;
    }

    /// <summary>
    /// Evaluates <paramref name="model"/> on <paramref name="test"/> with stage 2's batch and the run's preprocessing.
    /// </summary>
    public EvaluationResult Evaluate(PetModel model, IImageDataset test) =>
        Trainer.Evaluate(model, test, Recipe.Stage2.Settings.Batch, Recipe.Workers, run.Preprocessing);
}
