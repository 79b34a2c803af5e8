using Pvp.Training.Data;
using Pvp.Recipes;
using SkiaSharp;

namespace Pvp.Tests.Data;

/// <summary>
/// Random erasing against timm's definition (<c>timm/data/random_erasing.py</c>, pixel mode, one box): the draws
/// scripted so that the box is hand arithmetic, timm's ten attempts, the box bounds and the noise's statistics seeded,
/// and the training transform's use of it.
/// </summary>
public sealed class RandomErasingTests
{
    /// <summary>A Random whose draws are given: NextDouble from one queue, Next(min, max) from another (then 0.5 and min).</summary>
    private sealed class Scripted(IEnumerable<double> doubles, IEnumerable<int> ints) : Random
    {
        private readonly Queue<double> doubles = new(doubles);
        private readonly Queue<int> ints = new(ints);
        public override double NextDouble() => doubles.Count > 0 ? doubles.Dequeue() : 0.5;
        public override int Next(int minValue, int maxValue)
        {
            int v = ints.Count > 0 ? ints.Dequeue() : minValue;
            Assert.InRange(v, minValue, maxValue - 1);
            return v;
        }
    }

    private static float[] Ramp(int channels, int h, int w) => Enumerable.Range(0, channels * h * w).Select(i => (float)i).ToArray();

