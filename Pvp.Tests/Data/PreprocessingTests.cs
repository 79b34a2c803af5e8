using Pvp.Training.Data;
using Pvp.Recipes;
using Pvp.Weights;
using SkiaSharp;

namespace Pvp.Tests.Data;

/// <summary>Preprocessing as data: the families' defaults, overrides, and the transforms against direct pixel arithmetic.</summary>
public class PreprocessingTests
{
    private static SKBitmap Gradient(int width, int height)
    {
        // Every pixel distinct: red encodes the column, green the row, so a crop's offset can be read back.
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                bitmap.SetPixel(x, y, new SKColor((byte)(4 * x), (byte)(4 * y), 128));
        return bitmap;
    }

    [Fact]
    public void CheckpointFamiliesHaveTheirReferenceDefaults()
    {
        Assert.Equal((0.5f, 0.5f, 0.5f), Preprocessing.ForFamily(KeyLayout.Timm).Mean);
        Assert.Equal(0.9, Preprocessing.ForFamily(KeyLayout.Timm).CropFraction);
        Assert.Equal(Interpolation.Bicubic, Preprocessing.ForFamily(KeyLayout.Timm).Interpolation);
        Assert.Equal(Preprocessing.ImageNetStd, Preprocessing.ForFamily(KeyLayout.Torchvision).Std);
        Assert.Equal(256, Preprocessing.ForFamily(KeyLayout.Torchvision).ScaledSide(224));
        Assert.Equal(ResizeMode.Squash, Preprocessing.ForFamily(KeyLayout.HuggingFace).Resize);
        Assert.Equal((0.5f, 0.5f, 0.5f), Preprocessing.ForFamily(KeyLayout.Jax).Std);
        Assert.Equal("pvp", Preprocessing.ForFamily(null).Name);
        // VPT: ImageNet statistics and Resize(256) → RandomCrop(224) whatever the checkpoint.
        Assert.Equal(TrainAugmentation.ResizeRandomCrop, Preprocessing.Vpt.Augmentation);
        Assert.Equal(256, Preprocessing.Vpt.ScaledSide(224));
        // Detected from a file: the torchvision fixture re-laid as Google's .npz.
        Assert.Equal(KeyLayout.Jax, KeyLayouts.DetectFile(Numerics.TestTensors.TestData("jax_layout.npz")));
    }

    [Fact]
    public void ARecipeOverridesFieldsOfAPresetAndSaysSo()
    {
        var spec = new PreprocessSpec("vpt", Mean: (0.5f, 0.5f, 0.5f), Std: (0.5f, 0.5f, 0.5f));
        var resolved = spec.Resolve(Preprocessing.Timm);
        Assert.Equal("vpt + recipe overrides", resolved.Name);
        Assert.Equal((0.5f, 0.5f, 0.5f), resolved.Mean);
        Assert.Equal(TrainAugmentation.ResizeRandomCrop, resolved.Augmentation);
        Assert.Equal(Preprocessing.Timm, PreprocessSpec.FromCheckpoint.Resolve(Preprocessing.Timm));
        Assert.StartsWith("vpt + recipe overrides: mean (0.5, 0.5, 0.5), std (0.5, 0.5, 0.5), resize short side 256 → centre crop 224 (crop 0.875), bilinear, train resize 256 → random crop 224 + flip 0.5",
            resolved.Describe(224));
        Assert.Throws<ArgumentException>(() => new PreprocessSpec("pvp", Std: (0.5f, 0f, 0.5f)).Resolve(Preprocessing.Pvp));
    }

    [Fact]
    public void NormalisationUsesTheStatisticsGiven()
    {
        using var white = new SKBitmap(new SKImageInfo(8, 8, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        white.Erase(SKColors.White);
        var output = new float[3 * 8 * 8];
        Preprocessing.Timm.EvalTransform(8).Apply(white, new Random(0), output);
        Assert.All(output, v => Assert.Equal(1.0f, v, 3)); // (1 − 0.5) / 0.5
        Preprocessing.Vpt.EvalTransform(8).Apply(white, new Random(0), output);
        Assert.Equal((1 - 0.485f) / 0.229f, output[0], 3);
        Assert.Equal((1 - 0.406f) / 0.225f, output[2 * 64], 3);
    }

    [Fact]
    public void VptsResizeRandomCropIsAnIntegerWindowOfTheResizedImage()
    {
        // An image already at the resize target (short side 36 = floor(32 / 0.875)): the crop must be an exact 32×32 window
        // at an integer offset, read back from the gradient and checked pixel by pixel against the source.
        using var image = Gradient(36, 50);
        var preprocessing = Preprocessing.Vpt with { Mean = (0, 0, 0), Std = (1, 1, 1), FlipProbability = 0 };
        var transform = preprocessing.TrainTransform(32);
        var offsets = new HashSet<(int, int)>();
        var output = new float[3 * 32 * 32];
        for (int seed = 0; seed < 12; seed++)
        {
            transform.Apply(image, new Random(seed), output);
            int x0 = (int)Math.Round(output[0] * 255 / 4), y0 = (int)Math.Round(output[32 * 32] * 255 / 4);
            Assert.InRange(x0, 0, 36 - 32);
            Assert.InRange(y0, 0, 50 - 32);
            offsets.Add((x0, y0));
            for (int y = 0; y < 32; y += 7)
                for (int x = 0; x < 32; x += 5)
                {
                    Assert.Equal(4 * (x0 + x) / 255f, output[y * 32 + x], 3);
                    Assert.Equal(4 * (y0 + y) / 255f, output[32 * 32 + y * 32 + x], 3);
                }
        }
        Assert.True(offsets.Count > 3, "the crop offset should vary with the seed");
    }

    [Fact]
    public void NoahsSquashThenCentreCropKeepsTheSameShareOfEachSide()
    {
        // Resize((S, S)) then CenterCrop(size): the window is the centre (size / S) of the width and of the height.
        using var image = Gradient(64, 32);
        var noah = Preprocessing.Noah with { Mean = (0, 0, 0), Std = (1, 1, 1) };
        var output = new float[3 * 28 * 28];
        noah.EvalTransform(28).Apply(image, new Random(0), output); // S = floor(28 / 0.875) = 32
        double share = 28.0 / 32;
        // Centre pixel of the output maps to the centre of the source in both directions.
        Assert.Equal(4 * 32 / 255.0, output[14 * 28 + 14], 1);
        Assert.Equal(4 * 16 / 255.0, output[28 * 28 + 14 * 28 + 14], 1);
        // The left edge of the output is (1 − share) / 2 of the way into the source's width.
        Assert.Equal(4 * (64 * (1 - share) / 2) / 255.0, output[14 * 28], 1);
    }
}
