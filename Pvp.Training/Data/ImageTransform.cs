using SkiaSharp;

namespace Pvp.Training.Data;

/// <summary>
/// Turns a decoded image into a normalised float32 CHW array of side <see cref="Size"/>, as its
/// <see cref="Data.Preprocessing"/> says. Randomness comes only from the <see cref="Random"/> passed in, so a seeded
/// loader is deterministic whatever thread runs the transform.
/// </summary>
public abstract class ImageTransform
{
    /// <summary>Creates a transform to <paramref name="size"/>×<paramref name="size"/> pixels.</summary>
    protected ImageTransform(int size, Preprocessing preprocessing)
    {
        if (size <= 0) throw new ArgumentOutOfRangeException(nameof(size), size, "The output size must be positive.");
        preprocessing.Validate();
        Size = size;
        Preprocessing = preprocessing;
    }

    /// <summary>Output side in pixels.</summary>
    public int Size { get; }

    /// <summary>Statistics, resize, crop and augmentation.</summary>
    public Preprocessing Preprocessing { get; }

    /// <summary>Fills <paramref name="destination"/> (3·Size·Size floats, CHW) from <paramref name="image"/>.</summary>
    public abstract void Apply(SKBitmap image, Random random, Span<float> destination);

    /// <summary>
    /// Draws the <paramref name="source"/> rectangle of <paramref name="image"/> scaled to Size×Size (optionally
    /// mirrored) with the preprocessing's filter, and normalises it. A downscale by more than 2× uses mipmaps whatever
    /// the filter, as PIL's antialiased resize averages every source pixel where a plain bilinear or bicubic kernel
    /// would alias.
    /// </summary>
    protected void CropResizeNormalize(SKBitmap image, SKRect source, bool mirror, Span<float> destination) =>
        CropResizeNormalize(image, source, mirror, destination, augment: null);

    /// <summary>
    /// <see cref="CropResizeNormalize(SKBitmap, SKRect, bool, Span{float})"/>, and with <paramref name="augment"/>
    /// (training) and a <see cref="Data.Preprocessing.RandAugment"/>, RandAugment on the 8-bit result before the
    /// normalisation, drawing from <paramref name="augment"/> (timm's order: crop, flip, RandAugment, normalise).
    /// </summary>
    protected void CropResizeNormalize(SKBitmap image, SKRect source, bool mirror, Span<float> destination,
        Random? augment)
    {
        var info = new SKImageInfo(Size, Size, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var output = new SKBitmap(info);
        using (var canvas = new SKCanvas(output))
        using (var skImage = SKImage.FromBitmap(image))
        {
            canvas.Clear(SKColors.Black);
            if (mirror)
            {
                canvas.Translate(Size, 0);
                canvas.Scale(-1, 1);
            }
            bool strongDownscale = source.Width > 2 * Size || source.Height > 2 * Size;
            var sampling = strongDownscale
                ? new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear)
                : Preprocessing.Interpolation == Interpolation.Bicubic
                    ? new SKSamplingOptions(SKCubicResampler.CatmullRom)
                    : new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None);
            canvas.DrawImage(skImage, source, new SKRect(0, 0, Size, Size), sampling);
        }
        ReadOnlySpan<byte> pixels = output.GetPixelSpan();
        int plane = Size * Size;
        var (mean, std) = (Preprocessing.Mean, Preprocessing.Std);
        if (augment is not null && Preprocessing.RandAugment is { } randAugment)
        {
            // timm's order: crop and flip, RandAugment on the 8-bit image, then ToTensor and Normalize.
            var rgb = new byte[3 * plane];
            for (int i = 0; i < plane; i++)
                (rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]) = (pixels[4 * i], pixels[4 * i + 1], pixels[4 * i + 2]);
            var filter = Preprocessing.Interpolation == Interpolation.Bicubic ? AffineFilter.Bicubic : AffineFilter.Bilinear;
            randAugment.Apply(rgb, Size, Size, RandAugment.FillFor(mean), filter, augment);
            for (int i = 0; i < plane; i++)
            {
                destination[i] = (rgb[3 * i] / 255f - mean.R) / std.R;
                destination[plane + i] = (rgb[3 * i + 1] / 255f - mean.G) / std.G;
                destination[2 * plane + i] = (rgb[3 * i + 2] / 255f - mean.B) / std.B;
            }
            return;
        }
        for (int i = 0; i < plane; i++)
        {
            destination[i] = (pixels[4 * i] / 255f - mean.R) / std.R;
            destination[plane + i] = (pixels[4 * i + 1] / 255f - mean.G) / std.G;
            destination[2 * plane + i] = (pixels[4 * i + 2] / 255f - mean.B) / std.B;
        }
    }

    /// <summary>
    /// The source square that a short-side resize to Size / CropFraction followed by a centre Size×Size crop keeps.
    /// </summary>
    protected SKRect CentreCrop(int width, int height)
    {
        if (Preprocessing.Resize == ResizeMode.Squash)
        {
            // Stretched to S×S (S = Size / crop) and centre-cropped to Size: the same share of each side.
            double share = Size / (double)Preprocessing.ScaledSide(Size);
            float w = (float)(width * share), h = (float)(height * share);
            return new SKRect((width - w) / 2f, (height - h) / 2f, (width + w) / 2f, (height + h) / 2f);
        }
        float side = (float)(Math.Min(width, height) * Size / (double)Preprocessing.ScaledSide(Size));
        float left = (width - side) / 2f, top = (height - side) / 2f;
        return new SKRect(left, top, left + side, top + side);
    }
}

