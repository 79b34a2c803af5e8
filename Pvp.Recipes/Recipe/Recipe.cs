using Pvp.Training;

namespace Pvp.Recipe;

/// <summary>A training stage's settings in a recipe (stage 1, stage 2, or the backbone pre-training); <c>CheckpointEverySteps</c>
/// (<c>checkpoint_every_steps</c>, 0: at each epoch's end only) bounds the work a kill or preemption can lose.</summary>
public sealed record StageSettings(int Epochs, double LearningRate, int Batch, double WarmupEpochs, double WeightDecay,
    double LabelSmoothing, double ClipGrad, bool Augment, double EvalCrop = 1.0, int CheckpointEverySteps = 0)
{
    /// <summary>As trainer options, with the run's device, seed and loader workers.</summary>
    public TrainerOptions ToOptions(string device, int seed, int? workers) => new()
    {
        Epochs = Epochs, LearningRate = LearningRate, BatchSize = Batch, WarmupEpochs = WarmupEpochs, WeightDecay = WeightDecay,
        LabelSmoothing = LabelSmoothing, ClipGradNorm = ClipGrad, Augment = Augment, Device = device, Seed = seed,
        LoaderWorkers = workers, Resume = true, EvalCropFraction = EvalCrop, CheckpointEverySteps = CheckpointEverySteps,
    };
}

/// <summary>A downstream task of stage 2.</summary>
/// <param name="Name">Its name in results and folder names.</param>
/// <param name="Data">Where its train and test images come from.</param>
public sealed record TaskSpec(string Name, DatasetSpec Data);

/// <summary>Stage 2: the grid of tasks × shots × seeds, each from PVP's stage-1 modules and, as the baseline, from random ones.</summary>
public sealed record Stage2Section(IReadOnlyList<TaskSpec> Tasks, IReadOnlyList<int> Shots, IReadOnlyList<int> Seeds, bool Baseline, StageSettings Settings);

/// <summary>A PVP recipe: the variant, the backbone, the source data and both stages.</summary>
/// <param name="Path">The file it was read from (relative paths inside it are relative to its folder).</param>
/// <param name="Variant">A registered variant name.</param>
/// <param name="Device">auto, cpu, cuda or cuda:N.</param>
/// <param name="Output">The run folder.</param>
/// <param name="Seed">Seed of stage 1 and of the backbone pre-training.</param>
/// <param name="Workers">Loader threads (null: all cores).</param>
/// <param name="BackboneWeights">A pre-trained checkpoint, or null to pre-train the backbone on the source classes first.</param>
/// <param name="BackbonePretrain">Settings of that pre-training.</param>
/// <param name="Source">Stage 1's data.</param>
/// <param name="Stage1">Stage 1's settings.</param>
/// <param name="Stage2">Stage 2's grid and settings.</param>
public sealed record PvpRecipe(
    string Path, string Variant, string Device, string Output, int Seed, int? Workers,
    string? BackboneWeights, StageSettings BackbonePretrain, DatasetSpec Source, StageSettings Stage1, Stage2Section Stage2)
{
    /// <summary>The user's assemblies whose variants were loaded for this recipe (its <c>assemblies:</c>, built when a project is named).</summary>
    public IReadOnlyList<string> Assemblies { get; init; } = Array.Empty<string>();

    /// <summary>The frozen backbone's precision (<c>precision: auto | float32 | bf16</c>; auto: bf16 where the device computes it
    /// natively and the variant allows it).</summary>
    public Pvp.Precision.BackbonePrecision Precision { get; init; } = Pvp.Precision.BackbonePrecision.Auto;

    /// <summary>The most pixels one image may declare (<c>max_image_pixels</c>; default Pillow's 89,478,485): larger ones are
    /// refused before decoding, naming the file.</summary>
    public long MaxImagePixels { get; init; } = Pvp.Data.ImageCodec.DefaultMaxPixels;
}
