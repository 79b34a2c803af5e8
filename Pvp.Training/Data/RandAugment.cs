using System.Globalization;

namespace Pvp.Training.Data;

/// <summary>The operations of timm's <c>_RAND_INCREASING_TRANSFORMS</c>, in its order.</summary>
public enum RandAugmentOp
{
    /// <summary><c>AutoContrast</c>.</summary>
    AutoContrast,
    /// <summary><c>Equalize</c>.</summary>
    Equalize,
    /// <summary><c>Invert</c>.</summary>
    Invert,
    /// <summary><c>Rotate</c>: ±m/10 · 30°.</summary>
    Rotate,
    /// <summary><c>PosterizeIncreasing</c>: keep 4 − int(4·m/10) bits.</summary>
    PosterizeIncreasing,
    /// <summary><c>SolarizeIncreasing</c>: threshold 256 − int(256·m/10).</summary>
    SolarizeIncreasing,
    /// <summary><c>SolarizeAdd</c>: add int(110·m/10) below 128.</summary>
    SolarizeAdd,
    /// <summary><c>ColorIncreasing</c>: factor max(0.1, 1 ± 0.9·m/10).</summary>
    ColorIncreasing,
    /// <summary><c>ContrastIncreasing</c>: as Color.</summary>
    ContrastIncreasing,
    /// <summary><c>BrightnessIncreasing</c>: as Color.</summary>
    BrightnessIncreasing,
    /// <summary><c>SharpnessIncreasing</c>: as Color.</summary>
    SharpnessIncreasing,
    /// <summary><c>ShearX</c>: ±0.3·m/10.</summary>
    ShearX,
    /// <summary><c>ShearY</c>: ±0.3·m/10.</summary>
    ShearY,
    /// <summary><c>TranslateXRel</c>: ±0.45·m/10 of the width.</summary>
    TranslateXRel,
    /// <summary><c>TranslateYRel</c>: ±0.45·m/10 of the height.</summary>
    TranslateYRel,
}

/// <summary>One operation a RandAugment draw applied (after its probability passed).</summary>
/// <param name="Op">The operation.</param>
/// <param name="Magnitude">The magnitude after the noise and the clip to [0, <c>MagnitudeMax</c>].</param>
/// <param name="Argument">What the magnitude became (degrees, factor, bits, threshold…), signed where the op is.</param>
public sealed record RandAugmentStep(RandAugmentOp Op, double Magnitude, double Argument);

