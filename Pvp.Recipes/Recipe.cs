using Pvp.Training.Data;
using Pvp.Training;
using Pvp.MixedPrecision;
using Pvp.Optim;

namespace Pvp.Recipes;

/// <summary>A training stage's settings in a recipe (stage 1, stage 2, or the backbone pre-training);
/// <c>CheckpointEverySteps</c> (<c>checkpoint_every_steps</c>, 0: at each epoch's end only) bounds the work a kill or
/// preemption can lose.</summary>
/// <param name="Epochs">Passes over the training set.</param>
/// <param name="LearningRate">
/// The base learning rate (<c>lr</c>); with <see cref="ScaleLrByBatch"/> the one applied is lr · batch / 256.
/// </param>
/// <param name="Batch">Images per step.</param>
/// <param name="WarmupEpochs">Linear warm-up before the cosine decay.</param>
/// <param name="WeightDecay">Weight decay (see <see cref="Decay"/>).</param>
/// <param name="LabelSmoothing">Label smoothing.</param>
/// <param name="ClipGrad">Gradient-norm clip (0: off).</param>
/// <param name="Augment">
/// Training augmentation on or off; null: on, except for the built-in images (rendered at the model's size).
/// </param>
/// <param name="CheckpointEverySteps">Steps between checkpoints (0: epoch ends only).</param>
public sealed record StageSettings(int Epochs, double LearningRate, int Batch, double WarmupEpochs, double WeightDecay,
    double LabelSmoothing, double ClipGrad, bool? Augment, int CheckpointEverySteps = 0)
{
    /// <summary><c>optimizer: adamw | sgd</c>.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.AdamW;

    /// <summary><c>momentum</c> of SGD.</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>
    /// <c>lr_scaling: batch/256</c>: the applied learning rate is lr · batch / 256, as VPT's <c>train.py</c> scales it.
    /// </summary>
    public bool ScaleLrByBatch { get; init; }

    /// <summary><c>decay: weights | all</c>: which parameters take weight decay.</summary>
    public DecayRule Decay { get; init; } = DecayRule.Pvp;

    /// <summary>
    /// <c>schedule: per_step | per_epoch</c>: warm-up and cosine move every step (timm) or once per epoch (VPT).
    /// </summary>
    public bool ScheduleByEpoch { get; init; }

    /// <summary>
    /// <c>drop_path</c>: stochastic depth in the blocks while training
    /// (<see cref="PetModel.DropPathRate"/>). Default 0 (off).
    /// </summary>
    public double DropPath { get; init; }

    /// <summary>
    /// <c>mixup: {{ mixup_alpha, cutmix_alpha, prob, switch_prob, label_smoothing }}</c>: timm's mixup / CutMix on
    /// each training batch with soft targets (<see cref="Pvp.Training.Data.Mixup"/>), or null: off.
    /// </summary>
    public Pvp.Training.Data.Mixup? Mixup { get; init; }

    /// <summary>
    /// The learning rate applied: lr, or with <see cref="ScaleLrByBatch"/> lr
    /// · batch / 256 at the configured batch, as VPT's <c>tune_fgvc.py</c>.
    /// </summary>
    public double AppliedLearningRate() => ScaleLrByBatch ? LearningRate * Batch / 256.0 : LearningRate;

    /// <summary>
    /// As trainer options, with the run's device, seed, loader workers,
    /// preprocessing and whether the data wants augmentation by default.
    /// </summary>
    public TrainerOptions ToOptions(
        string device, int seed, int? workers, Preprocessing preprocessing, bool augmentByDefault)
        => new()
    {
        Epochs = Epochs, LearningRate = AppliedLearningRate(), BatchSize = Batch, WarmupEpochs = WarmupEpochs,
        WeightDecay = WeightDecay, LabelSmoothing = LabelSmoothing, ClipGradNorm = ClipGrad,
        Augment = Augment ?? augmentByDefault, Device = device, Seed = seed, LoaderWorkers = workers, Resume = true,
        Preprocessing = preprocessing, CheckpointEverySteps = CheckpointEverySteps, Optimizer = Optimizer,
        Momentum = Momentum, Decay = Decay, ScheduleByEpoch = ScheduleByEpoch, DropPathRate = DropPath,
        Mixup = Mixup,
    };
}