    [Fact]
    public void TheBoxIsTimmsArithmetic()
    {
        // 0.1 ≤ 0.25: erase. Area U = 0.5 → (0.02 + 0.5·(1/3 − 0.02))·100 = 17.67; aspect U = 0.5 → exp(0) = 1;
        // h = w = round(√17.67) = round(4.20) = 4. top = 2 of [0, 6], left = 5 of [0, 6]. Noise: u1 = 1 − 0.5, u2 = 0.5 →
        // √(−2 ln 0.5)·cos(π) = −1.17741.
        var image = Ramp(3, 10, 10);
        var box = new RandomErasing(0.25).Apply(image, 3, 10, 10, new Scripted(new[] { 0.1, 0.5, 0.5 }, new[] { 2, 5 }));
        Assert.Equal((2, 5, 4, 4), box);
        float noise = (float)(Math.Sqrt(-2 * Math.Log(0.5)) * Math.Cos(Math.PI));
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 10; y++)
                for (int x = 0; x < 10; x++)
                {
                    int i = (c * 10 + y) * 10 + x;
                    bool inside = y is >= 2 and < 6 && x is >= 5 and < 9;
                    Assert.Equal(inside ? noise : i, image[i], 5);
                }
    }

    [Fact]
    public void ProbabilityTenAttemptsAndRoundingAreTimms()
    {
        // 0.3 > 0.25: not erased, and nothing else is drawn.
        var untouched = Ramp(1, 10, 10);
        Assert.Null(new RandomErasing(0.25).Apply(untouched, 1, 10, 10, new Scripted(new[] { 0.3 }, Array.Empty<int>())));
        Assert.Equal(Ramp(1, 10, 10), untouched);
        // Ten attempts, each the largest area at the largest aspect: h = round(√(33.3·3.33)) = 11 ≥ 10, never fits.
        var tooBig = Enumerable.Repeat(1.0, 20).Prepend(0.0);
        Assert.Null(new RandomErasing(0.25).Apply(Ramp(1, 10, 10), 1, 10, 10, new Scripted(tooBig, Array.Empty<int>())));
        // Nine misses, then the tenth attempt fits: area U = 0 → 2 px², aspect 1 → h = w = round(1.414) = 1.
        var tenth = Enumerable.Repeat(1.0, 18).Prepend(0.0).Concat(new[] { 0.0, 0.5 });
        Assert.Equal((0, 0, 1, 1), new RandomErasing(0.25).Apply(Ramp(1, 10, 10), 1, 10, 10, new Scripted(tenth, new[] { 0, 0 })));
        // Round half to even, as Python's round: area 6.25 at aspect 1 gives h = w = round(2.5) = 2, not 3.
        double u = (6.25 / 100 - 0.02) / (1.0 / 3 - 0.02);
        Assert.Equal((0, 0, 2, 2), new RandomErasing(0.25).Apply(Ramp(1, 10, 10), 1, 10, 10, new Scripted(new[] { 0.0, u, 0.5 }, new[] { 0, 0 })));
    }

    [Fact]
    public void SeededBoxesStayInTimmsBoundsAndTheNoiseIsStandardNormal()
    {
        var random = new Random(7);
        var erasing = new RandomErasing(0.25);
        int erased = 0, trials = 4000;
        var noise = new List<double>();
        const int side = 64;
        for (int t = 0; t < trials; t++)
        {
            var image = new float[side * side];
            Array.Fill(image, 100f);
            if (erasing.Apply(image, 1, side, side, random) is not { } box) { Assert.All(image, v => Assert.Equal(100f, v)); continue; }
            erased++;
            Assert.True(box.Top >= 0 && box.Left >= 0 && box.Top + box.Height <= side && box.Left + box.Width <= side);
            double share = (double)box.Height * box.Width / (side * side), aspect = (double)box.Height / box.Width;
            // Rounding h and w to whole pixels moves the area and the aspect a little past timm's continuous bounds.
            Assert.InRange(share, 0.02 * 0.75, 1.0 / 3 * 1.1);
            Assert.InRange(aspect, 0.3 * 0.8, 1 / 0.3 * 1.25);
            for (int y = 0; y < side; y++)
                for (int x = 0; x < side; x++)
                {
                    bool inside = y >= box.Top && y < box.Top + box.Height && x >= box.Left && x < box.Left + box.Width;
                    if (inside) noise.Add(image[y * side + x]);
                    else Assert.Equal(100f, image[y * side + x]);
                }
        }
        Assert.InRange(erased / (double)trials, 0.23, 0.27);
        double mean = noise.Average(), std = Math.Sqrt(noise.Sum(v => (v - mean) * (v - mean)) / noise.Count);
        Assert.InRange(mean, -0.01, 0.01);
        Assert.InRange(std, 0.99, 1.01);
    }

    [Fact]
    public void TheTrainingTransformErasesOneBoxAfterNormalisingAndTheRecipeTurnsItOn()
    {
        using var bitmap = new SKBitmap(20, 20);
        for (int y = 0; y < 20; y++) for (int x = 0; x < 20; x++) bitmap.SetPixel(x, y, new SKColor((byte)(10 * x), (byte)(10 * y), 128));
        var plain = Preprocessing.Vpt with { CropFraction = 1 };
        var withErasing = plain with { Erasing = new RandomErasing(1.0) };
        var a = new float[3 * 16 * 16];
        var b = new float[3 * 16 * 16];
        plain.TrainTransform(16).Apply(bitmap, new Random(3), a);
        withErasing.TrainTransform(16).Apply(bitmap, new Random(3), b);
        // The crop and flip draws come first, so outside one box per channel (the same box) the images agree.
        var differs = Enumerable.Range(0, a.Length).Where(i => a[i] != b[i]).ToList();
        Assert.NotEmpty(differs);
        var perChannel = differs.GroupBy(i => i / 256).Select(g => g.Select(i => i % 256).ToHashSet()).ToList();
        var rows = perChannel[0].Select(p => p / 16).ToList();
        var cols = perChannel[0].Select(p => p % 16).ToList();
        Assert.Equal((rows.Max() - rows.Min() + 1) * (cols.Max() - cols.Min() + 1), perChannel[0].Count); // a rectangle
        Assert.All(perChannel, set => Assert.Subset(perChannel[0], set));
        // The evaluation transform never erases.
        var e1 = new float[a.Length];
        var e2 = new float[a.Length];
        plain.EvalTransform(16).Apply(bitmap, new Random(3), e1);
        withErasing.EvalTransform(16).Apply(bitmap, new Random(3), e2);
        Assert.Equal(e1, e2);
        Assert.EndsWith("+ random erasing 1 (pixel)", withErasing.Describe(16));

        string yaml(string preprocess) => $"""
            variant: VptDeepMicro
            preprocess: {preprocess}
            source: {"{"} builtin: {"{"} classes: 4 {"}"} {"}"}
            stage1: {"{"} epochs: 1 {"}"}
            stage2: {"{"} tasks: [{"{"} name: t, builtin: {"{"} classes: 2 {"}"} {"}"}] {"}"}
            """;
        VariantRegistry.Load(typeof(Pvp.Models.VptDeepMicro).Assembly);
        var recipe = RecipeParser.Parse(yaml("{ preset: noah, random_erasing: 0.25 }"));
        Assert.Equal(0.25, recipe.Preprocess.Resolve(Preprocessing.Pvp).Erasing!.Probability);
        Assert.Null(RecipeParser.Parse(yaml("{ preset: noah }")).Preprocess.Resolve(Preprocessing.Pvp).Erasing); // off by default
        var error = Assert.Throws<RecipeException>(() => RecipeParser.Parse(yaml("{ train_augmentation: none, random_erasing: 0.25 }")));
        Assert.Contains("preprocess.random_erasing", error.Message);
    }
}