/// <summary>
/// timm's RandAugment (<c>timm/data/auto_augment.py</c>, <c>rand_augment_transform</c>) with the increasing op set
/// (<c>inc1</c>), as NOAH's few-shot training configures it (<c>--aa rand-m9-mstd0.5-inc1</c>): on the cropped and
/// flipped 8-bit image, <see cref="Layers"/> ops drawn uniformly with replacement (numpy's <c>choice</c>), each
/// applied with probability <see cref="Probability"/> at magnitude N(<see cref="Magnitude"/>,
/// <see cref="MagnitudeStd"/>) clipped to [0, <see cref="MagnitudeMax"/>], mapped to its argument over
/// <c>_LEVEL_DENOM</c> = 10 (signed ops negated with probability ½). Geometric ops fill with the normalisation mean
/// in 8 bits (timm's <c>img_mean</c>: round(255 · mean), (124, 116, 104) for ImageNet) and resample with the
/// preprocessing's interpolation (timm passes the training interpolation to the ops unless it is <c>random</c>).
/// </summary>
/// <param name="Layers">Ops per image (timm's <c>n</c>, default 2).</param>
/// <param name="Magnitude">Magnitude on the 0–10 scale (<c>m</c>).</param>
/// <param name="MagnitudeStd">Std of the per-op gaussian noise on the magnitude (<c>mstd</c>; 0: none).</param>
/// <param name="MagnitudeMax">Upper clip of the magnitude (<c>mmax</c>, default 10).</param>
/// <param name="Probability">Chance each drawn op applies (<c>p</c>, default 0.5).</param>
public sealed record RandAugment(int Layers = 2, double Magnitude = 9, double MagnitudeStd = 0.5,
    double MagnitudeMax = 10, double Probability = 0.5)
{
    /// <summary>timm's <c>_LEVEL_DENOM</c>: magnitudes are on a 0–10 scale.</summary>
    public const double LevelDenominator = 10;

    /// <summary>The ops drawn from (<c>_RAND_INCREASING_TRANSFORMS</c>).</summary>
    public static IReadOnlyList<RandAugmentOp> Ops { get; } = Enum.GetValues<RandAugmentOp>();

    /// <summary>
    /// Parses timm's config string, e.g. <c>rand-m9-mstd0.5-inc1</c>: sections <c>m</c>, <c>n</c>, <c>mstd</c>,
    /// <c>mmax</c>, <c>p</c> and <c>inc</c> after <c>rand</c>. Only <c>inc1</c> (the increasing ops) is implemented;
    /// timm's default without it (<c>_RAND_TRANSFORMS</c>) and the <c>w</c> weights are refused.
    /// </summary>
    /// <exception cref="ArgumentException">The string names what is wrong and what to write.</exception>
    public static RandAugment Parse(string config)
    {
        var parts = config.Split('-');
        if (parts[0] != "rand")
            throw new ArgumentException($"RandAugment config '{config}' must start with 'rand' (e.g. rand-m9-mstd0.5-inc1).");
        var result = new RandAugment(Layers: 2, Magnitude: 10, MagnitudeStd: 0); // timm's defaults before the sections
        bool increasing = false;
        foreach (var part in parts.Skip(1))
        {
            var key = new string(part.TakeWhile(char.IsLetter).ToArray());
            var text = part[key.Length..];
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
                throw new ArgumentException($"RandAugment config '{config}': section '{part}' needs a number after '{key}'.");
            result = key switch
            {
                "m" => result with { Magnitude = value },
                "n" => result with { Layers = (int)value },
                "mstd" => result with { MagnitudeStd = value > 100 ? double.PositiveInfinity : value },
                "mmax" => result with { MagnitudeMax = value },
                "p" => result with { Probability = value },
                "inc" => result,
                _ => throw new ArgumentException($"RandAugment config '{config}': unknown section '{part}' " +
                                                 "(known: m, n, mstd, mmax, p, inc; op weights 'w' are not implemented)."),
            };
            if (key == "inc") increasing = value != 0;
        }
        if (!increasing)
            throw new ArgumentException($"RandAugment config '{config}': only timm's increasing op set is implemented; " +
                                        "add '-inc1' (as NOAH's rand-m9-mstd0.5-inc1).");
        result.Validate();
        return result;
    }

    /// <summary>The config string in timm's form, e.g. <c>rand-m9-n2-mstd0.5-mmax10-p0.5-inc1</c>.</summary>
    public string Config => string.Create(CultureInfo.InvariantCulture,
        $"rand-m{Magnitude:R}-n{Layers}-mstd{(double.IsPositiveInfinity(MagnitudeStd) ? 101 : MagnitudeStd):R}-mmax{MagnitudeMax:R}-p{Probability:R}-inc1");

    /// <summary>Checks the values; the message names the field.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        if (Layers is < 1 or > 15) throw new ArgumentException($"RandAugment layers {Layers} must be in [1, 15].");
        if (!(Magnitude >= 0 && Magnitude <= MagnitudeMax))
            throw new ArgumentException($"RandAugment magnitude {Magnitude} must be in [0, mmax {MagnitudeMax}].");
        if (!(MagnitudeStd >= 0)) throw new ArgumentException($"RandAugment magnitude std {MagnitudeStd} must not be negative.");
        if (!(MagnitudeMax > 0 && MagnitudeMax <= 100)) throw new ArgumentException($"RandAugment mmax {MagnitudeMax} must be in (0, 100].");
        if (!(Probability >= 0 && Probability <= 1)) throw new ArgumentException($"RandAugment p {Probability} must be in [0, 1].");
    }

    /// <summary>
    /// Augments <paramref name="rgb"/> (8-bit RGB, interleaved, <paramref name="width"/> × <paramref name="height"/>)
    /// in place, drawing from <paramref name="random"/> in timm's order: the ops, then per op its probability, the
    /// magnitude noise and the sign. Returns the ops that applied.
    /// </summary>
    public IReadOnlyList<RandAugmentStep> Apply(byte[] rgb, int width, int height, (byte R, byte G, byte B) fill,
        AffineFilter filter, Random random)
    {
        var chosen = new RandAugmentOp[Layers];
        for (int i = 0; i < Layers; i++) chosen[i] = Ops[random.Next(Ops.Count)];
        var applied = new List<RandAugmentStep>();
        var image = rgb;
        foreach (var op in chosen)
        {
            if (Probability < 1 && random.NextDouble() > Probability) continue;
            double magnitude = Magnitude;
            if (double.IsPositiveInfinity(MagnitudeStd)) magnitude = random.NextDouble() * Magnitude;
            else if (MagnitudeStd > 0) magnitude = Magnitude + MagnitudeStd * StandardNormal(random);
            magnitude = Math.Max(0, Math.Min(magnitude, MagnitudeMax));
            double argument = ArgumentOf(op, magnitude, random);
            image = ApplyOp(op, argument, image, width, height, fill, filter);
            applied.Add(new RandAugmentStep(op, magnitude, argument));
        }
        if (!ReferenceEquals(image, rgb)) image.CopyTo(rgb, 0);
        return applied;
    }

    /// <summary>
    /// timm's level-to-argument map of <paramref name="op"/> at <paramref name="magnitude"/> (0–10), drawing the sign
    /// of signed ops from <paramref name="random"/> (negated when a uniform draw exceeds ½); 0 for ops without one.
    /// </summary>
    public static double ArgumentOf(RandAugmentOp op, double magnitude, Random random)
    {
        double level = magnitude / LevelDenominator;
        double Signed(double v) => random.NextDouble() > 0.5 ? -v : v;
        return op switch
        {
            RandAugmentOp.Rotate => Signed(level * 30),
            RandAugmentOp.PosterizeIncreasing => 4 - (int)(level * 4),
            RandAugmentOp.SolarizeIncreasing => 256 - (int)(level * 256),
            RandAugmentOp.SolarizeAdd => (int)(level * 110),
            RandAugmentOp.ColorIncreasing or RandAugmentOp.ContrastIncreasing or RandAugmentOp.BrightnessIncreasing
                or RandAugmentOp.SharpnessIncreasing => Math.Max(0.1, 1.0 + Signed(level * 0.9)),
            RandAugmentOp.ShearX or RandAugmentOp.ShearY => Signed(level * 0.3),
            RandAugmentOp.TranslateXRel or RandAugmentOp.TranslateYRel => Signed(level * 0.45),
            _ => 0,
        };
    }

    /// <summary>Applies <paramref name="op"/> with its (already mapped) <paramref name="argument"/>; a new array.</summary>
    public static byte[] ApplyOp(RandAugmentOp op, double argument, byte[] rgb, int width, int height,
        (byte R, byte G, byte B) fill, AffineFilter filter) => op switch
    {
        RandAugmentOp.AutoContrast => PilOps.AutoContrast(rgb),
        RandAugmentOp.Equalize => PilOps.Equalize(rgb),
        RandAugmentOp.Invert => PilOps.Invert(rgb),
        RandAugmentOp.Rotate => PilOps.Rotate(rgb, width, height, argument, filter, fill),
        RandAugmentOp.PosterizeIncreasing => PilOps.Posterize(rgb, (int)argument),
        RandAugmentOp.SolarizeIncreasing => PilOps.Solarize(rgb, (int)argument),
        RandAugmentOp.SolarizeAdd => PilOps.SolarizeAdd(rgb, (int)argument),
        RandAugmentOp.ColorIncreasing => PilOps.Color(rgb, argument),
        RandAugmentOp.ContrastIncreasing => PilOps.Contrast(rgb, argument),
        RandAugmentOp.BrightnessIncreasing => PilOps.Brightness(rgb, argument),
        RandAugmentOp.SharpnessIncreasing => PilOps.Sharpness(rgb, width, height, argument),
        // timm: shear_x (1, f, 0, 0, 1, 0), shear_y (1, 0, 0, f, 1, 0), translate (1, 0, pct·w, 0, 1, 0) / (…, pct·h).
        RandAugmentOp.ShearX => PilOps.Affine(rgb, width, height, [1, argument, 0, 0, 1, 0], filter, fill),
        RandAugmentOp.ShearY => PilOps.Affine(rgb, width, height, [1, 0, 0, argument, 1, 0], filter, fill),
        RandAugmentOp.TranslateXRel => PilOps.Affine(rgb, width, height, [1, 0, argument * width, 0, 1, 0], filter, fill),
        _ => PilOps.Affine(rgb, width, height, [1, 0, 0, 0, 1, argument * height], filter, fill),
    };

    /// <summary>timm's fill colour for normalisation mean <paramref name="mean"/>: round(255 · mean) per channel.</summary>
    public static (byte R, byte G, byte B) FillFor((float R, float G, float B) mean)
    {
        static byte Level(float v) => (byte)Math.Min(255, Math.Round(255 * (double)v, MidpointRounding.ToEven));
        return (Level(mean.R), Level(mean.G), Level(mean.B));
    }

    /// <summary>One N(0, 1) draw (Box–Muller), as <c>random.gauss</c>.</summary>
    private static double StandardNormal(Random random)
    {
        double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
