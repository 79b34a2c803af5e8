using System.Globalization;

namespace Pvp.Training.Data;

/// <summary>How training images are augmented (before normalisation).</summary>
public enum TrainAugmentation
{
    /// <summary>
    /// None: training images get the evaluation transform (right for images already at the model's size).
    /// </summary>
    None,
    /// <summary>
    /// torchvision's RandomResizedCrop (area 8–100 %, aspect 3/4–4/3)
    /// then a flip: timm's and torchvision's ImageNet recipe.
    /// </summary>
    RandomResizedCrop,
    /// <summary>
    /// Resize the short side to Size / CropFraction, a random Size×Size crop,
    /// a flip: VPT's <c>transforms.py</c> (Resize 256 → RandomCrop 224).
    /// </summary>
    ResizeRandomCrop,
}

/// <summary>The resampling filter of the resize.</summary>
public enum Interpolation
{
    /// <summary>Bilinear (torchvision's and Hugging Face ViT's default).</summary>
    Bilinear,
    /// <summary>Bicubic, Catmull-Rom (a = −0.5, as PIL's; timm's ViT default).</summary>
    Bicubic,
}

/// <summary>How the image is brought to the model's square size before the crop.</summary>
public enum ResizeMode
{
    /// <summary>
    /// Resize the short side to Size / CropFraction keeping the aspect
    /// ratio, then centre-crop Size×Size (torchvision, timm, VPT).
    /// </summary>
    ShortSide,
    /// <summary>
    /// Stretch the whole image to a square of side Size / CropFraction, then centre-crop Size×Size: with crop 1,
    /// Hugging Face's <c>ViTImageProcessor</c> and Google's <c>vit_jax</c> evaluation;
    /// with 0.875, NOAH's Resize((256, 256)) → CenterCrop(224).
    /// </summary>
    Squash,
}

