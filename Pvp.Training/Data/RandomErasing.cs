namespace Pvp.Training.Data;

/// <summary>
/// timm's <c>RandomErasing</c> (<c>timm/data/random_erasing.py</c>, Zhong et al. 2017) in its pixel mode, as NOAH's
/// few-shot training calls it (<c>--reprob 0.25 --remode pixel --recount 1</c>): with probability
/// <see cref="Probability"/>, one box of a normalised CHW image is replaced by per-pixel, per-channel N(0, 1) noise. The
/// box is drawn as timm draws it, in up to 10 attempts: target area U(min_area, max_area) × H·W, aspect
/// exp(U(log min_aspect, log max_aspect)), h = round(√(area · aspect)), w = round(√(area / aspect)) (round half to even,
/// as Python's <c>round</c>); the first box with h &lt; H and w &lt; W is placed at top ∈ [0, H − h], left ∈ [0, W − w]
/// (inclusive, as <c>random.randint</c>). If no attempt fits, nothing is erased.
/// </summary>
/// <param name="Probability">Chance that an image is erased (timm's <c>probability</c>; NOAH: 0.25).</param>
/// <param name="MinArea">Smallest box area as a share of the image (timm's default 0.02).</param>
/// <param name="MaxArea">Largest share (timm's default 1/3).</param>
/// <param name="MinAspect">Smallest aspect h/w (timm's default 0.3; the largest is its inverse).</param>
public sealed record RandomErasing(double Probability, double MinArea = 0.02, double MaxArea = 1.0 / 3, double MinAspect = 0.3)
{
    /// <summary>The largest aspect h/w: 1 / <see cref="MinAspect"/>, as timm's default <c>max_aspect=None</c>.</summary>
    public double MaxAspect => 1 / MinAspect;

    /// <summary>Checks the values; the message names the field.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        if (!(Probability >= 0 && Probability <= 1)) throw new ArgumentException($"Random erasing probability {Probability} must be in [0, 1].");
        if (!(MinArea > 0 && MinArea <= MaxArea && MaxArea <= 1))
            throw new ArgumentException($"Random erasing areas {MinArea}..{MaxArea} must satisfy 0 < min ≤ max ≤ 1.");
        if (!(MinAspect > 0 && MinAspect <= 1)) throw new ArgumentException($"Random erasing min aspect {MinAspect} must be in (0, 1].");
    }

    /// <summary>
    /// Draws whether and where to erase (the box, or null) and fills it in <paramref name="chw"/> (channels × height ×
    /// width floats) with N(0, 1) noise from <paramref name="random"/>.
    /// </summary>
    public (int Top, int Left, int Height, int Width)? Apply(Span<float> chw, int channels, int height, int width, Random random)
    {
        if (Probability == 0 || random.NextDouble() > Probability) return null; // timm: if random.random() > probability: return
        double area = (double)height * width;
        double logMin = Math.Log(MinAspect), logMax = Math.Log(MaxAspect);
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double target = (MinArea + (MaxArea - MinArea) * random.NextDouble()) * area;
            double aspect = Math.Exp(logMin + (logMax - logMin) * random.NextDouble());
            int h = (int)Math.Round(Math.Sqrt(target * aspect), MidpointRounding.ToEven);
            int w = (int)Math.Round(Math.Sqrt(target / aspect), MidpointRounding.ToEven);
            if (w >= width || h >= height) continue;
            int top = random.Next(0, height - h + 1), left = random.Next(0, width - w + 1);
            for (int c = 0; c < channels; c++)
                for (int y = top; y < top + h; y++)
                    for (int x = left; x < left + w; x++)
                        chw[(c * height + y) * width + x] = StandardNormal(random);
            return (top, left, h, w);
        }
        return null;
    }

    /// <summary>One N(0, 1) draw (Box–Muller).</summary>
    private static float StandardNormal(Random random)
    {
        double u1 = 1.0 - random.NextDouble(); // (0, 1]: the logarithm stays finite
        double u2 = random.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }
}
