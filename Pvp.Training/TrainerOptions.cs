using Pvp.Optim;

namespace Pvp.Training;

/// <summary>The optimizer of a training run.</summary>
public enum OptimizerKind
{
    /// <summary>AdamW with decoupled decay (timm's and PVP's fine-tuning recipes).</summary>
    AdamW,
    /// <summary>SGD with momentum and L2 decay in the gradient (VPT's).</summary>
    Sgd,
}

/// <summary>How to train one model. Defaults follow VPT's few-shot settings scaled to small models.</summary>
public sealed record TrainerOptions
{
    /// <summary>Passes over the training set. Default 10.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Peak base learning rate (each parameter group scales it). Default 1e-3.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Weight decay for the groups that decay (see <see cref="Decay"/>). Default 1e-4.</summary>
    public double WeightDecay { get; init; } = 1e-4;

    /// <summary>Images per step. Default 32.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Epochs of linear warm-up before the cosine decay. Default 1.</summary>
    public double WarmupEpochs { get; init; } = 1;

    /// <summary>Clip the gradient's global L2 norm to this (0 = off). Default 1.</summary>
    public double ClipGradNorm { get; init; } = 1.0;

    /// <summary>Label smoothing of the cross-entropy, in [0, 1). Default 0.</summary>
    public double LabelSmoothing { get; init; }

    /// <summary><c>auto</c> (CUDA when available), <c>cpu</c> or <c>cuda</c>/<c>cuda:N</c>. Default auto.</summary>
    public string Device { get; init; } = "auto";

    /// <summary>Allow TF32 matrix products on CUDA (Ampere and later). Default true.</summary>
    public bool Tf32 { get; init; } = true;

    /// <summary>Seed of data order, augmentation and dropout. Default 0.</summary>
    public int Seed { get; init; }

    /// <summary>
    /// Augment training images as <see cref="Preprocessing"/> says (false:
    /// training images get the evaluation transform). Default true.
    /// </summary>
    public bool Augment { get; init; } = true;

    /// <summary>
    /// Normalisation, resize, crop and augmentation of training and evaluation images. Default
    /// <see cref="Data.Preprocessing.Pvp"/> (ImageNet statistics, the whole image, random-resized crop); a checkpoint's
    /// family has its own (<see cref="Data.Preprocessing.ForFamily"/>).
    /// </summary>
    public Data.Preprocessing Preprocessing { get; init; } = Data.Preprocessing.Pvp;

    /// <summary>The optimizer and how it treats the parameter groups. Default AdamW.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.AdamW;

    /// <summary>
    /// Which parameters take weight decay. Default <see cref="DecayRule.Pvp"/>
    /// (weights only); VPT's SGD decays all (<see cref="DecayRule.All"/>).
    /// </summary>
    public DecayRule Decay { get; init; } = DecayRule.Pvp;

    /// <summary>
    /// Change the learning rate once per epoch, as VPT's scheduler (see
    /// <see cref="LearningRateSchedule.EpochFactor"/>), instead of every step. Default false.
    /// </summary>
    public bool ScheduleByEpoch { get; init; }

    /// <summary>SGD's momentum (with <see cref="OptimizerKind.Sgd"/>). Default 0.9, VPT's.</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>Write a checkpoint every this many steps (0 = only at epoch ends). Default 0.</summary>
    public int CheckpointEverySteps { get; init; }

    /// <summary>Continue from the run folder's last checkpoint, if there is one. Default false.</summary>
    public bool Resume { get; init; }

    /// <summary>Evaluate on the evaluation set after every epoch (otherwise only at the end). Default false.</summary>
    public bool EvaluateEachEpoch { get; init; }

    /// <summary>
    /// Stochastic depth in the blocks during this run (<see cref="PetModel.DropPathRate"/>, timm's linear schedule over
    /// depth), in [0, 1); the model's own rate is restored afterwards. Default 0 (off).
    /// </summary>
    public double DropPathRate { get; init; }

    /// <summary>
    /// timm's mixup / CutMix on each training batch (<see cref="Data.Mixup"/>), with the soft-target cross-entropy as
    /// the loss; null (the default): off. It smooths its own targets, so <see cref="LabelSmoothing"/> must be 0 with it,
    /// and <see cref="BatchSize"/> even (timm's batch mode pairs each image with its mirror in the batch, and asserts an
    /// even batch) unless the whole training set is one batch, as a small k-shot set is: an odd one then pairs its
    /// middle image with itself, and the run says so. It mixes whatever <see cref="Augment"/> says (that switch is the
    /// per-image transform's). Evaluation is unaffected.
    /// </summary>
    public Data.Mixup? Mixup { get; init; }

    /// <summary>Decoding threads of the loader (default: all cores).</summary>
    public int? LoaderWorkers { get; init; }

    /// <summary>Checks the values; the message names the option and the allowed range.</summary>
    public void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException(message);
        }
        Require(Epochs >= 1, $"Epochs = {Epochs}: must be at least 1.");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), $"LearningRate = {LearningRate}: must be positive.");
        Require(WeightDecay >= 0, $"WeightDecay = {WeightDecay}: must not be negative.");
        Require(BatchSize >= 1, $"BatchSize = {BatchSize}: must be at least 1.");
        Require(WarmupEpochs >= 0, $"WarmupEpochs = {WarmupEpochs}: must not be negative.");
        Require(ClipGradNorm >= 0, $"ClipGradNorm = {ClipGradNorm}: must not be negative (0 turns clipping off).");
        Require(LabelSmoothing is >= 0 and < 1, $"LabelSmoothing = {LabelSmoothing}: must be in [0, 1).");
        Require(DropPathRate is >= 0 and < 1, $"DropPathRate = {DropPathRate}: must be in [0, 1).");
        Require(Momentum is >= 0 and < 1, $"Momentum = {Momentum}: must be in [0, 1).");
        Preprocessing.Validate();
        if (Mixup is { } mixup)
        {
            mixup.Validate();
            Require(LabelSmoothing == 0, $"LabelSmoothing = {LabelSmoothing} with Mixup: mixup smooths its own targets; " +
                                         "set Mixup.LabelSmoothing instead and LabelSmoothing to 0.");
        }
        Require(CheckpointEverySteps >= 0, $"CheckpointEverySteps = {CheckpointEverySteps}: must not be negative.");
    }
}
