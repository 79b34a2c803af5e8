using System.Globalization;
using static TorchSharp.torch;

namespace Pvp.Training.Data;

/// <summary>One batch's mixing draw: λ (after the box correction) and the CutMix box, or none.</summary>
/// <param name="Lambda">The weight of each image's own label in its target.</param>
/// <param name="Box">CutMix's box [top, bottom) × [left, right), or null for mixup (or no mixing: λ = 1).</param>
public sealed record MixupDraw(double Lambda, (int Top, int Bottom, int Left, int Right)? Box);

/// <summary>
/// timm's <c>Mixup</c> (<c>timm/data/mixup.py</c>) in its <c>batch</c> mode with <c>correct_lam=True</c>, as NOAH's
/// few-shot training calls it (<c>--mixup 0.8 --cutmix 1.0 --mixup-prob 1.0 --mixup-switch-prob 0.5
/// --smoothing 0.1</c>): with probability <see cref="Probability"/> a batch is mixed with itself reversed
/// (<c>x.flip(0)</c>); CutMix (chance <see cref="SwitchProbability"/> when both alphas are on) pastes one box of the
/// partner, λ ~ Beta(<see cref="CutmixAlpha"/>) corrected to 1 − box area / image area; mixup blends
/// λ·x + (1 − λ)·x.flip(0), λ ~ Beta(<see cref="MixupAlpha"/>). Targets are λ·smooth(y) + (1 − λ)·smooth(y.flip(0)),
/// smooth putting <see cref="LabelSmoothing"/>/classes off the label and 1 − smoothing + that on it; the trainer's
/// loss is then the soft-target cross-entropy. timm asserts an even batch; an odd one (only a training set smaller
/// than the batch gives one, as the batch size itself must be even) pairs its middle image with itself.
/// </summary>
/// <param name="MixupAlpha">Beta parameter of mixup's λ (0: no mixup; NOAH 0.8).</param>
/// <param name="CutmixAlpha">Beta parameter of CutMix's λ (0: no CutMix; NOAH 1.0).</param>
/// <param name="Probability">Chance a batch is mixed at all (timm's <c>prob</c>; NOAH 1.0).</param>
/// <param name="SwitchProbability">Chance of CutMix rather than mixup when both are on (NOAH 0.5).</param>
/// <param name="LabelSmoothing">Smoothing of both targets (NOAH 0.1).</param>
public sealed record Mixup(double MixupAlpha = 0.8, double CutmixAlpha = 1.0, double Probability = 1.0,
    double SwitchProbability = 0.5, double LabelSmoothing = 0.1)
{
    /// <summary>Checks the values; the message names the field.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        if (!(MixupAlpha >= 0 && CutmixAlpha >= 0 && MixupAlpha + CutmixAlpha > 0 && double.IsFinite(MixupAlpha + CutmixAlpha)))
            throw new ArgumentException($"Mixup alphas (mixup {MixupAlpha}, cutmix {CutmixAlpha}) must be finite, " +
                                        "not negative, and not both 0.");
        if (!(Probability >= 0 && Probability <= 1)) throw new ArgumentException($"Mixup prob {Probability} must be in [0, 1].");
        if (!(SwitchProbability >= 0 && SwitchProbability <= 1))
            throw new ArgumentException($"Mixup switch_prob {SwitchProbability} must be in [0, 1].");
        if (!(LabelSmoothing >= 0 && LabelSmoothing < 1))
            throw new ArgumentException($"Mixup label_smoothing {LabelSmoothing} must be in [0, 1).");
    }

    /// <summary>One line for logs and results.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"mixup {MixupAlpha:R} / cutmix {CutmixAlpha:R}, prob {Probability:R}, switch {SwitchProbability:R}, " +
        $"smoothing {LabelSmoothing:R} (timm batch mode)");

    /// <summary>
    /// timm's <c>_params_per_batch</c>: whether and how to mix, and λ before the box correction, drawing in its order
    /// (the probability, the switch, the Beta draw). λ = 1 means no mixing.
    /// </summary>
    public (double Lambda, bool CutMix) DrawParameters(Random random)
    {
        if (!(random.NextDouble() < Probability)) return (1.0, false);
        if (MixupAlpha > 0 && CutmixAlpha > 0)
        {
            bool cut = random.NextDouble() < SwitchProbability;
            return (Beta(cut ? CutmixAlpha : MixupAlpha, random), cut);
        }
        return MixupAlpha > 0 ? (Beta(MixupAlpha, random), false) : (Beta(CutmixAlpha, random), true);
    }

    /// <summary>
    /// timm's <c>rand_bbox</c> and the λ correction: cut = int(side · √(1 − λ)) per side, centre uniform in
    /// [0, H) × [0, W), the box centre ± cut // 2 clipped to the image; λ = 1 − box area / (H·W).
    /// </summary>
    public static ((int Top, int Bottom, int Left, int Right) Box, double Lambda) CutMixBox(int height, int width,
        double lambda, Random random)
    {
        double ratio = Math.Sqrt(1 - lambda);
        int cutH = (int)(height * ratio), cutW = (int)(width * ratio);
        int cy = random.Next(0, height), cx = random.Next(0, width);
        int top = Math.Clamp(cy - cutH / 2, 0, height), bottom = Math.Clamp(cy + cutH / 2, 0, height);
        int left = Math.Clamp(cx - cutW / 2, 0, width), right = Math.Clamp(cx + cutW / 2, 0, width);
        double corrected = 1.0 - (double)(bottom - top) * (right - left) / ((double)height * width);
        return ((top, bottom, left, right), corrected);
    }

    /// <summary>
    /// timm's <c>mixup_target</c>: λ·onehot(y) + (1 − λ)·onehot(y.flip(0)), with off = smoothing / classes and
    /// on = 1 − smoothing + off.
    /// </summary>
    public static Tensor Targets(Tensor labels, int classes, double lambda, double smoothing)
    {
        double off = smoothing / classes, on = 1.0 - smoothing + off;
        Tensor OneHot(Tensor y) =>
            nn.functional.one_hot(y.to_type(ScalarType.Int64), classes).to_type(ScalarType.Float32) * (on - off) + off;
        return OneHot(labels) * lambda + OneHot(labels.flip(0)) * (1.0 - lambda);
    }

    /// <summary>
    /// Mixes a batch: <paramref name="images"/> [B, C, H, W] (left untouched) and <paramref name="labels"/> [B]
    /// become mixed images and soft targets [B, classes].
    /// </summary>
    public (Tensor Images, Tensor Targets, MixupDraw Draw) Apply(Tensor images, Tensor labels, int classes, Random random)
    {
        var (lambda, cut) = DrawParameters(random);
        Tensor mixed;
        (int, int, int, int)? box = null;
        if (lambda == 1.0) mixed = images.clone();
        else if (cut)
        {
            var ((top, bottom, left, right), corrected) = CutMixBox((int)images.shape[2], (int)images.shape[3], lambda, random);
            lambda = corrected;
            box = (top, bottom, left, right);
            mixed = images.clone();
            if (bottom > top && right > left)
            {
                var region = (TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Slice(top, bottom), TensorIndex.Slice(left, right));
                mixed[region.Item1, region.Item2, region.Item3, region.Item4] =
                    images.flip(0)[region.Item1, region.Item2, region.Item3, region.Item4];
            }
        }
        else mixed = images * lambda + images.flip(0) * (1.0 - lambda);
        return (mixed, Targets(labels, classes, lambda, LabelSmoothing), new MixupDraw(lambda, box));
    }

    /// <summary>Beta(a, a) as X / (X + Y) of two Gamma(a) draws (Marsaglia–Tsang).</summary>
    private static double Beta(double a, Random random)
    {
        double x = Gamma(a, random), y = Gamma(a, random);
        return x + y == 0 ? 0.5 : x / (x + y);
    }

    private static double Gamma(double shape, Random random)
    {
        if (shape < 1) return Gamma(shape + 1, random) * Math.Pow(1.0 - random.NextDouble(), 1.0 / shape);
        double d = shape - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
                x = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
                v = 1 + c * x;
            } while (v <= 0);
            v = v * v * v;
            double u = 1.0 - random.NextDouble();
            if (Math.Log(u) < 0.5 * x * x + d - d * v + d * Math.Log(v)) return d * v;
        }
    }
}
