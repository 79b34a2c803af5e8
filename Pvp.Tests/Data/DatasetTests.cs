using Pvp.Data;
using SkiaSharp;

namespace Pvp.Tests.Data;

/// <summary>ImageFolder trees, list files, FGVC JSON splits, decoding, and every error they can raise.</summary>
public sealed class DatasetTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("pvp-data-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private static SKBitmap Solid(int width, int height, SKColor color)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        bitmap.Erase(color);
        return bitmap;
    }

    private string WriteImage(string relative, SKColor color, SKEncodedImageFormat format = SKEncodedImageFormat.Png)
    {
        string path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var bitmap = Solid(20, 16, color);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, 100);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }

    [Fact]
    public void ImageFolderReadsClassesInNameOrderAndDecodesEachFormat()
    {
        WriteImage("images/zebra/a.png", SKColors.Red);
        WriteImage("images/zebra/b.jpg", SKColors.Green, SKEncodedImageFormat.Jpeg);
        WriteImage("images/ant/nested/c.webp", SKColors.Blue, SKEncodedImageFormat.Webp);
        File.WriteAllText(Path.Combine(root, "images/ant/notes.txt"), "not an image");
        var dataset = FileDataset.ImageFolder(Path.Combine(root, "images"));
        Assert.Equal(new[] { "ant", "zebra" }, dataset.Classes);
        Assert.Equal(3, dataset.Count);
        Assert.Equal(new[] { "ant/nested/c.webp", "zebra/a.png", "zebra/b.jpg" }, Enumerable.Range(0, 3).Select(dataset.NameOf));
        Assert.Equal(new[] { 0, 1, 1 }, Enumerable.Range(0, 3).Select(dataset.LabelOf));
        var expected = new[] { SKColors.Blue, SKColors.Red, SKColors.Green };
        for (int i = 0; i < 3; i++)
        {
            using var bitmap = dataset.Read(i);
            Assert.Equal((20, 16), (bitmap.Width, bitmap.Height));
            var pixel = bitmap.GetPixel(10, 8);
            Assert.True(Math.Abs(pixel.Red - expected[i].Red) + Math.Abs(pixel.Green - expected[i].Green) + Math.Abs(pixel.Blue - expected[i].Blue) < 12,
                $"{dataset.NameOf(i)} decoded as {pixel}");
        }
    }

    [Fact]
    public void ImageFolderErrorsNameTheFolder()
    {
        var missing = Assert.Throws<DatasetException>(() => FileDataset.ImageFolder(Path.Combine(root, "nowhere")));
        Assert.Contains("nowhere' does not exist", missing.Message);
        Directory.CreateDirectory(Path.Combine(root, "flat"));
        Assert.Contains("no class sub-folders", Assert.Throws<DatasetException>(() => FileDataset.ImageFolder(Path.Combine(root, "flat"))).Message);
        WriteImage("tree/cat/1.png", SKColors.Red);
        Directory.CreateDirectory(Path.Combine(root, "tree/dog"));
        var empty = Assert.Throws<DatasetException>(() => FileDataset.ImageFolder(Path.Combine(root, "tree")));
        Assert.Contains("dog' has no images", empty.Message);
    }

    [Fact]
    public void ListFileReadsVtabLinesAndNamesBadOnes()
    {
        WriteImage("vtab/images/0 a.png", SKColors.Red);
        WriteImage("vtab/images/1.png", SKColors.Green);
        string list = Path.Combine(root, "vtab/train800val200.txt");
        File.WriteAllLines(list, new[] { "images/0 a.png 0", "", "images/1.png 1" });
        var dataset = FileDataset.ListFile(Path.Combine(root, "vtab"), list);
        Assert.Equal(2, dataset.Count);
        Assert.Equal(new[] { "0", "1" }, dataset.Classes);
        Assert.Equal("images/0 a.png", dataset.NameOf(0));

        File.WriteAllLines(list, new[] { "images/1.png 1", "images/0 a.png" });
        Assert.Contains("train800val200.txt:2: expected 'relative/path label'", Assert.Throws<DatasetException>(() => FileDataset.ListFile(Path.Combine(root, "vtab"), list)).Message);

        File.WriteAllLines(list, new[] { "images/1.png 1", "images/0 a.png 7" });
        Assert.Contains("train800val200.txt:2: label 7 is out of range 0..4", Assert.Throws<DatasetException>(() => FileDataset.ListFile(Path.Combine(root, "vtab"), list, classCount: 5)).Message);

        File.WriteAllLines(list, new[] { "images/1.png 1", "images/gone.png 0" });
        Assert.Contains("gone.png", Assert.Throws<DatasetException>(() => FileDataset.ListFile(Path.Combine(root, "vtab"), list)).Message);

        File.WriteAllLines(list, new[] { "images/1.png 2" });
        Assert.Contains("no images of class 0, 1", Assert.Throws<DatasetException>(() => FileDataset.ListFile(Path.Combine(root, "vtab"), list)).Message);
    }

    [Fact]
    public void FgvcJsonReadsVptSplitsAndNamesBadEntries()
    {
        WriteImage("cub/images/001.Black_footed_Albatross/a.jpg", SKColors.Red, SKEncodedImageFormat.Jpeg);
        WriteImage("cub/images/002.Laysan_Albatross/b.jpg", SKColors.Green, SKEncodedImageFormat.Jpeg);
        string json = Path.Combine(root, "cub/train.json");
        File.WriteAllText(json, """{"images/001.Black_footed_Albatross/a.jpg": 0, "images/002.Laysan_Albatross/b.jpg": 1}""");
        var dataset = FileDataset.FgvcJson(Path.Combine(root, "cub"), json);
        Assert.Equal(2, dataset.Count);
        Assert.Equal(1, dataset.LabelOf(1));

        File.WriteAllText(json, """{"images/001.Black_footed_Albatross/a.jpg": "zero"}""");
        Assert.Contains("entry \"images/001.Black_footed_Albatross/a.jpg\" has label \"zero\"", Assert.Throws<DatasetException>(() => FileDataset.FgvcJson(Path.Combine(root, "cub"), json)).Message);
        File.WriteAllText(json, "{ not json");
        Assert.Contains("train.json: not valid JSON", Assert.Throws<DatasetException>(() => FileDataset.FgvcJson(Path.Combine(root, "cub"), json)).Message);
        File.WriteAllText(json, """{"images/002.Laysan_Albatross/b.jpg": -1}""");
        Assert.Contains("label -1 is out of range", Assert.Throws<DatasetException>(() => FileDataset.FgvcJson(Path.Combine(root, "cub"), json)).Message);
    }

    [Fact]
    public void TruncatedImagesFailWithTheirNameOrAreSkippedAndCounted()
    {
        WriteImage("broken/a/good.png", SKColors.Red);
        string bad = WriteImage("broken/a/bad.png", SKColors.Green);
        var bytes = File.ReadAllBytes(bad);
        File.WriteAllBytes(bad, bytes[..(bytes.Length / 2)]);
        File.WriteAllText(Path.Combine(root, "broken/a/fake.jpg"), "this is text");

        var dataset = FileDataset.ImageFolder(Path.Combine(root, "broken"));
        Assert.Equal(3, dataset.Count);
        int badIndex = Enumerable.Range(0, 3).Single(i => dataset.NameOf(i) == "a/bad.png");
        var error = Assert.Throws<ImageReadException>(() => dataset.Read(badIndex));
        Assert.True(error.Message.Contains("truncated", StringComparison.Ordinal), error.Message);
        Assert.Contains("bad.png", error.Message);
        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);

        var skipping = FileDataset.ImageFolder(Path.Combine(root, "broken"), UnreadableImages.Skip);
        Assert.Equal(1, skipping.Count);
        Assert.Equal(2, skipping.Skipped.Count);
        Assert.Contains(skipping.Skipped, s => s.Contains("fake.jpg", StringComparison.Ordinal));
    }
}
