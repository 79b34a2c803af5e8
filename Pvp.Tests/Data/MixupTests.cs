using Pvp.Models;
using Pvp.Recipes;
using Pvp.Training;
using Pvp.Training.Data;
using static TorchSharp.torch;

namespace Pvp.Tests.Data;

/// <summary>
/// Mixup / CutMix against timm's <c>timm/data/mixup.py</c> (<c>Mixup</c>, batch mode, <c>correct_lam=True</c>): the
/// smoothed mixed targets and the clipped CutMix box by hand, the seeded λ distributions, the mixed images, the trainer
/// with mixup (it learns, with soft targets), the checks on its options and the recipe key.
/// </summary>
public sealed class MixupTests
{
    /// <summary>A Random whose Next(min, max) draws are given.</summary>
    private sealed class Scripted(IEnumerable<int> ints) : Random
    {
        private readonly Queue<int> ints = new(ints);
        public override int Next(int minValue, int maxValue)
        {
            int v = ints.Dequeue();
            Assert.InRange(v, minValue, maxValue - 1);
            return v;
        }
    }

    [Fact]
    public void TargetsAreTimmsSmoothedMix()
    {
        // Labels (0, 2, 1), flipped (1, 2, 0); 3 classes, smoothing 0.1: off = 0.1/3, on = 0.9 + 0.1/3; λ = 0.7.
        double off = 0.1 / 3, on = 1 - 0.1 + off;
        using var labels = tensor(new long[] { 0, 2, 1 });
        using var targets = Mixup.Targets(labels, 3, 0.7, 0.1);
        var expected = new[]
        {
            0.7 * on + 0.3 * off, 0.7 * off + 0.3 * on, off, // 0.66333, 0.30333, 0.03333
            off, off, on,                                    // paired with itself
            0.3 * on + 0.7 * off, 0.7 * on + 0.3 * off, off,
        };
        var actual = targets.data<float>().ToArray();
        for (int i = 0; i < 9; i++) Assert.Equal(expected[i], actual[i], 6);
        Assert.Equal(0.66333, actual[0], 5);
    }

    [Fact]
    public void TheCutMixBoxIsRandBboxClippedAndLambdaIsCorrected()
    {
        // λ = 0.64 on 10×10: cut = int(10·√0.36) = 6; centre (cy 1, cx 8): rows clip(1 − 3, 0, 10) = 0 … 1 + 3 = 4,
        // cols 8 − 3 = 5 … clip(11) = 10; area 4·5 = 20: λ = 1 − 20/100 = 0.8.
        var (box, lambda) = Mixup.CutMixBox(10, 10, 0.64, new Scripted(new[] { 1, 8 }));
        Assert.Equal((0, 4, 5, 10), box);
        Assert.Equal(0.8, lambda, 12);
        // Inside: cut = int(7·√0.5) = 4 rows, int(9·√0.5) = 6 cols; centre (3, 4): rows 1…5, cols 1…7: λ = 1 − 24/63.
        var (inner, innerLambda) = Mixup.CutMixBox(7, 9, 0.5, new Scripted(new[] { 3, 4 }));
        Assert.Equal((1, 5, 1, 7), inner);
        Assert.Equal(1 - 24.0 / 63, innerLambda, 12);
    }

    [Fact]
    public void SeededDrawsFollowTimmsParameters()
    {
        var mixup = new Mixup();
        var random = new Random(3);
        var cut = new List<double>();
        var blend = new List<double>();
        for (int i = 0; i < 20000; i++)
        {
            var (lambda, isCut) = mixup.DrawParameters(random);
            (isCut ? cut : blend).Add(lambda);
        }
        static (double Mean, double Var) Stats(List<double> v) => (v.Average(), v.Sum(x => (x - v.Average()) * (x - v.Average())) / v.Count);
        // switch_prob 0.5; CutMix λ ~ Beta(1, 1): mean ½, variance 1/12; mixup λ ~ Beta(0.8, 0.8): variance 1/(4·2.6).
        Assert.InRange(cut.Count / 20000.0, 0.48, 0.52);
        var (cm, cv) = Stats(cut);
        var (bm, bv) = Stats(blend);
        Assert.InRange(cm, 0.49, 0.51);
        Assert.InRange(cv, 1 / 12.0 * 0.95, 1 / 12.0 * 1.05);
        Assert.InRange(bm, 0.49, 0.51);
        Assert.InRange(bv, 1 / 10.4 * 0.95, 1 / 10.4 * 1.05);
        Assert.All(cut.Concat(blend), l => Assert.InRange(l, 0, 1));
        // prob 0: never mixed (λ = 1), the images and targets are the unmixed ones.
        Assert.Equal((1.0, false), new Mixup(Probability: 0).DrawParameters(new Random(1)));
    }

