using Pvp.Training.Data;
using Pvp.Tests.Numerics;
using SkiaSharp;
using static TorchSharp.torch;

namespace Pvp.Tests.Data;

/// <summary>The built-in dataset, k-shot splits, transforms and the prefetching loader.</summary>
public sealed class SamplingAndLoadingTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("pvp-loading-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private static bool SamePixels(SKBitmap a, SKBitmap b) => a.GetPixelSpan().SequenceEqual(b.GetPixelSpan());

    [Fact]
    public void BuiltInDatasetIsDeterministicWithDisjointSourceAndTargetClasses()
    {
        var source = SyntheticShapes.Source(SyntheticSplit.Train, imagesPerClass: 3);
        var target = SyntheticShapes.Target(SyntheticSplit.Train, imagesPerClass: 3);
        var targetTest = SyntheticShapes.Target(SyntheticSplit.Test, imagesPerClass: 3);
        Assert.Equal(40, source.Classes.Count);
        Assert.Equal(10, target.Classes.Count);
        Assert.Empty(source.Classes.Intersect(target.Classes));
        Assert.Equal(target.Classes, targetTest.Classes);
        using (var a = target.Read(4))
        using (var b = SyntheticShapes.Target(SyntheticSplit.Train, imagesPerClass: 3).Read(4))
        using (var test = targetTest.Read(4))
        using (var otherSeed = SyntheticShapes.Target(SyntheticSplit.Train, imagesPerClass: 3, seed: 1).Read(4))
        {
            Assert.True(SamePixels(a, b), "same seed, same image");
            Assert.False(SamePixels(a, test), "train and test images differ");
            Assert.Equal((32, 32), (a.Width, a.Height));
            Assert.NotEqual(SyntheticShapes.Target(SyntheticSplit.Train, 1, seed: 1).Classes, target.Classes);
            Assert.False(SamePixels(a, otherSeed), "another seed draws other classes and nuisances");
        }
    }

    [Fact]
    public void BuiltInDatasetWritesAnImageFolderThatReadsBackPixelForPixel()
    {
        var target = SyntheticShapes.Target(SyntheticSplit.Test, imagesPerClass: 2, classCount: 3);
        target.WriteImageFolder(root);
        var folder = FileDataset.ImageFolder(root);
        Assert.Equal(target.Classes.OrderBy(c => c, StringComparer.Ordinal), folder.Classes);
        Assert.Equal(6, folder.Count);
        for (int i = 0; i < folder.Count; i++)
        {
            int original = Enumerable.Range(0, target.Count).Single(j => target.NameOf(j) == folder.NameOf(i));
            using var a = target.Read(original);
            using var b = folder.Read(i);
            Assert.True(SamePixels(a, b), folder.NameOf(i));
        }
    }

    [Fact]
    public void KShotSplitsAreSeededWrittenAndReadBack()
    {
        var train = SyntheticShapes.Target(SyntheticSplit.Train, imagesPerClass: 20);
        var split = KShotSampler.Sample(train, shots: 4, seed: 3);
        Assert.Equal(40, split.Count);
        Assert.All(train.Classes.Select((_, c) => split.Count(i => train.LabelOf(i) == c)), n => Assert.Equal(4, n));
        Assert.Equal(split, KShotSampler.Sample(train, 4, 3));
        Assert.NotEqual(split, KShotSampler.Sample(train, 4, 4));

        string path = Path.Combine(root, "splits/4shot_seed3.txt");
        KShotSampler.Write(train, split, path, "4-shot, seed 3");
        Assert.StartsWith("# 4-shot, seed 3", File.ReadAllText(path));
        Assert.Equal(split, KShotSampler.Read(train, path));

        File.AppendAllLines(path, new[] { "nowhere/train_00001.png 0" });
        Assert.Contains("4shot_seed3.txt:42: image 'nowhere/train_00001.png' is not in the dataset", Assert.Throws<DatasetException>(() => KShotSampler.Read(train, path)).Message);
        var error = Assert.Throws<DatasetException>(() => KShotSampler.Sample(SyntheticShapes.Target(SyntheticSplit.Train, 3), 8, 0));
        Assert.Contains("has 3 training image(s); a 8-shot split needs 8", error.Message);
    }

    [Fact]
    public void EvalTransformNormalisesWithImageNetStatistics()
    {
        using var bitmap = new SKBitmap(new SKImageInfo(40, 30, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        bitmap.Erase(new SKColor(255, 128, 0));
        var output = new float[3 * 16 * 16];
        new EvalTransform(16).Apply(bitmap, new Random(0), output);
        Assert.All(output.Take(256), v => Assert.Equal((1f - 0.485f) / 0.229f, v, 3));
        Assert.All(output.Skip(256).Take(256), v => Assert.Equal((128 / 255f - 0.456f) / 0.224f, v, 3));
        Assert.All(output.Skip(512), v => Assert.Equal((0f - 0.406f) / 0.225f, v, 3));
    }

    [Fact]
    public void CentreCropAndFlipPutPixelsWhereExpected()
    {
        // Left half red, right half blue; a 1.0 centre crop keeps red on the left, a forced flip moves it right.
        using var bitmap = new SKBitmap(new SKImageInfo(64, 64, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.Blue);
            using var red = new SKPaint { Color = SKColors.Red };
            canvas.DrawRect(0, 0, 32, 64, red);
        }
        var plain = new float[3 * 8 * 8];
        new EvalTransform(8, cropFraction: 1.0).Apply(bitmap, new Random(0), plain);
        var flipped = new float[3 * 8 * 8];
        new TrainTransform(8, Preprocessing.Pvp with { FlipProbability = 1.0 }, scale: (1, 1), ratio: (1, 1)).Apply(bitmap, new Random(0), flipped);
        float redHigh = (1f - 0.485f) / 0.229f;
        Assert.Equal(redHigh, plain[8 * 4 + 0], 2);   // row 4, column 0: red channel high
        Assert.True(plain[8 * 4 + 7] < 0);            // column 7: blue, red channel low
        Assert.Equal(redHigh, flipped[8 * 4 + 7], 2); // mirrored
        Assert.True(flipped[8 * 4 + 0] < 0);
    }

    [Fact]
    public void LoaderIsDeterministicCoversEachImageOnceAndResumes()
    {
        var dataset = SyntheticShapes.Target(SyntheticSplit.Train, imagesPerClass: 5); // 50 images
        var transform = new TrainTransform(32);
        var a = new BatchLoader(dataset, transform, batchSize: 16, shuffle: true, seed: 7, workers: 2);
        var b = new BatchLoader(dataset, transform, batchSize: 16, shuffle: true, seed: 7, workers: 1, prefetch: 1);
        var c = new BatchLoader(dataset, transform, batchSize: 16, shuffle: true, seed: 8);
        Assert.Equal(4, a.BatchesPerEpoch);

        var first = a.Epoch(1).ToList();
        var second = b.Epoch(1).ToList();
        var other = c.Epoch(1).ToList();
        Assert.Equal(new long[] { 16, 3, 32, 32 }, first[0].Images.shape);
        Assert.Equal(new long[] { 2, 3, 32, 32 }, first[3].Images.shape);
        Assert.Equal(Enumerable.Range(0, 50), first.SelectMany(x => x.Indices).OrderBy(i => i));
        for (int i = 0; i < first.Count; i++)
        {
            Assert.Equal(first[i].Indices, second[i].Indices);
            Assert.True(TestTensors.Same(first[i].Images, second[i].Images), "same seed: same pixels whatever the thread count");
            Assert.True(TestTensors.Same(first[i].Labels, tensor(first[i].Indices.Select(j => (long)dataset.LabelOf(j)).ToArray())));
        }
        Assert.NotEqual(first[0].Indices, other[0].Indices);
        Assert.NotEqual(first[0].Indices, a.Epoch(2).First().Indices);

        var resumed = a.Epoch(1, skipBatches: 2).ToList();
        Assert.Equal(2, resumed.Count);
        Assert.True(TestTensors.Same(resumed[0].Images, first[2].Images));
        foreach (var batch in first.Concat(second).Concat(other).Concat(resumed)) batch.Dispose();
    }

    [Fact]
    public void LoaderSurfacesDecodeErrorsWithTheImageName()
    {
        var folder = Path.Combine(root, "tree/only");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "broken.png"), "not a png");
        var dataset = FileDataset.ImageFolder(Path.Combine(root, "tree"));
        var loader = new BatchLoader(dataset, new EvalTransform(8), batchSize: 1, shuffle: false);
        var error = Assert.Throws<ImageReadException>(() => loader.Epoch(0).ToList());
        Assert.Contains("broken.png", error.Message);
    }
}
