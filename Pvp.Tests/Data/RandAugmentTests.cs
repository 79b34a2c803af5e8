using Pvp.Recipes;
using Pvp.Training.Data;
using SkiaSharp;

namespace Pvp.Tests.Data;

/// <summary>
/// RandAugment against timm's <c>timm/data/auto_augment.py</c> (<c>rand-m9-mstd0.5-inc1</c>) and the Pillow operations
/// it calls: each op on a small image with known pixels against hand arithmetic, the level-to-argument maps at
/// magnitude 9, the draw order scripted, and the op choice, probability and magnitude noise seeded.
/// </summary>
public sealed class RandAugmentTests
{
    private static readonly (byte R, byte G, byte B) Fill = (124, 116, 104);

    /// <summary>A Random whose draws are given: NextDouble from one queue, Next(max) from another.</summary>
    private sealed class Scripted(IEnumerable<double> doubles, IEnumerable<int> ints) : Random
    {
        private readonly Queue<double> doubles = new(doubles);
        private readonly Queue<int> ints = new(ints);
        public override double NextDouble() => doubles.Dequeue();
        public override int Next(int maxValue) => ints.Dequeue();
    }

    /// <summary>A w×h image whose pixel (x, y) is <paramref name="pixel"/>(x, y).</summary>
    private static byte[] Image(int w, int h, Func<int, int, (int R, int G, int B)> pixel)
    {
        var rgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                var (r, g, b) = pixel(x, y);
                (rgb[(y * w + x) * 3], rgb[(y * w + x) * 3 + 1], rgb[(y * w + x) * 3 + 2]) = ((byte)r, (byte)g, (byte)b);
            }
        return rgb;
    }

    private static (int R, int G, int B) At(byte[] rgb, int w, int x, int y) =>
        (rgb[(y * w + x) * 3], rgb[(y * w + x) * 3 + 1], rgb[(y * w + x) * 3 + 2]);

    /// <summary>4×4: R = 10·(4y + x) + 50 (50…200), G = 100, B = 16·x.</summary>
    private static byte[] Small() => Image(4, 4, (x, y) => (10 * (4 * y + x) + 50, 100, 16 * x));

    [Fact]
    public void TheConfigStringIsTimms()
    {
        Assert.Equal(new RandAugment(Layers: 2, Magnitude: 9, MagnitudeStd: 0.5, MagnitudeMax: 10, Probability: 0.5),
            RandAugment.Parse("rand-m9-mstd0.5-inc1"));
        Assert.Equal(new RandAugment(3, 7, 0, 10, 0.5), RandAugment.Parse("rand-m7-n3-inc1"));
        Assert.Equal(15, RandAugment.Ops.Count);
        Assert.Equal("rand-m9-n2-mstd0.5-mmax10-p0.5-inc1", RandAugment.Parse("rand-m9-mstd0.5-inc1").Config);
        Assert.Contains("-inc1", Assert.Throws<ArgumentException>(() => RandAugment.Parse("rand-m9-mstd0.5")).Message);
        Assert.Contains("'w0'", Assert.Throws<ArgumentException>(() => RandAugment.Parse("rand-m9-w0-inc1")).Message);
        Assert.Contains("start with 'rand'", Assert.Throws<ArgumentException>(() => RandAugment.Parse("augmix-m5")).Message);
        // timm's img_mean fill for ImageNet's mean: round(255 · (0.485, 0.456, 0.406)).
        Assert.Equal(((byte)124, (byte)116, (byte)104), RandAugment.FillFor(Preprocessing.ImageNetMean));
    }

    [Fact]
    public void LevelsMapToTimmsArgumentsAtMagnitudeNine()
    {
        // A draw above 0.5 negates (timm's _randomly_negate: -v if random.random() > 0.5).
        double Arg(RandAugmentOp op, double sign = 0.2) => RandAugment.ArgumentOf(op, 9, new Scripted(new[] { sign }, Array.Empty<int>()));
        Assert.Equal(27, Arg(RandAugmentOp.Rotate), 12);
        Assert.Equal(-27, Arg(RandAugmentOp.Rotate, 0.7), 12);
        Assert.Equal(1, Arg(RandAugmentOp.PosterizeIncreasing));       // 4 − int(3.6)
        Assert.Equal(26, Arg(RandAugmentOp.SolarizeIncreasing));       // 256 − int(230.4)
        Assert.Equal(99, Arg(RandAugmentOp.SolarizeAdd));              // int(99.0)
        Assert.Equal(1.81, Arg(RandAugmentOp.ColorIncreasing), 12);    // 1 + 0.81
        Assert.Equal(0.19, Arg(RandAugmentOp.SharpnessIncreasing, 0.9), 12); // 1 − 0.81
        // max(0.1, 1 − 0.9) at magnitude 10.
        Assert.Equal(0.1, RandAugment.ArgumentOf(RandAugmentOp.ContrastIncreasing, 10, new Scripted(new[] { 0.9 }, Array.Empty<int>())), 12);
        Assert.Equal(0.27, Arg(RandAugmentOp.ShearX), 12);
        Assert.Equal(-0.405, Arg(RandAugmentOp.TranslateYRel, 0.6), 12);
        Assert.Equal(0, RandAugment.ArgumentOf(RandAugmentOp.Equalize, 9, new Scripted(Array.Empty<double>(), Array.Empty<int>())));
    }

    [Fact]
    public void PointOpsAreImageOpsArithmetic()
    {
        var image = Small();
        // Invert.
        Assert.Equal((255 - 50, 155, 255), At(PilOps.Invert(image), 4, 0, 0));
        // Posterize to 1 bit (mask 0x80): R 200 → 128, 100 → 0; G 100 → 0.
        var posterized = PilOps.Posterize(image, 1);
        Assert.Equal((128, 0, 0), At(posterized, 4, 3, 3));
        Assert.Equal(0, At(posterized, 4, 1, 1).R); // R = 100
        Assert.Equal(image, PilOps.Posterize(image, 8)); // timm: 8 bits or more keeps the image
        // Solarize at 26: below stays, others 255 − v. B = 0 stays, B = 16 stays, B = 32 → 223.
        var solarized = PilOps.Solarize(image, 26);
        Assert.Equal((255 - 50, 155, 0), At(solarized, 4, 0, 0));
        Assert.Equal(16, At(solarized, 4, 1, 0).B);
        Assert.Equal(223, At(solarized, 4, 2, 0).B);
        // SolarizeAdd 99 below 128: R 50 → 149, R 120 → 219, R 130 stays; G 100 → 199; B 48 → 147.
        var added = PilOps.SolarizeAdd(image, 99);
        Assert.Equal((149, 199, 99), At(added, 4, 0, 0));
        Assert.Equal(219, At(added, 4, 3, 1).R);
        Assert.Equal(130, At(added, 4, 0, 2).R);
        Assert.Equal(147, At(added, 4, 3, 0).B);
        // AutoContrast: R spans 50…200 → scale 255/150 = 1.7, offset −85: R 120 → int(204 − 85) = 119; G is one level:
        // unchanged; B spans 0…48 → scale 255/48: B 16 → int(85.0) = 85.
        var stretched = PilOps.AutoContrast(image);
        Assert.Equal((0, 100, 0), At(stretched, 4, 0, 0));
        Assert.Equal((119, 100, 255), At(stretched, 4, 3, 1));
        Assert.Equal(85, At(stretched, 4, 1, 0).B);
        Assert.Equal(255, At(stretched, 4, 3, 3).R);
    }

    [Fact]
    public void EqualizeIsImageOpsArithmetic()
    {
        // 765 pixels (45×17), per channel 255 of level 0, 255 of 50, 255 of 200: step = (765 − 255) // 255 = 2,
        // n starts at 1: level 0 → 1 // 2 = 0, levels 1…50 → 256 // 2 = 128, levels 51…200 → 511 // 2 = 255.
        var image = Image(45, 17, (x, y) => ((17 * x + y) % 3) switch { 0 => (0, 0, 0), 1 => (50, 50, 50), _ => (200, 200, 200) });
        var equalized = PilOps.Equalize(image);
        for (int i = 0; i < image.Length; i++)
            Assert.Equal(image[i] switch { 0 => 0, 50 => 128, _ => 255 }, equalized[i]);
        // Too few pixels for a step (16 // 255 = 0): unchanged, as ImageOps.equalize.
        Assert.Equal(Small(), PilOps.Equalize(Small()));
    }

    [Fact]
    public void EnhanceOpsBlendWithTheirDegenerateImages()
    {
        // One pixel (200, 100, 50): L = (200·19595 + 100·38470 + 50·7471 + 32768) >> 16 = 8172318 >> 16 = 124.
        var pixel = Image(1, 1, (_, _) => (200, 100, 50));
        Assert.Equal(124, PilOps.Luma(200, 100, 50));
        // Color 1.81: 124 + 1.81·(v − 124): R 261.56 → 255, G 80.56 → 80, B −9.94 → 0.
        Assert.Equal((255, 80, 0), At(PilOps.Color(pixel, 1.81), 1, 0, 0));
        // Brightness 0.19: v · 0.19, truncated: 38, 19, 9.
        Assert.Equal((38, 19, 9), At(PilOps.Brightness(pixel, 0.19), 1, 0, 0));
        // Contrast 0.5 on two pixels (200, 100, 50) and (0, 0, 0): L 124 and 0, mean int(62 + 0.5) = 62;
        // 62 + 0.5·(v − 62): (131, 81, 56) and (31, 31, 31).
        var two = Image(2, 1, (x, _) => x == 0 ? (200, 100, 50) : (0, 0, 0));
        var contrasted = PilOps.Contrast(two, 0.5);
        Assert.Equal((131, 81, 56), At(contrasted, 2, 0, 0));
        Assert.Equal((31, 31, 31), At(contrasted, 2, 1, 0));
        // Sharpness: 3×3, centre 130 among eight 0s → SMOOTH gives int(0.5 + 5·130 / 13) = int(50.5) = 50; the border
        // keeps its pixels.
        // Factor 1.81: 50 + 1.81·(130 − 50) = 194.8 → 194; border: v + 1.81·(v − v) = v.
        var dot = Image(3, 3, (x, y) => x == 1 && y == 1 ? (130, 130, 130) : (0, 0, 0));
        var sharpened = PilOps.Sharpness(dot, 3, 3, 1.81);
        Assert.Equal((194, 194, 194), At(sharpened, 3, 1, 1));
        Assert.Equal((0, 0, 0), At(sharpened, 3, 0, 0));
        // Factor 0.19 blends towards the smoothed centre: 50 + 0.19·80 = 65.2 → 65.
        Assert.Equal(65, At(PilOps.Sharpness(dot, 3, 3, 0.19), 3, 1, 1).R);
    }

    [Fact]
    public void SmoothRoundsAsFilterCDoes()
    {
        // Filter.c's ImagingFilter3x3 starts each sum at offset + 0.5 and truncates: it rounds. A 3×3 image black but
        // for its corner (100, 7, 0): the centre's SMOOTH is int(0.5 + 100/13) = int(8.19) = 8 (not 7),
        // int(0.5 + 7/13) = int(1.04) = 1 (not 0), and 0. Factor 0 is the degenerate image itself (Blend.c's copy).
        var corner = Image(3, 3, (x, y) => x == 0 && y == 0 ? (100, 7, 0) : (0, 0, 0));
        Assert.Equal((8, 1, 0), At(PilOps.Sharpness(corner, 3, 3, 0.0), 3, 1, 1));
        // Factor 0.5: 8 + 0.5·(0 − 8) = 4, 1 + 0.5·(0 − 1) = 0.5 → 0; the corner (a border pixel) stays (100, 7, 0).
        var half = PilOps.Sharpness(corner, 3, 3, 0.5);
        Assert.Equal((4, 0, 0), At(half, 3, 1, 1));
        Assert.Equal((100, 7, 0), At(half, 3, 0, 0));
        // A flat 3×3 of 77 smooths to int(0.5 + 77) = 77 at the centre.
        Assert.Equal((77, 77, 77), At(PilOps.Sharpness(Image(3, 3, (_, _) => (77, 77, 77)), 3, 3, 0.0), 3, 1, 1));
    }

    [Fact]
    public void ShearAndTranslateAreAffineMapsWithTheFill()
    {
        var image = Small();
        // ShearX 0.27, nearest: out(x, y) samples x + 0.5 + 0.27·(y + 0.5): rows 0 and 1 shift by 0 (0.635, 0.905
        // past x), rows 2 and 3 by 1 (1.175, 1.445), whose last pixel falls outside and takes the fill.
        var sheared = RandAugment.ApplyOp(RandAugmentOp.ShearX, 0.27, image, 4, 4, Fill, AffineFilter.Nearest);
        for (int x = 0; x < 4; x++)
        {
            Assert.Equal(At(image, 4, x, 0), At(sheared, 4, x, 0));
            Assert.Equal(At(image, 4, x, 1), At(sheared, 4, x, 1));
            Assert.Equal(x < 3 ? At(image, 4, x + 1, 3) : Fill, At(sheared, 4, x, 3));
        }
        // ShearY the same along columns.
        var shearedY = RandAugment.ApplyOp(RandAugmentOp.ShearY, 0.27, image, 4, 4, Fill, AffineFilter.Nearest);
        Assert.Equal(At(image, 4, 3, 1), At(shearedY, 4, 3, 0));
        Assert.Equal(Fill, At(shearedY, 4, 3, 3));
        // TranslateXRel 0.405 of 4 px = 1.62: out(x) samples x + 2.12 → in(x + 2); x ≥ 2 samples past the edge.
        var moved = RandAugment.ApplyOp(RandAugmentOp.TranslateXRel, 0.405, image, 4, 4, Fill, AffineFilter.Nearest);
        Assert.Equal(At(image, 4, 2, 1), At(moved, 4, 0, 1));
        Assert.Equal(At(image, 4, 3, 1), At(moved, 4, 1, 1));
        Assert.Equal(Fill, At(moved, 4, 2, 1));
        // Bilinear: out(1) samples 3.12, i.e. 2.62 between pixel centres 2 and 3: R 70 + 10·0.62 = 76.2 → 76.
        var movedBilinear = RandAugment.ApplyOp(RandAugmentOp.TranslateXRel, 0.405, image, 4, 4, Fill, AffineFilter.Bilinear);
        Assert.Equal(76, At(movedBilinear, 4, 1, 0).R);
        Assert.Equal(Fill, At(movedBilinear, 4, 2, 0));
        // TranslateYRel −0.405: out(y) samples y + 0.5 − 1.62; rows 0 and 1 are outside, row 3 is in(row 1).
        var down = RandAugment.ApplyOp(RandAugmentOp.TranslateYRel, -0.405, image, 4, 4, Fill, AffineFilter.Nearest);
        Assert.Equal(Fill, At(down, 4, 0, 1));
        Assert.Equal(At(image, 4, 2, 1), At(down, 4, 2, 3));
    }

    [Fact]
    public void BicubicIsPillowsTransformKernel()
    {
        // Columns 0, 0, 100, 100; a shift of half a pixel samples halfway between centres (dx = 0.5), rows exact.
        // Pillow's a = −1 cubic: x = 0: (0, 0, 0, 100) → −12.5 → 0; x = 1: (0, 0, 100, 100) → 50;
        // x = 2: (0, 100, 100, 100) → 112.5 → 112 (the overshoot); x = 3 samples 4.0, outside: the fill.
        var steps = Image(4, 2, (x, _) => x < 2 ? (0, 0, 0) : (100, 100, 100));
        var shifted = PilOps.Affine(steps, 4, 2, [1, 0, 0.5, 0, 1, 0], AffineFilter.Bicubic, Fill);
        Assert.Equal(new[] { 0, 50, 112, 124 }, Enumerable.Range(0, 4).Select(x => At(shifted, 4, x, 1).R));
    }

    [Fact]
    public void RotateIsPillowsRotate()
    {
        // 90° counter-clockwise, nearest: out(x, y) = in(3 − y, x) (the top-right pixel comes to the top left).
        var image = Small();
        var turned = PilOps.Rotate(image, 4, 4, 90, AffineFilter.Nearest, Fill);
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++)
                Assert.Equal(At(image, 4, 3 - y, x), At(turned, 4, x, y));
        // 30° on 8×8: matrix (0.866, −0.5, 2.536; 0.5, 0.866, −1.464). out(0, 0) samples (2.72, −0.78): the fill;
        // out(4, 0) samples (6.18, 1.22) → in(6, 1); out(3, 3) samples (3.82, 3.32) → in(3, 3).
        var big = Image(8, 8, (x, y) => (8 * y + x, 0, 0));
        var rotated = RandAugment.ApplyOp(RandAugmentOp.Rotate, 30, big, 8, 8, Fill, AffineFilter.Nearest);
        Assert.Equal(Fill, At(rotated, 8, 0, 0));
        Assert.Equal(8 * 1 + 6, At(rotated, 8, 4, 0).R);
        Assert.Equal(8 * 3 + 3, At(rotated, 8, 3, 3).R);
        Assert.Equal(big, PilOps.Rotate(big, 8, 8, 0, AffineFilter.Bicubic, Fill)); // magnitude 0: unchanged
    }

    [Fact]
    public void TheDrawOrderIsTimms()
    {
        // Ops Rotate then Invert (numpy's choice first); Rotate: 0.3 ≤ 0.5 applies, gauss from u = 0.5, 0.25
        // (cos(π/2) = 0: magnitude 9), sign draw 0.7 > 0.5 → −27°; Invert: 0.6 > 0.5 skips.
        var image = Image(8, 8, (x, y) => (8 * y + x, 10, 20));
        var original = (byte[])image.Clone();
        var steps = new RandAugment(2, 9, 0.5).Apply(image, 8, 8, Fill, AffineFilter.Bilinear,
            new Scripted(new[] { 0.3, 0.5, 0.25, 0.7, 0.6 }, new[] { (int)RandAugmentOp.Rotate, (int)RandAugmentOp.Invert }));
        var step = Assert.Single(steps);
        Assert.Equal(RandAugmentOp.Rotate, step.Op);
        Assert.Equal(9, step.Magnitude, 12);
        Assert.Equal(-27, step.Argument, 10);
        Assert.Equal(PilOps.Rotate(original, 8, 8, step.Argument, AffineFilter.Bilinear, Fill), image);
        Assert.NotEqual(original, image);
        // The magnitude noise is clipped to [0, 10]: u = e^−8 gives √16 = 4 std above: 9 + 0.5·4 = 11 → 10.
        var clipped = new RandAugment(1, 9, 0.5, Probability: 1).Apply(Image(2, 2, (_, _) => (1, 2, 3)), 2, 2, Fill,
            AffineFilter.Bilinear, new Scripted(new[] { 1 - Math.Exp(-8), 0.0 }, new[] { (int)RandAugmentOp.Invert }));
        Assert.Equal(10, Assert.Single(clipped).Magnitude);
    }

    [Fact]
    public void SeededDrawsFollowTimmsDistribution()
    {
        var augment = RandAugment.Parse("rand-m9-mstd0.5-inc1");
        var random = new Random(11);
        var counts = new int[RandAugment.Ops.Count];
        var magnitudes = new List<double>();
        int negative = 0, signed = 0;
        const int images = 6000;
        for (int i = 0; i < images; i++)
            foreach (var step in augment.Apply(Image(2, 2, (x, y) => (60 * x, 60 * y, 90)), 2, 2, Fill, AffineFilter.Nearest, random))
            {
                counts[(int)step.Op]++;
                magnitudes.Add(step.Magnitude);
                if (step.Op is RandAugmentOp.Rotate or RandAugmentOp.ShearX or RandAugmentOp.TranslateYRel)
                {
                    signed++;
                    if (step.Argument < 0) negative++;
                }
            }
        // Two ops per image, each applied with probability 0.5: one op per image on average, spread evenly over 15.
        Assert.InRange(magnitudes.Count / (double)images, 0.95, 1.05);
        Assert.All(counts, c => Assert.InRange(c, images / 15.0 * 0.8, images / 15.0 * 1.2));
        double mean = magnitudes.Average(), std = Math.Sqrt(magnitudes.Sum(m => (m - mean) * (m - mean)) / magnitudes.Count);
        Assert.InRange(mean, 8.97, 9.03);
        Assert.InRange(std, 0.47, 0.52);
        Assert.All(magnitudes, m => Assert.InRange(m, 0, 10));
        Assert.InRange(negative / (double)signed, 0.45, 0.55);
    }

    [Fact]
    public void TheTrainingTransformAugmentsBeforeNormalisingAndTheRecipeTurnsItOn()
    {
        using var bitmap = new SKBitmap(20, 20);
        for (int y = 0; y < 20; y++) for (int x = 0; x < 20; x++) bitmap.SetPixel(x, y, new SKColor((byte)(10 * x), (byte)(10 * y), 128));
        var plain = Preprocessing.Noah;
        var augmented = plain with { RandAugment = new RandAugment(Probability: 1) };
        var a = new float[3 * 16 * 16];
        var b = new float[3 * 16 * 16];
        plain.TrainTransform(16).Apply(bitmap, new Random(5), a);
        augmented.TrainTransform(16).Apply(bitmap, new Random(5), b);
        Assert.NotEqual(a, b);
        var e1 = new float[a.Length];
        var e2 = new float[a.Length];
        plain.EvalTransform(16).Apply(bitmap, new Random(5), e1);
        augmented.EvalTransform(16).Apply(bitmap, new Random(5), e2);
        Assert.Equal(e1, e2);
        Assert.Contains("+ rand-augment rand-m9-n2-mstd0.5-mmax10-p1-inc1", augmented.Describe(16));
        Assert.DoesNotContain("rand-augment", plain.Describe(16));

        string yaml(string preprocess) => $"""
            variant: VptDeepMicro
            preprocess: {preprocess}
            source: {"{"} builtin: {"{"} classes: 4 {"}"} {"}"}
            stage1: {"{"} epochs: 1 {"}"}
            stage2: {"{"} tasks: [{"{"} name: t, builtin: {"{"} classes: 2 {"}"} {"}"}] {"}"}
            """;
        VariantRegistry.Load(typeof(Pvp.Models.VptDeepMicro).Assembly);
        var recipe = RecipeParser.Parse(yaml("{ preset: noah, rand_augment: rand-m9-mstd0.5-inc1 }"));
        Assert.Equal(RandAugment.Parse("rand-m9-mstd0.5-inc1"), recipe.Preprocess.Resolve(Preprocessing.Pvp).RandAugment);
        Assert.Null(RecipeParser.Parse(yaml("{ preset: noah }")).Preprocess.Resolve(Preprocessing.Pvp).RandAugment);
        var missingInc = Assert.Throws<RecipeException>(() => RecipeParser.Parse(yaml("{ rand_augment: rand-m9 }")));
        Assert.Contains("preprocess.rand_augment", missingInc.Message);
        Assert.Contains("-inc1", missingInc.Message);
        var none = Assert.Throws<RecipeException>(() => RecipeParser.Parse(yaml("{ train_augmentation: none, rand_augment: rand-m9-inc1 }")));
        Assert.Contains("preprocess.rand_augment", none.Message);
    }
}
