using Pvp.Training.Data;
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
    public void FgvcJsonReadsVptsCubLayoutWithOneBasedNonContiguousIds()
    {
        // CUB as VPT prepares it: images/<class folder>/<file>, split keys relative to images/, 1-based class ids; this
        // miniature keeps ids 1, 17 and 200 only, so the mapping must sort and compact them (1 → 0, 17 → 1, 200 → 2).
        var train = new Dictionary<string, int>
        {
            ["001.Black_footed_Albatross/Black_Footed_Albatross_0046_18.jpg"] = 1,
            ["017.Cardinal/Cardinal_0001_17057.jpg"] = 17,
            ["200.Common_Yellowthroat/Common_Yellowthroat_0003_190521.jpg"] = 200,
            ["017.Cardinal/Cardinal_0002_17058.jpg"] = 17,
        };
        var test = new Dictionary<string, int>
        {
            ["200.Common_Yellowthroat/Common_Yellowthroat_0004_190522.jpg"] = 200,
            ["001.Black_footed_Albatross/Black_Footed_Albatross_0047_18.jpg"] = 1,
            ["017.Cardinal/Cardinal_0003_17059.jpg"] = 17,
        };
        foreach (var name in train.Keys.Concat(test.Keys)) WriteImage("CUB_200_2011/images/" + name, SKColors.Red, SKEncodedImageFormat.Jpeg);
        string cub = Path.Combine(root, "CUB_200_2011");
        File.WriteAllText(Path.Combine(cub, "train.json"), System.Text.Json.JsonSerializer.Serialize(train));
        File.WriteAllText(Path.Combine(cub, "test.json"), System.Text.Json.JsonSerializer.Serialize(test));

        var ids = FileDataset.FgvcClassIds(Path.Combine(cub, "train.json"));
        Assert.Equal(new[] { 1, 17, 200 }, ids);
        var trainSet = FileDataset.FgvcJson(Path.Combine(cub, "images"), Path.Combine(cub, "train.json"), ids);
        var testSet = FileDataset.FgvcJson(Path.Combine(cub, "images"), Path.Combine(cub, "test.json"), ids);
        Assert.Equal(new[] { "1", "17", "200" }, trainSet.Classes);
        int Label(FileDataset d, string name) => d.LabelOf(Enumerable.Range(0, d.Count).Single(i => d.NameOf(i) == name));
        Assert.Equal(0, Label(trainSet, "001.Black_footed_Albatross/Black_Footed_Albatross_0046_18.jpg"));
        Assert.Equal(1, Label(trainSet, "017.Cardinal/Cardinal_0002_17058.jpg"));
        Assert.Equal(2, Label(trainSet, "200.Common_Yellowthroat/Common_Yellowthroat_0003_190521.jpg"));
        Assert.Equal(2, Label(testSet, "200.Common_Yellowthroat/Common_Yellowthroat_0004_190522.jpg"));
        Assert.Equal(1, Label(testSet, "017.Cardinal/Cardinal_0003_17059.jpg"));

        // A test id the training split lacks is named, not silently mapped (VPT maps each split on its own).
        File.WriteAllText(Path.Combine(cub, "test.json"), """{"017.Cardinal/Cardinal_0003_17059.jpg": 18}""");
        Assert.Contains("has class id 18, which the training split does not have (its ids: 1, 17, 200)",
            Assert.Throws<DatasetException>(() => FileDataset.FgvcJson(Path.Combine(cub, "images"), Path.Combine(cub, "test.json"), ids)).Message);
        // Keys are relative to the image folder: reading them from the dataset root finds nothing.
        Assert.Contains("names images that do not exist",
            Assert.Throws<DatasetException>(() => FileDataset.FgvcJson(cub, Path.Combine(cub, "train.json"), ids)).Message);

        string json = Path.Combine(cub, "train.json");
        File.WriteAllText(json, """{"001.Black_footed_Albatross/a.jpg": "zero"}""");
        Assert.Contains("entry \"001.Black_footed_Albatross/a.jpg\" has label \"zero\"", Assert.Throws<DatasetException>(() => FileDataset.FgvcJson(cub, json)).Message);
        File.WriteAllText(json, "{ not json");
        Assert.Contains("train.json: not valid JSON", Assert.Throws<DatasetException>(() => FileDataset.FgvcJson(cub, json)).Message);
        File.WriteAllText(json, """{"../../etc/passwd": 1}""");
        Assert.Contains("is not a path inside the image folder", Assert.Throws<DatasetException>(() => FileDataset.FgvcJson(cub, json)).Message);
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
