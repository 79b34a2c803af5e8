namespace Pvp.Onnx;

/// <summary>How LoRA layers appear in an exported graph.</summary>
public enum OnnxLoraMode
{
    /// <summary>
    /// Each update folded into its frozen weight (W + ΔW): one matrix product per layer, as
    /// <see cref="LoraMerging.MergeLora"/>.
    /// </summary>
    Merged,

    /// <summary>
    /// The frozen weight and the low-rank branch x·Aᵀ·Bᵀ·(alpha / r) as separate nodes, with <c>lora_A</c> /
    /// <c>lora_B</c> initializers by name.
    /// </summary>
    Separate,
}

/// <summary>The element type of the frozen backbone's initializers.</summary>
public enum OnnxWeightType
{
    /// <summary>float32 everywhere (the default, also for a model whose frozen backbone is bfloat16).</summary>
    Float32,

    /// <summary>
    /// Initializers that are bfloat16 in the model (a <see cref="PrecisionPlan.BackboneBf16"/> backbone) stay bfloat16
    /// in the file — half the size — each followed by a Cast to float32; the graph computes in float32.
    /// </summary>
    KeepBFloat16,
}

/// <summary>The input preprocessing the model was trained with, recorded in the file for deployment.</summary>
/// <param name="Mean">Per-channel mean (RGB) subtracted from pixel values in [0, 1].</param>
/// <param name="Std">Per-channel standard deviation (RGB) the centred values are divided by.</param>
/// <param name="CropFraction">
/// Evaluation centre crop: the share of the short side kept
/// before resizing to the image size (1 keeps the whole image).
/// </param>
public sealed record OnnxPreprocessing(IReadOnlyList<float> Mean, IReadOnlyList<float> Std, double CropFraction)
{
    /// <summary>
    /// <c>short_side</c> (default): the short side resized to floor(size / crop), then the centre size×size;
    /// <c>square</c>: the image stretched to a square of that side, then the centre (metadata <c>pvp.resize</c>).
    /// </summary>
    public string Resize { get; init; } = "short_side";

    /// <summary><c>bicubic</c> (default, Catmull-Rom) or <c>bilinear</c> (metadata <c>pvp.interpolation</c>).</summary>
    public string Interpolation { get; init; } = "bicubic";

    /// <summary>A line for people (metadata <c>pvp.preprocessing</c>), or null.</summary>
    public string? Description { get; init; }

    /// <summary>ImageNet's mean and std (what Pvp's transforms use) with the given centre crop.</summary>
    public static OnnxPreprocessing ImageNet(double cropFraction = 1.0) =>
        new(new[] { 0.485f, 0.456f, 0.406f }, new[] { 0.229f, 0.224f, 0.225f }, cropFraction);
}

/// <summary>Options of <see cref="PetModel.ExportOnnx"/>.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>
    /// The defaults: LoRA merged, float32 weights, opset 17, no preprocessing or class names recorded.
    /// </summary>
    public static OnnxExportOptions Default { get; } = new();

    /// <summary>How LoRA layers are written. Default <see cref="OnnxLoraMode.Merged"/>.</summary>
    public OnnxLoraMode Lora { get; init; } = OnnxLoraMode.Merged;

    /// <summary>The type of the frozen backbone's initializers. Default <see cref="OnnxWeightType.Float32"/>.</summary>
    public OnnxWeightType Weights { get; init; } = OnnxWeightType.Float32;

    /// <summary>The default ONNX opset (17: LayerNormalization as one node).</summary>
    public const int DefaultOpset = 17;

    /// <summary>
    /// The ai.onnx opset the graph declares; 17 or later (every node Pvp writes means the same up to opset 23).
    /// </summary>
    public int Opset { get; init; } = DefaultOpset;

    /// <summary>
    /// Preprocessing used in training, written to the metadata (<c>pvp.mean</c>, <c>pvp.std</c>,
    /// <c>pvp.crop_fraction</c>); null leaves it out.
    /// </summary>
    public OnnxPreprocessing? Preprocessing { get; init; }

    /// <summary>
    /// Class names in label order, written to the metadata as
    /// <c>pvp.class_names</c> (a JSON array); null leaves it out.
    /// </summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>More metadata_props entries (they override Pvp's own keys of the same name).</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>
    /// Checks the options against the model they export: a mean and a std per input channel, a known resize and
    /// interpolation, a class name per head class.
    /// </summary>
    /// <param name="inChannels">The model's input channels.</param>
    /// <param name="numClasses">The model's head classes (0: no head, any number of names).</param>
    /// <exception cref="ArgumentException">The first option that does not fit, named (parameter <c>options</c>).</exception>
    public void Validate(int inChannels, int numClasses)
    {
        if (Preprocessing is { } pre)
        {
            if (pre.Mean.Count != inChannels || pre.Std.Count != inChannels)
                throw new ArgumentException(
                    $"Preprocessing: {inChannels} channels need {inChannels} means and stds, " +
                    $"got {pre.Mean.Count} and {pre.Std.Count}.",
                    "options");
            if (pre.Resize is not ("short_side" or "square"))
                throw new ArgumentException(
                    $"Preprocessing resize '{pre.Resize}': use short_side or square.", "options");
            if (pre.Interpolation is not ("bicubic" or "bilinear"))
                throw new ArgumentException(
                    $"Preprocessing interpolation '{pre.Interpolation}': use bicubic or bilinear.", "options");
        }
        if (ClassNames is { } classes && numClasses > 0 && classes.Count != numClasses)
            throw new ArgumentException($"{classes.Count} class names for a head of {numClasses} classes.", "options");
    }
}