/// <summary>Evaluation: resize (short side to Size / CropFraction, or squash), then the centre Size×Size.</summary>
public sealed class EvalTransform : ImageTransform
{
    /// <summary>Creates it with <paramref name="preprocessing"/>'s statistics, resize and crop.</summary>
    public EvalTransform(int size, Preprocessing preprocessing) : base(size, preprocessing)
    {
    }

    /// <summary>
    /// Creates it with Pvp's default statistics and the given crop fraction (timm's crop_pct:
    /// 0.875, the default, resizes to 256 for a 224 crop; 1 keeps the whole short side).
    /// </summary>
    public EvalTransform(
        int size, double cropFraction = 0.875) : this(size, Preprocessing.Pvp with { CropFraction = cropFraction })
    {
    }

    /// <inheritdoc />
    public override void Apply(SKBitmap image, Random random, Span<float> destination) =>
        CropResizeNormalize(image, CentreCrop(image.Width, image.Height), mirror: false, destination);
}

/// <summary>
/// Training with an augmentation: torchvision's random-resized crop (area share in <see cref="Scale"/>, aspect ratio in
/// <see cref="Ratio"/>, log-uniform, ten tries then a centre crop), or VPT's resize-then-random-crop; then a horizontal
/// flip with the preprocessing's probability.
/// </summary>
public sealed class TrainTransform : ImageTransform
{
    /// <summary>Creates it.</summary>
    /// <param name="size">Output side.</param>
    /// <param name="preprocessing">
    /// Statistics, filter, augmentation (RandomResizedCrop or ResizeRandomCrop) and flip probability.
    /// </param>
    /// <param name="scale">Area share of a random-resized crop. Default (0.08, 1), torchvision's.</param>
    /// <param name="ratio">Aspect ratio of a random-resized crop. Default (3/4, 4/3).</param>
    public TrainTransform(int size, Preprocessing? preprocessing = null, (double Min, double Max)? scale = null,
        (double Min, double Max)? ratio = null)
        : base(size, preprocessing ?? Preprocessing.Pvp)
    {
        if (Preprocessing.Augmentation == TrainAugmentation.None)
            throw new ArgumentException("A training transform needs an augmentation; with none, training uses the " +
                                        "evaluation transform (Preprocessing.TrainTransform does so).");
        Scale = scale ?? (0.08, 1.0);
        Ratio = ratio ?? (3.0 / 4.0, 4.0 / 3.0);
    }

    /// <summary>Area share of a random-resized crop.</summary>
    public (double Min, double Max) Scale { get; }

    /// <summary>Aspect ratio of a random-resized crop.</summary>
    public (double Min, double Max) Ratio { get; }

    /// <inheritdoc />
    public override void Apply(SKBitmap image, Random random, Span<float> destination)
    {
        var crop = Preprocessing.Augmentation == TrainAugmentation.ResizeRandomCrop
            ? RandomCropAfterResize(image.Width, image.Height, random)
            : SampleCrop(image.Width, image.Height, random);
        CropResizeNormalize(image, crop, random.NextDouble() < Preprocessing.FlipProbability, destination, random);
        Preprocessing.Erasing?.Apply(destination, 3, Size, Size, random);
    }

    /// <summary>
    /// VPT's Resize(S) → RandomCrop(Size), in source pixels: the image resized so its short side is S (the squash mode
    /// stretches it to S×S), a Size×Size window at a uniformly drawn integer offset of the resized image.
    /// </summary>
    private SKRect RandomCropAfterResize(int width, int height, Random random)
    {
        int scaled = Preprocessing.ScaledSide(Size);
        double sx, sy;
        if (Preprocessing.Resize == ResizeMode.Squash)
            (sx, sy) = ((double)scaled / width, (double)scaled / height);
        else
            sx = sy = (double)scaled / Math.Min(width, height);
        // torchvision's Resize rounds the long side down (int(size * long / short)).
        int resizedW = Math.Max(Size, (int)(width * sx)), resizedH = Math.Max(Size, (int)(height * sy));
        int x = random.Next(0, resizedW - Size + 1), y = random.Next(0, resizedH - Size + 1);
        return new SKRect((float)(x / sx), (float)(y / sy), (float)((x + Size) / sx), (float)((y + Size) / sy));
    }

    private SKRect SampleCrop(int width, int height, Random random)
    {
        double area = (double)width * height;
        double logMin = Math.Log(Ratio.Min), logMax = Math.Log(Ratio.Max);
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double target = area * (Scale.Min + random.NextDouble() * (Scale.Max - Scale.Min));
            double aspect = Math.Exp(logMin + random.NextDouble() * (logMax - logMin));
            int w = (int)Math.Round(Math.Sqrt(target * aspect)), h = (int)Math.Round(Math.Sqrt(target / aspect));
            if (w > 0 && h > 0 && w <= width && h <= height)
            {
                int x = random.Next(0, width - w + 1), y = random.Next(0, height - h + 1);
                return new SKRect(x, y, x + w, y + h);
            }
        }
        // Fallback: the largest centre crop within the ratio bounds.
        double imageRatio = (double)width / height;
        int cw = width, ch = height;
        if (imageRatio < Ratio.Min) ch = (int)Math.Round(width / Ratio.Min);
        else if (imageRatio > Ratio.Max) cw = (int)Math.Round(height * Ratio.Max);
        return new SKRect((width - cw) / 2f, (height - ch) / 2f, (width + cw) / 2f, (height + ch) / 2f);
    }
}
