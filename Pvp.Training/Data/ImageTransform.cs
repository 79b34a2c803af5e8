using SkiaSharp;

namespace Pvp.Data;

/// <summary>
/// Turns a decoded image into a normalised float32 CHW array of side <see cref="Size"/>. Randomness comes only from
/// the <see cref="Random"/> passed in, so a seeded loader is deterministic whatever thread runs the transform.
/// </summary>
public abstract class ImageTransform
{
    /// <summary>ImageNet's channel means (RGB), as timm and torchvision normalise.</summary>
    public static readonly float[] ImageNetMean = { 0.485f, 0.456f, 0.406f };

    /// <summary>ImageNet's channel standard deviations (RGB).</summary>
    public static readonly float[] ImageNetStd = { 0.229f, 0.224f, 0.225f };

    /// <summary>Creates a transform to <paramref name="size"/>×<paramref name="size"/> pixels.</summary>
    protected ImageTransform(int size)
    {
        if (size <= 0) throw new ArgumentOutOfRangeException(nameof(size), size, "The output size must be positive.");
        Size = size;
    }

    /// <summary>Output side in pixels.</summary>
    public int Size { get; }

    /// <summary>Fills <paramref name="destination"/> (3·Size·Size floats, CHW) from <paramref name="image"/>.</summary>
    public abstract void Apply(SKBitmap image, Random random, Span<float> destination);

    /// <summary>Draws the <paramref name="source"/> rectangle of <paramref name="image"/> scaled to Size×Size (optionally mirrored) and normalises it.</summary>
    protected void CropResizeNormalize(SKBitmap image, SKRect source, bool mirror, Span<float> destination)
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
            // Downscaling by more than 2× wants mipmaps to avoid aliasing; cubic is sharp enough otherwise.
            bool strongDownscale = source.Width > 2 * Size || source.Height > 2 * Size;
            var sampling = strongDownscale
                ? new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear)
                : new SKSamplingOptions(SKCubicResampler.CatmullRom);
            canvas.DrawImage(skImage, source, new SKRect(0, 0, Size, Size), sampling);
        }
        ReadOnlySpan<byte> pixels = output.GetPixelSpan();
        int plane = Size * Size;
        for (int i = 0; i < plane; i++)
        {
            destination[i] = (pixels[4 * i] / 255f - ImageNetMean[0]) / ImageNetStd[0];
            destination[plane + i] = (pixels[4 * i + 1] / 255f - ImageNetMean[1]) / ImageNetStd[1];
            destination[2 * plane + i] = (pixels[4 * i + 2] / 255f - ImageNetMean[2]) / ImageNetStd[2];
        }
    }
}

/// <summary>Evaluation: resize the short side to Size / CropFraction, then take the centre Size×Size (timm's eval transform).</summary>
public sealed class EvalTransform : ImageTransform
{
    /// <summary>Creates it.</summary>
    /// <param name="size">Output side.</param>
    /// <param name="cropFraction">timm's crop_pct: 0.875 for ViTs trained at 224 (resize to 256, crop 224); 1 keeps the whole image.</param>
    public EvalTransform(int size, double cropFraction = 0.875) : base(size)
    {
        if (!(cropFraction > 0 && cropFraction <= 1)) throw new ArgumentOutOfRangeException(nameof(cropFraction), cropFraction, "Use a fraction in (0, 1].");
        CropFraction = cropFraction;
    }

    /// <summary>The centre crop's share of the resized short side.</summary>
    public double CropFraction { get; }

    /// <inheritdoc />
    public override void Apply(SKBitmap image, Random random, Span<float> destination)
    {
        // The crop in source pixels: a square of side CropFraction · short side, centred.
        float side = (float)(Math.Min(image.Width, image.Height) * CropFraction);
        float left = (image.Width - side) / 2f, top = (image.Height - side) / 2f;
        CropResizeNormalize(image, new SKRect(left, top, left + side, top + side), mirror: false, destination);
    }
}

/// <summary>
/// Training: a random-resized crop (area share in <see cref="Scale"/>, aspect ratio in <see cref="Ratio"/>, log-uniform,
/// ten tries then a centre crop, as torchvision) and a horizontal flip with probability <see cref="FlipProbability"/>.
/// </summary>
public sealed class TrainTransform(int size, (double Min, double Max)? scale = null, (double Min, double Max)? ratio = null, double flipProbability = 0.5)
    : ImageTransform(size)
{
    /// <summary>Area share of the crop. Default (0.08, 1), torchvision's.</summary>
    public (double Min, double Max) Scale { get; } = scale ?? (0.08, 1.0);

    /// <summary>Aspect ratio of the crop. Default (3/4, 4/3).</summary>
    public (double Min, double Max) Ratio { get; } = ratio ?? (3.0 / 4.0, 4.0 / 3.0);

    /// <summary>Chance of a horizontal flip. Default 0.5.</summary>
    public double FlipProbability { get; } = flipProbability;

    /// <inheritdoc />
    public override void Apply(SKBitmap image, Random random, Span<float> destination)
    {
        var crop = SampleCrop(image.Width, image.Height, random);
        CropResizeNormalize(image, crop, random.NextDouble() < FlipProbability, destination);
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