    [Fact]
    public void MixedImagesAreTheBlendOrThePastedBox()
    {
        using var images = arange(4 * 1 * 4 * 4, dtype: ScalarType.Float32).reshape(4, 1, 4, 4);
        using var labels = tensor(new long[] { 0, 1, 2, 3 });
        var x = images.data<float>().ToArray();
        float At(float[] v, int n, int y, int c) => v[n * 16 + y * 4 + c];

        var (blended, blendTargets, blendDraw) = new Mixup(CutmixAlpha: 0).Apply(images, labels, 4, new Random(2));
        double l = blendDraw.Lambda;
        Assert.Null(blendDraw.Box);
        var b = blended.data<float>().ToArray();
        for (int n = 0; n < 4; n++)
            for (int i = 0; i < 16; i++)
                Assert.Equal(l * x[n * 16 + i] + (1 - l) * x[(3 - n) * 16 + i], b[n * 16 + i], 3);
        Assert.Equal(Mixup.Targets(labels, 4, l, 0.1).data<float>().ToArray(), blendTargets.data<float>().ToArray());

        var (pasted, pasteTargets, pasteDraw) = new Mixup(MixupAlpha: 0).Apply(images, labels, 4, new Random(5));
        var (top, bottom, left, right) = pasteDraw.Box!.Value;
        Assert.Equal(1 - (bottom - top) * (right - left) / 16.0, pasteDraw.Lambda, 12);
        var p = pasted.data<float>().ToArray();
        for (int n = 0; n < 4; n++)
            for (int y = 0; y < 4; y++)
                for (int c = 0; c < 4; c++)
                {
                    bool inside = y >= top && y < bottom && c >= left && c < right;
                    Assert.Equal(At(x, inside ? 3 - n : n, y, c), At(p, n, y, c));
                }
        Assert.Equal(Mixup.Targets(labels, 4, pasteDraw.Lambda, 0.1).data<float>().ToArray(), pasteTargets.data<float>().ToArray());
        Assert.Equal(x, images.data<float>().ToArray()); // the batch itself is left as it was
    }

    [Fact]
    public void TheTrainerLearnsWithMixupAndChecksItsOptions()
    {
        var train = SyntheticShapes.Target(SyntheticSplit.Train, imagesPerClass: 24, classCount: 5);
        var test = SyntheticShapes.Target(SyntheticSplit.Test, imagesPerClass: 20, classCount: 5);
        var options = new TrainerOptions
        {
            Epochs = 8, BatchSize = 16, LearningRate = 3e-3, WarmupEpochs = 0.5, Augment = false, LoaderWorkers = 2,
            Mixup = new Mixup(),
        };
        manual_seed(1);
        using var model = new FullFineTuneMicro(numClasses: 5);
        var losses = new List<double>();
        var result = Trainer.Fit(model, train, test, options, observer: new Losses(losses));
        Assert.True(losses.TakeLast(7).Average() < losses.Take(7).Average() * 0.9,
            $"loss should fall: first {losses.Take(7).Average():F3}, last {losses.TakeLast(7).Average():F3}");
        Assert.True(result.Evaluation!.Top1 > 0.3, $"5 classes: chance is 20%, got {result.Evaluation}");

        using var other = new FullFineTuneMicro(numClasses: 5);
        Assert.Contains("LabelSmoothing = 0.1 with Mixup", Assert.Throws<ArgumentException>(() =>
            Trainer.Fit(other, train, null, options with { LabelSmoothing = 0.1 })).Message);
        Assert.Contains("BatchSize = 15 with Mixup", Assert.Throws<ArgumentException>(() =>
            Trainer.Fit(other, train, null, options with { BatchSize = 15 })).Message);
        Assert.Contains("not both 0", Assert.Throws<ArgumentException>(() =>
            Trainer.Fit(other, train, null, options with { Mixup = new Mixup(0, 0) })).Message);

        // A training set smaller than the batch is one batch; odd (5 images), it trains, and the run says how it pairs.
        var five = SyntheticShapes.Target(SyntheticSplit.Train, imagesPerClass: 1, classCount: 5);
        var observer = new Losses(new List<double>());
        var small = Trainer.Fit(other, five, null, options with { Epochs = 1 }, observer: observer);
        Assert.Equal(1, small.Steps);
        Assert.Contains(observer.Messages, m => m.Contains("5 training images are one odd batch", StringComparison.Ordinal));
    }