/// <summary>
/// Stage 2's per-task hyper-parameter search, VPT's protocol: every (lr, weight decay) pair trains on the
/// cell's training images and is scored on validation images; the best top-1 is the setting reported on test.
/// </summary>
/// <param name="LearningRates">Base learning rates tried (before <c>lr_scaling</c>).</param>
/// <param name="WeightDecays">Weight decays tried.</param>
/// <param name="ValPerClass">
/// When the task has no validation split: images per class carved, seeded,
/// from the training pool, disjoint from the cell's training images.
/// </param>
public sealed record SearchSpec(
    IReadOnlyList<double> LearningRates, IReadOnlyList<double> WeightDecays, int ValPerClass)
{
    /// <summary>Every pair, learning rates outer (the order ties are broken in).</summary>
    public IReadOnlyList<SearchSetting> Settings() =>
        (from lr in LearningRates from wd in WeightDecays select new SearchSetting(lr, wd)).ToList();

    /// <summary>
    /// <c>strategy: full | halving</c>: every setting trained for the stage's epochs (VPT's protocol, the default), or
    /// successive halving (<see cref="Rounds"/>).
    /// </summary>
    public SearchStrategy Strategy { get; init; } = SearchStrategy.Full;

    /// <summary><c>eta</c> of successive halving: each round keeps the best 1/η and multiplies the budget by η.</summary>
    public int Eta { get; init; } = 3;

    /// <summary>
    /// <c>first_budget</c> of successive halving: the fewest epochs the first round may train for (its budget is
    /// epochs / η<sup>s</sup> rounded, for the most promotions s that keep it at least this).
    /// </summary>
    public int FirstBudget { get; init; }

    /// <summary>
    /// The rounds the search runs for a stage of <paramref name="epochs"/> epochs: one round of every setting at
    /// <paramref name="epochs"/> for the full grid; for successive halving (Jamieson &amp; Talwalkar 2016; one bracket of
    /// Li et al.'s Hyperband, whose budgets r<sub>i</sub> = R·η<sup>i−s</sup> and counts n<sub>i</sub> =
    /// ⌊n·η<sup>−i</sup>⌋ these are), s = the most promotions with epochs / η<sup>s</sup> ≥ first_budget, round i trains
    /// n<sub>i</sub> settings (n<sub>0</sub> all of them, n<sub>i+1</sub> = max(1, ⌊n<sub>i</sub>/η⌋)) for
    /// round(epochs / η<sup>s−i</sup>) epochs, and the last round always trains for <paramref name="epochs"/>. Once one
    /// setting is left the next round is the last.
    /// </summary>
    public IReadOnlyList<SearchRound> Rounds(int epochs)
    {
        int n = LearningRates.Count * WeightDecays.Count;
        if (Strategy == SearchStrategy.Full || n == 1) return new[] { new SearchRound(0, n, epochs) };
        int promotions = 0;
        for (long budget = (long)FirstBudget * Eta; budget <= epochs; budget *= Eta) promotions++;
        var rounds = new List<SearchRound>();
        for (int i = 0; i <= promotions; i++)
        {
            int budget = i == promotions
                ? epochs
                : Math.Max(1, (int)Math.Round(epochs / Math.Pow(Eta, promotions - i), MidpointRounding.AwayFromZero));
            rounds.Add(new SearchRound(rounds.Count, n, budget));
            if (i == promotions) break;
            n = Math.Max(1, n / Eta);
            if (n == 1 && i + 1 < promotions)
            {
                rounds.Add(new SearchRound(rounds.Count, 1, epochs)); // one setting left: nothing to compare, go to the end
                break;
            }
        }
        return rounds;
    }

    /// <summary>The strategy in one line, e.g. <c>halving (eta 3, first_budget 10): 36 × 11 epochs → 12 × 33 → 4 × 100</c>.</summary>
    public string Describe(int epochs)
    {
        var rounds = Rounds(epochs);
        string steps = string.Join(" → ", rounds.Select((r, i) => i == 0 ? $"{r.Settings} × {r.Epochs} epochs" : $"{r.Settings} × {r.Epochs}"));
        return Strategy == SearchStrategy.Full
            ? $"full grid: {steps}"
            : $"halving (eta {Eta}, first_budget {FirstBudget}): {steps}";
    }
}

/// <summary>How a stage-2 search spends its budget (<c>search.strategy</c>).</summary>
public enum SearchStrategy
{
    /// <summary>Every setting for the stage's epochs (VPT's protocol; the default).</summary>
    Full,

    /// <summary>Successive halving: all settings for a few epochs, the best 1/η again with η times as many, and so on.</summary>
    Halving,
}