/// <summary>
/// Everything that turns a decoded image into the model's input: normalisation statistics, resize, crop and the
/// training augmentation. A checkpoint expects the statistics it was trained with, so the defaults follow its family
/// (<see cref="ForFamily"/>); a recipe's <c>preprocess:</c> section overrides any field, and runs record the result
/// (<see cref="Describe"/>).
/// </summary>
/// <param name="Name">
/// Where these settings come from (a family or preset name, "+ overrides" when a recipe changed some).
/// </param>
/// <param name="Mean">Per-channel mean (RGB, in [0, 1]).</param>
/// <param name="Std">Per-channel standard deviation (RGB).</param>
/// <param name="CropFraction">
/// The centre crop's share of the resized short side (timm's crop_pct): 0.875 resizes to 256 for a 224 crop.
/// </param>
/// <param name="Resize">Short-side resize and crop, or a squash to the square.</param>
/// <param name="Interpolation">The resize filter.</param>
/// <param name="Augmentation">The training augmentation.</param>
/// <param name="FlipProbability">Chance of a horizontal flip while training (with an augmentation).</param>
public sealed record Preprocessing(
    string Name,
    (float R, float G, float B) Mean,
    (float R, float G, float B) Std,
    double CropFraction,
    ResizeMode Resize,
    Interpolation Interpolation,
    TrainAugmentation Augmentation,
    double FlipProbability = 0.5)
{
    /// <summary>
    /// timm's random erasing after the crop, flip and normalisation of a training image (NOAH's few-shot training:
    /// 0.25, pixel mode), or null: none. Training only; the evaluation transform ignores it.
    /// </summary>
    public RandomErasing? Erasing { get; init; }

    /// <summary>
    /// timm's RandAugment on the cropped, flipped 8-bit training image before normalisation (NOAH's few-shot training:
    /// <c>rand-m9-mstd0.5-inc1</c>), or null: none. Training only; the evaluation transform ignores it.
    /// </summary>
    public RandAugment? RandAugment { get; init; }

    /// <summary>ImageNet's channel means (RGB), as torchvision and VPT normalise.</summary>
    public static readonly (float R, float G, float B) ImageNetMean = (0.485f, 0.456f, 0.406f);

    /// <summary>ImageNet's channel standard deviations (RGB).</summary>
    public static readonly (float R, float G, float B) ImageNetStd = (0.229f, 0.224f, 0.225f);

    /// <summary>
    /// 0.5 per channel: inputs in [−1, 1], as Google's ViT checkpoints and timm's <c>augreg</c> weights expect.
    /// </summary>
    public static readonly (float R, float G, float B) Half = (0.5f, 0.5f, 0.5f);

    /// <summary>
    /// Pvp's own default: ImageNet statistics, the whole image (crop 1), bicubic, random-resized crop. What a backbone
    /// that Pvp pre-trained itself (no weights given) and the <see cref="Pvp.Training.TrainerOptions"/> default use.
    /// </summary>
    public static Preprocessing Pvp { get; } = new("pvp", ImageNetMean, ImageNetStd, 1.0, ResizeMode.ShortSide,
        Interpolation.Bicubic, TrainAugmentation.RandomResizedCrop);

    /// <summary>
    /// timm's <c>vit_*_patch16_224.augreg_in21k</c> pretrained config: mean/std
    /// 0.5, crop_pct 0.9, bicubic; timm's random-resized crop for training.
    /// </summary>
    public static Preprocessing Timm { get; } = new("timm", Half, Half, 0.9, ResizeMode.ShortSide,
        Interpolation.Bicubic, TrainAugmentation.RandomResizedCrop);

    /// <summary>
    /// torchvision's <c>ViT_B_16_Weights.IMAGENET1K_V1</c>: ImageNet
    /// statistics, resize 256 → crop 224 (0.875), bilinear.
    /// </summary>
    public static Preprocessing Torchvision { get; } = new("torchvision", ImageNetMean, ImageNetStd, 0.875,
        ResizeMode.ShortSide, Interpolation.Bilinear, TrainAugmentation.RandomResizedCrop);

    /// <summary>
    /// Google's original JAX checkpoints (<c>ViT-B_16.npz</c>): inputs in [−1, 1], the image stretched to
    /// the model's size (vit_jax's evaluation), bilinear; inception-style random-resized crop for training.
    /// </summary>
    public static Preprocessing GoogleJax { get; } = new("google-jax", Half, Half, 1.0, ResizeMode.Squash,
        Interpolation.Bilinear, TrainAugmentation.RandomResizedCrop);

    /// <summary>
    /// Hugging Face's <c>ViTImageProcessor</c> for <c>google/vit-base-patch16-224-in21k</c>:
    /// mean/std 0.5, resize to 224×224, bilinear (resample 2).
    /// </summary>
    public static Preprocessing HuggingFace { get; } = new("huggingface", Half, Half, 1.0, ResizeMode.Squash,
        Interpolation.Bilinear, TrainAugmentation.RandomResizedCrop);

    /// <summary>
    /// VPT's <c>src/data/transforms.py</c> at 224: ImageNet statistics; training Resize(256) → RandomCrop(224) → flip,
    /// evaluation Resize(256) → CenterCrop(224); torchvision's default (bilinear) resize. VPT uses it with every
    /// checkpoint, the ImageNet-21k <c>ViT-B_16.npz</c> included.
    /// </summary>
    public static Preprocessing Vpt { get; } = new("vpt", ImageNetMean, ImageNetStd, 0.875, ResizeMode.ShortSide,
        Interpolation.Bilinear, TrainAugmentation.ResizeRandomCrop);

    /// <summary>
    /// NOAH's few-shot evaluation (<c>lib/datasets.py</c>, <c>build_transform</c>): Resize((256, 256)) bicubic →
    /// CenterCrop(224), ImageNet statistics, random-resized crop. NOAH's training also adds RandAugment, random erasing
    /// and mixup; the preset leaves them off (<see cref="RandAugment"/>, <see cref="Erasing"/> and
    /// <see cref="Pvp.Training.TrainerOptions.Mixup"/> turn them on, as <c>recipes/noah-fewshot-fgvc.yaml</c> does).
    /// </summary>
    public static Preprocessing Noah { get; } = new("noah", ImageNetMean, ImageNetStd, 0.875, ResizeMode.Squash,
        Interpolation.Bicubic, TrainAugmentation.RandomResizedCrop);

    /// <summary>The named settings a recipe can start from (<c>preprocess: {{ preset: NAME }}</c>).</summary>
    public static IReadOnlyDictionary<string, Preprocessing> Presets { get; } = new Dictionary<string, Preprocessing>(StringComparer.Ordinal)
    {
        ["pvp"] = Pvp, ["timm"] = Timm, ["torchvision"] = Torchvision, ["google-jax"] = GoogleJax,
        ["huggingface"] = HuggingFace, ["vpt"] = Vpt, ["noah"] = Noah,
    };

    /// <summary>
    /// The defaults of a checkpoint in <paramref name="layout"/>'s family (null: a backbone Pvp pre-trained itself).
    /// </summary>
    public static Preprocessing ForFamily(Weights.KeyLayout? layout) => layout switch
    {
        Weights.KeyLayout.Timm => Timm,
        Weights.KeyLayout.Torchvision => Torchvision,
        Weights.KeyLayout.Jax => GoogleJax,
        Weights.KeyLayout.HuggingFace => HuggingFace,
        _ => Pvp,
    };

    /// <summary>Checks the values; the message names the field.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        foreach (var (name, v) in new[] { ("mean", Mean), ("std", Std) })
            if (!float.IsFinite(v.R) || !float.IsFinite(v.G) || !float.IsFinite(v.B))
                throw new ArgumentException($"Preprocessing {name} ({v.R}, {v.G}, {v.B}) must be finite.");
        if (!(Std.R > 0 && Std.G > 0 && Std.B > 0))
            throw new ArgumentException($"Preprocessing std ({Std.R}, {Std.G}, {Std.B}) must be positive in " +
                                        "every channel.");
        if (!(CropFraction >= 0.1 && CropFraction <= 1))
            throw new ArgumentException($"Preprocessing crop fraction {CropFraction} must be in [0.1, 1] " +
                                        "(0.875: resize 256, crop 224).");
        if (!(FlipProbability >= 0 && FlipProbability <= 1))
            throw new ArgumentException($"Preprocessing flip probability {FlipProbability} must be in [0, 1].");
        RandAugment?.Validate();
    }

    /// <summary>The evaluation transform to <paramref name="size"/> pixels.</summary>
    public ImageTransform EvalTransform(int size) => new EvalTransform(size, this);

    /// <summary>
    /// The training transform to <paramref name="size"/> pixels (the
    /// evaluation transform when <see cref="Augmentation"/> is None).
    /// </summary>
    public ImageTransform TrainTransform(int size) => Augmentation switch
    {
        TrainAugmentation.None => new EvalTransform(size, this),
        _ => new TrainTransform(size, this),
    };

    /// <summary>
    /// One line for logs, sidecars and results, e.g. <c>vpt: mean (0.485, 0.456, 0.406),
    /// std (…), resize 256 → crop 224, bilinear, train resize-random-crop + flip 0.5</c>.
    /// </summary>
    public string Describe(int size)
    {
        // Exact values (shortest round-trip form): the line is also the runs' fingerprint of the preprocessing.
        static string Triple((float R, float G, float B) v)
            => string.Create(CultureInfo.InvariantCulture, $"({v.R:R}, {v.G:R}, {v.B:R})");
        string geometry = Resize == ResizeMode.Squash
            ? (ScaledSide(size) == size
                ? $"resize to {size}×{size}"
                : $"resize to {ScaledSide(size)}×{ScaledSide(size)} → centre crop {size}")
            : string.Create(CultureInfo.InvariantCulture,
                $"resize short side {ScaledSide(size)} → centre crop {size} (crop {CropFraction:R})");
        string train = Augmentation switch
        {
            TrainAugmentation.None => "no training augmentation",
            TrainAugmentation.RandomResizedCrop => string.Create(CultureInfo.InvariantCulture,
                $"train random-resized-crop + flip {FlipProbability:R}"),
            _ => string.Create(CultureInfo.InvariantCulture,
                $"train resize {ScaledSide(size)} → random crop {size} + flip {FlipProbability:R}"),
        };
        if (RandAugment is { } randAugment && Augmentation != TrainAugmentation.None)
            train += $" + rand-augment {randAugment.Config}";
        if (Erasing is { } erasing && Augmentation != TrainAugmentation.None)
            train += string.Create(CultureInfo.InvariantCulture, $" + random erasing {erasing.Probability:R} (pixel)");
        return $"{Name}: mean {Triple(Mean)}, std {Triple(Std)}, {geometry}, {Interpolation.ToString().ToLowerInvariant()}, {train}";
    }

    /// <summary>The short side before the crop: floor(size / crop fraction), as timm computes its scale size.</summary>
    public int ScaledSide(int size) => (int)Math.Floor(size / CropFraction + 1e-9);

    /// <summary>The recipe spelling of an augmentation.</summary>
    public static string NameOf(TrainAugmentation augmentation) => augmentation switch
    {
        TrainAugmentation.None => "none",
        TrainAugmentation.RandomResizedCrop => "random_resized_crop",
        _ => "resize_random_crop",
    };
}
