namespace Pvp.Training;

/// <summary>How to train one model. Defaults follow VPT's few-shot settings scaled to small models.</summary>
public sealed record TrainerOptions
{
    /// <summary>Passes over the training set. Default 10.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Peak base learning rate (each parameter group scales it). Default 1e-3.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>AdamW weight decay for the groups that decay. Default 1e-4.</summary>
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

    /// <summary>Random-resized-crop and flip while training (off for images already at the model's size, e.g. the built-in set). Default true.</summary>
    public bool Augment { get; init; } = true;

    /// <summary>
    /// Evaluation crop: the centre square's share of the short side before resizing to the model's size. 1 (default)
    /// keeps the whole square, right for images already at the model's size; timm evaluates ImageNet-style photos
    /// at 0.875 (resize 256, crop 224).
    /// </summary>
    public double EvalCropFraction { get; init; } = 1.0;

    /// <summary>Write a checkpoint every this many steps (0 = only at epoch ends). Default 0.</summary>
    public int CheckpointEverySteps { get; init; }

    /// <summary>Continue from the run folder's last checkpoint, if there is one. Default false.</summary>
    public bool Resume { get; init; }

    /// <summary>Evaluate on the evaluation set after every epoch (otherwise only at the end). Default false.</summary>
    public bool EvaluateEachEpoch { get; init; }

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
        Require(EvalCropFraction is > 0 and <= 1, $"EvalCropFraction = {EvalCropFraction}: must be in (0, 1].");
        Require(CheckpointEverySteps >= 0, $"CheckpointEverySteps = {CheckpointEverySteps}: must not be negative.");
    }
}