/// <summary>One round of a stage-2 search: how many settings it trains and for how many epochs.</summary>
/// <param name="Index">0 for the first round.</param>
/// <param name="Settings">Settings trained in this round (the survivors of the round before).</param>
/// <param name="Epochs">Epochs each trains for, from scratch (a restart: see the README's search section).</param>
public sealed record SearchRound(int Index, int Settings, int Epochs);

/// <summary>
/// The recipe's <c>preprocess:</c> section: a preset (or <c>checkpoint</c>, the
/// default: the family of <c>backbone.weights</c>) and the fields it overrides.
/// </summary>
public sealed record PreprocessSpec(string Preset, (float, float, float)? Mean = null,
    (float, float, float)? Std = null, double? CropFraction = null,
    ResizeMode? Resize = null, Interpolation? Interpolation = null, TrainAugmentation? Augmentation = null,
    double? Flip = null)
{
    /// <summary>The checkpoint's family decides.</summary>
    public static PreprocessSpec FromCheckpoint { get; } = new("checkpoint");

    /// <summary>
    /// <c>random_erasing: P</c>: timm's random erasing (pixel mode) with probability P on training images (NOAH's
    /// few-shot: 0.25), or null: off.
    /// </summary>
    public double? RandomErasing { get; init; }

    /// <summary>
    /// <c>rand_augment: CONFIG</c>: timm's RandAugment from its config string (NOAH's few-shot:
    /// <c>rand-m9-mstd0.5-inc1</c>) on training images, or null: off.
    /// </summary>
    public RandAugment? RandAugment { get; init; }

    /// <summary>Whether any field is overridden.</summary>
    public bool Overrides =>
        RandomErasing is not null || RandAugment is not null || Mean is not null || Std is not null || CropFraction is not null || Resize is not null
        || Interpolation is not null || Augmentation is not null || Flip is not null;

    /// <summary>
    /// The settings: the preset's (or <paramref name="family"/>'s,
    /// for <c>checkpoint</c>) with this section's fields applied.
    /// </summary>
    public Preprocessing Resolve(Preprocessing family)
    {
        var start = Preset == "checkpoint" ? family : Preprocessing.Presets[Preset];
        var result = start with
        {
            Name = Overrides ? start.Name + " + recipe overrides" : start.Name,
            Mean = Mean ?? start.Mean, Std = Std ?? start.Std, CropFraction = CropFraction ?? start.CropFraction,
            Resize = Resize ?? start.Resize, Interpolation = Interpolation ?? start.Interpolation,
            Augmentation = Augmentation ?? start.Augmentation, FlipProbability = Flip ?? start.FlipProbability,
            Erasing = RandomErasing is > 0 and var p ? new Pvp.Training.Data.RandomErasing(p) : start.Erasing,
            RandAugment = RandAugment ?? start.RandAugment,
        };
        result.Validate();
        return result;
    }
}

/// <summary>A downstream task of stage 2.</summary>
/// <param name="Name">Its name in results and folder names.</param>
/// <param name="Data">Where its train and test images come from.</param>
public sealed record TaskSpec(string Name, DatasetSpec Data)
{
    /// <summary>
    /// The task's group in the report (<c>group:</c>, e.g. VTAB-1k's <c>natural</c>, <c>specialized</c>,
    /// <c>structured</c>), or null. With groups, the report adds each group's mean, the mean over tasks and the mean of
    /// the group means.
    /// </summary>
    public string? Group { get; init; }

    /// <summary>
    /// <c>flip: false</c> turns the horizontal flip of stage 2's training augmentation off for this task (digits, text,
    /// orientation labels such as dSprites'); null or true: the preprocessing's flip.
    /// </summary>
    public bool? Flip { get; init; }
}

/// <summary>
/// Stage 2: the grid of tasks × shots × seeds, each from PVP's stage-1 modules and, as the baseline, from random ones.
/// </summary>
public sealed record Stage2Section(IReadOnlyList<TaskSpec> Tasks, IReadOnlyList<int> Shots, IReadOnlyList<int> Seeds,
    bool Baseline, StageSettings Settings)
{
    /// <summary>
    /// The per-task (lr, weight decay) search (<c>search:</c>), or
    /// null: every cell trains with <see cref="Settings"/> as given.
    /// </summary>
    public SearchSpec? Search { get; init; }
}