    private sealed class Losses(List<double> losses) : ITrainingObserver
    {
        public readonly List<string> Messages = new();
        public void Step(long step, double loss, double learningRate) => losses.Add(loss);
        public void Message(string text) => Messages.Add(text);
    }

    [Fact]
    public void TheRecipeKeyIsTimmsArgumentsWithNoahsDefaults()
    {
        string yaml(string stage2) => $$"""
            variant: VptDeepMicro
            source: { builtin: { classes: 4 } }
            stage1: { epochs: 1 }
            stage2: { tasks: [{ name: t, builtin: { classes: 2 } }]{{stage2}} }
            """;
        VariantRegistry.Load(typeof(Pvp.Models.VptDeepMicro).Assembly);
        Assert.Null(RecipeParser.Parse(yaml("")).Stage2.Settings.Mixup); // off by default
        Assert.Equal(new Mixup(0.8, 1.0, 1.0, 0.5, 0.1), RecipeParser.Parse(yaml(", mixup: {}")).Stage2.Settings.Mixup);
        Assert.Equal(new Mixup(0.2, 0, 0.5, 0.5, 0), RecipeParser.Parse(yaml(
            ", mixup: { mixup_alpha: 0.2, cutmix_alpha: 0, prob: 0.5, label_smoothing: 0 }")).Stage2.Settings.Mixup);
        Assert.Equal(new Mixup(), RecipeParser.Parse(yaml(", mixup: {}")).Stage2.Settings.ToOptions("cpu", 0, 1, Preprocessing.Pvp, true).Mixup);
        Assert.Contains("stage2.label_smoothing", Assert.Throws<RecipeException>(() =>
            RecipeParser.Parse(yaml(", mixup: {}, label_smoothing: 0.1"))).Message);
        Assert.Contains("stage2.batch: 15 is odd", Assert.Throws<RecipeException>(() =>
            RecipeParser.Parse(yaml(", mixup: {}, batch: 15"))).Message);
        Assert.Contains("both 0", Assert.Throws<RecipeException>(() =>
            RecipeParser.Parse(yaml(", mixup: { mixup_alpha: 0, cutmix_alpha: 0 }"))).Message);
        Assert.Contains("cutmix_alpa", Assert.Throws<RecipeException>(() =>
            RecipeParser.Parse(yaml(", mixup: { cutmix_alpa: 1 }"))).Message);
        Assert.Contains("stage2.mixup: is empty", Assert.Throws<RecipeException>(() =>
            RecipeParser.Parse(yaml(", mixup: "))).Message);
    }

    [Fact]
    public void NoahsRecipeTurnsOnItsAugmentations()
    {
        VariantRegistry.Load(typeof(Pvp.Models.VptDeepMicro).Assembly);
        var noah = RecipeParser.Load(Pvp.Tests.Numerics.TestTensors.RepoPath("recipes/noah-fewshot-fgvc.yaml"));
        // supernet_train_prompt.py's defaults: --mixup 0.8 --cutmix 1.0 --mixup-prob 1.0 --mixup-switch-prob 0.5
        // --smoothing 0.1, --aa rand-m9-mstd0.5-inc1, --reprob 0.25.
        Assert.Equal(new Mixup(0.8, 1.0, 1.0, 0.5, 0.1), noah.Stage2.Settings.Mixup);
        Assert.Equal(0, noah.Stage2.Settings.LabelSmoothing);
        var preprocessing = noah.Preprocess.Resolve(Preprocessing.Pvp);
        Assert.Equal(new RandAugment(2, 9, 0.5, 10, 0.5), preprocessing.RandAugment);
        Assert.Equal(0.25, preprocessing.Erasing!.Probability);
        Assert.Equal(Interpolation.Bicubic, preprocessing.Interpolation); // RandAugment's geometric ops resample so
    }
}
