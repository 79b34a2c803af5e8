using System.IO.Compression;
using System.Text;
using Pvp.Training.Data;
using SkiaSharp;

namespace Pvp.Tests.Data;

/// <summary>Decompression bombs, the decoded-pixel budget, and symbolic-link loops in image folders.</summary>
public sealed class HostileImageTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("pvp-hostile-").FullName;

    public void Dispose()
    {
        ImageCodec.PixelBudget = ImageCodec.DefaultMaxPixels;
        Directory.Delete(root, recursive: true);
    }

    /// <summary>A valid PNG header that declares <paramref name="width"/>×<paramref name="height"/> with a few bytes of data: tiny on disk, huge decoded.</summary>
    private string Bomb(string name, int width, int height)
    {
        var png = new MemoryStream();
        png.Write(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A });
        var ihdr = new byte[13];
        WriteBigEndian(ihdr, 0, width);
        WriteBigEndian(ihdr, 4, height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // RGB
        Chunk(png, "IHDR", ihdr);
        var zlib = new MemoryStream();
        using (var z = new ZLibStream(zlib, CompressionLevel.SmallestSize, leaveOpen: true)) z.Write(new byte[4096]);
        Chunk(png, "IDAT", zlib.ToArray());
        string path = Path.Combine(root, name);
        File.WriteAllBytes(path, png.ToArray());
        return path;
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        var header = new byte[4];
        WriteBigEndian(header, 0, data.Length);
        png.Write(header);
        byte[] typeAndData = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        png.Write(typeAndData);
        WriteBigEndian(header, 0, (int)Crc32(typeAndData));
        png.Write(header);
    }

    private static void WriteBigEndian(byte[] buffer, int offset, int value)
    {
        buffer[offset] = (byte)(value >> 24);
        buffer[offset + 1] = (byte)(value >> 16);
        buffer[offset + 2] = (byte)(value >> 8);
        buffer[offset + 3] = (byte)value;
    }

    private static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }

    private string Png(string relative, int size = 16)
    {
        string path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var bitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        bitmap.Erase(SKColors.Teal);
        ImageCodec.Save(bitmap, path);
        return path;
    }

    [Fact]
    public void ADecompressionBombIsRefusedFromItsHeaderNamingFileAndLimit()
    {
        string bomb = Bomb("bomb.png", 30_000, 30_000);
        Assert.True(new FileInfo(bomb).Length < 1000, "the bomb is tiny on disk");
        var e = Assert.Throws<ImageReadException>(() => ImageCodec.Decode(bomb));
        Assert.Contains(bomb, e.Message);
        Assert.Contains("30000×30000 = 900,000,000 pixels, above the limit of 89,478,485", e.Message);
        Assert.Equal(0, ImageCodec.PixelsInUse);
    }

    [Fact]
    public void DevicesPipesAndEmptyFilesAreRefusedWithoutReading()
    {
        string zero = Path.Combine(root, "zero.png");
        File.CreateSymbolicLink(zero, "/dev/zero");
        var zeroError = Assert.Throws<ImageReadException>(() => ImageCodec.Decode(zero)).Message;
        Assert.True(zeroError.Contains("not a regular file", StringComparison.Ordinal), zeroError);
        // A link to a real image reads the whole image (its size is the target's, not the link's).
        string linked = Path.Combine(root, "linked.png");
        File.CreateSymbolicLink(linked, Png("real.png", 48));
        using (var image = ImageCodec.Decode(linked)) Assert.Equal(48, image.Height);
        string empty = Path.Combine(root, "empty.png");
        File.WriteAllBytes(empty, Array.Empty<byte>());
        Assert.Contains(empty, Assert.Throws<ImageReadException>(() => ImageCodec.Decode(empty)).Message);
        string fifo = Path.Combine(root, "fifo.png");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", fifo)) mkfifo.WaitForExit();
        if (File.Exists(fifo)) // mkfifo is in coreutils; a pipe would block the reader forever
            Assert.Contains("not a regular file", Assert.Throws<ImageReadException>(() => ImageCodec.Decode(fifo)).Message);
    }

    [Fact]
    public void TheLimitIsConfigurable()
    {
        string image = Png("small.png", 64);
        Assert.Contains("above the limit of 1,000", Assert.Throws<ImageReadException>(() => ImageCodec.Decode(image, maxPixels: 1000)).Message);
        Assert.Contains("above the limit of 1,000", Assert.Throws<ImageReadException>(() => ImageCodec.CheckHeader(image, maxPixels: 1000)).Message);
        using var bitmap = ImageCodec.Decode(image, maxPixels: 4096);
        Assert.Equal(64, bitmap.Width);
    }

    [Fact]
    public void TwoDatasetsInOneProcessKeepTheirOwnLimits()
    {
        // The limit belongs to the dataset (a recipe's max_image_pixels), not to the process: two runners side by side
        // must not see each other's.
        string tree = Path.Combine(root, "limits");
        foreach (string c in new[] { "a", "b" })
        {
            Directory.CreateDirectory(Path.Combine(tree, c));
            File.Copy(Png(c + ".png", 64), Path.Combine(tree, c, "1.png"));
        }
        var strict = FileDataset.ImageFolder(tree, maxImagePixels: 1000);
        var loose = FileDataset.ImageFolder(tree);
        Assert.Equal(1000, strict.MaxImagePixels);
        Assert.Contains("above the limit of 1,000", Assert.Throws<ImageReadException>(() => strict.Read(0)).Message);
        Assert.Contains("above the limit of 1,000", Assert.Throws<ImageReadException>(() => strict.Subset(new[] { 1 }).CheckHeaders()).Message);
        using (var image = loose.Read(0)) Assert.Equal(64, image.Width);
        loose.CheckHeaders();
        Assert.Contains("no readable images", Assert.Throws<DatasetException>(() => FileDataset.ImageFolder(tree, UnreadableImages.Skip, maxImagePixels: 1000)).Message);
    }

    [Fact]
    public void DecodedPixelsStayWithinTheBudgetAcrossThreads()
    {
        string a = Png("a.png", 64), b = Png("b.png", 64); // 4,096 pixels each
        ImageCodec.PixelBudget = 5000;
        var first = ImageCodec.Decode(a);
        Assert.Equal(4096, ImageCodec.PixelsInUse);
        // The same thread may hold two (it would otherwise wait on itself) …
        using (ImageCodec.Decode(b)) Assert.Equal(8192, ImageCodec.PixelsInUse);
        // … another thread waits until the first bitmap is given back.
        SKBitmap? second = null;
        using var decoded = new ManualResetEventSlim();
        var thread = new Thread(() =>
        {
            second = ImageCodec.Decode(b);
            decoded.Set();
        });
        thread.Start();
        Assert.False(decoded.Wait(300), "a decode over the budget should wait");
        first.Dispose();
        Assert.True(decoded.Wait(5000), "it should proceed once the budget frees");
        Assert.Equal(4096, ImageCodec.PixelsInUse);
        second!.Dispose();
        Assert.Equal(0, ImageCodec.PixelsInUse);
    }

    [Fact]
    public void ASymlinkLoopIsWalkedOnceAndALinkIntoAnotherClassIsAnError()
    {
        string tree = Path.Combine(root, "tree");
        for (int i = 0; i < 4; i++) Png($"tree/cat/{i}.png");
        for (int i = 0; i < 4; i++) Png($"tree/dog/{i}.png");
        Directory.CreateDirectory(Path.Combine(tree, "cat", "nested"));
        Directory.CreateSymbolicLink(Path.Combine(tree, "cat", "nested", "up"), Path.Combine(tree, "cat")); // a loop
        Directory.CreateSymbolicLink(Path.Combine(tree, "dog", "self"), Path.Combine(tree, "dog"));          // another

        var dataset = FileDataset.ImageFolder(tree);
        Assert.Equal(8, dataset.Count);
        Assert.Equal(new[] { 4, 4 }, dataset.ClassCounts());

        Directory.CreateSymbolicLink(Path.Combine(tree, "cat", "dogs"), Path.Combine(tree, "dog"));
        var e = Assert.Throws<DatasetException>(() => FileDataset.ImageFolder(tree));
        Assert.Contains($"'{Path.Combine(tree, "cat", "dogs")}' in class folder '{Path.Combine(tree, "cat")}' leads to '{Path.Combine(tree, "dog")}'", e.Message);
        Directory.Delete(Path.Combine(tree, "cat", "dogs"));

        // One image file linked into another class, and a whole class folder that is another's: two labels, refused.
        File.CreateSymbolicLink(Path.Combine(tree, "cat", "borrowed.png"), Path.Combine(tree, "dog", "0.png"));
        Assert.Contains("are the same image file", Assert.Throws<DatasetException>(() => FileDataset.ImageFolder(tree)).Message);
        File.Delete(Path.Combine(tree, "cat", "borrowed.png"));
        Directory.CreateSymbolicLink(Path.Combine(tree, "wolf"), Path.Combine(tree, "dog"));
        Assert.Contains("are the same folder", Assert.Throws<DatasetException>(() => FileDataset.ImageFolder(tree)).Message);
    }

    [Fact]
    public void AListNamingAnImageTwiceOrAHugeLabelIsRefused()
    {
        Png("list/a.png");
        Png("list/b.png");
        string list = Path.Combine(root, "list", "train.txt");
        File.WriteAllText(list, "a.png 0\nb.png 1\na.png 1\n");
        Assert.Contains("lists '" + Path.Combine(root, "list", "a.png") + "' 2 times (labels 0, 1)",
            Assert.Throws<DatasetException>(() => FileDataset.ListFile(Path.Combine(root, "list"), list)).Message);
        File.WriteAllText(list, "a.png 0\nb.png 2147483647\n");
        Assert.Contains($"{list}:2: label 2147483647 is out of range 0..999999",
            Assert.Throws<DatasetException>(() => FileDataset.ListFile(Path.Combine(root, "list"), list)).Message);
    }
}