/// <summary>A PVP recipe: the variant (or variants), the backbone, the source data and both stages.</summary>
/// <param name="Path">The file it was read from (relative paths inside it are relative to its folder).</param>
/// <param name="Variant">A registered variant name: the recipe's only one, or the first of <see cref="Variants"/>.</param>
/// <param name="Device">auto, cpu, cuda or cuda:N.</param>
/// <param name="Output">The run folder.</param>
/// <param name="Seed">Seed of stage 1 and of the backbone pre-training.</param>
/// <param name="Workers">Loader threads (null: all cores).</param>
/// <param name="BackboneWeights">
/// A pre-trained checkpoint, or null to pre-train the backbone on the source classes first.
/// </param>
/// <param name="BackbonePretrain">Settings of that pre-training.</param>
/// <param name="Source">Stage 1's data.</param>
/// <param name="Stage1">Stage 1's settings.</param>
/// <param name="Stage2">Stage 2's grid and settings.</param>
public sealed record PvpRecipe(
    string Path, string Variant, string Device, string Output, int Seed, int? Workers,
    string? BackboneWeights, StageSettings BackbonePretrain, DatasetSpec Source, StageSettings Stage1, Stage2Section Stage2)
{
    /// <summary>
    /// The user's assemblies, projects or project folders whose variants this recipe uses (its <c>assemblies:</c>,
    /// resolved against its folder). Reading the recipe loads none of them:
    /// <see cref="VariantSources.Load(PvpRecipe, Action{string})"/> builds and loads them.
    /// </summary>
    public IReadOnlyList<string> Assemblies { get; init; } = Array.Empty<string>();

    /// <summary>
    /// Every variant the recipe runs, side by side (<c>variants: [A, B, …]</c>), in its order; for a recipe that names
    /// one (<c>variant: NAME</c>), just <see cref="Variant"/>. They share one backbone, made or loaded once; each has
    /// its own stage 1 and stage-2 grid.
    /// </summary>
    public IReadOnlyList<string> Variants
    {
        get => variants is { Count: > 0 } ? variants : new[] { Variant };
        init => variants = value;
    }

    private readonly IReadOnlyList<string>? variants;

    /// <summary>
    /// Whether the recipe names its variants with <c>variants:</c> (even one): then stage 1 of each lives in
    /// <c>stage1/{variant}/</c>, its cells in <c>stage2/{variant}/{task}/…</c>, and every cell id starts with its
    /// variant (<see cref="GridCell.Variant"/>). A <c>variant:</c> recipe keeps the one-variant layout and ids.
    /// </summary>
    public bool NamesVariants { get; init; }

    /// <summary>
    /// The recipe as one of its variants runs it: that variant alone, still laid out as a <c>variants:</c> recipe
    /// when this one is.
    /// </summary>
    /// <exception cref="ArgumentException">The recipe does not name <paramref name="variant"/>.</exception>
    public PvpRecipe ForVariant(string variant) =>
        Variants.Contains(variant, StringComparer.Ordinal)
            ? this with { Variant = variant, Variants = new[] { variant } }
            : throw new ArgumentException(
                $"The recipe runs no variant '{variant}'; its variants are {string.Join(", ", Variants)}.",
                nameof(variant));

    /// <summary>Where the recipe names its assemblies, variant and precision, for the errors of loading them.</summary>
    internal RecipeMarks? Marks { get; init; }

    /// <summary>The frozen backbone's precision (<c>precision: auto | float32 | bf16</c>;
    /// auto: bf16 where the device computes it natively and the variant allows it).</summary>
    public BackbonePrecision Precision { get; init; } = BackbonePrecision.Auto;

    /// <summary>The most pixels one image may declare (<c>max_image_pixels</c>; default Pillow's
    /// 89,478,485): larger ones are refused before decoding, naming the file.</summary>
    public long MaxImagePixels { get; init; } = Pvp.Training.Data.ImageCodec.DefaultMaxPixels;

    /// <summary>
    /// Normalisation, resize, crop and augmentation (<c>preprocess:</c>; default: the backbone checkpoint's family).
    /// </summary>
    public PreprocessSpec Preprocess { get; init; } = PreprocessSpec.FromCheckpoint;

    /// <summary>
    /// Where TensorBoard event files go (<c>tensorboard: true</c>: <c>{output}/tensorboard</c>; <c>pvp
    /// … --tensorboard DIR</c>), one run folder per stage and per cell; null: none are written.
    /// </summary>
    public string? TensorBoard { get; init; }
}

/// <summary>
/// Where a recipe file names what is checked after reading it (<c>file:line:column</c>): each <c>assemblies:</c>
/// entry, each variant, and the precision (null when not given).
/// </summary>
internal sealed record RecipeMarks(IReadOnlyList<string> Assemblies, IReadOnlyList<string> Variants, string? Precision)
{
    /// <summary>Where the recipe names its (first) variant.</summary>
    public string Variant => Variants[0];
}
