using System.IO.Compression;
using Pvp.Training.Data;
using Pvp.Weights;

namespace Pvp.Tests.Weights;

/// <summary>Damaged or hostile files are named with the file, before they cost memory: a header of invalid UTF-8, an archive
/// whose entries would inflate far past the model, and split files naming paths with a NUL.</summary>
public sealed class HostileWeightFileTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("pvp-hostile-weights-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void ASafetensorsHeaderOfInvalidUtf8IsNamedWithItsFile()
    {
        string path = Path.Combine(folder, "bad.safetensors");
        byte[] header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"__metadata__\":{\"XY\":\"1\"}}"u8.ToArray();
        int x = Array.IndexOf(header, (byte)'X');
        (header[x], header[x + 1]) = (0xff, 0xfe); // bytes that are no UTF-8, inside a key
        using (var stream = File.Create(path))
        {
            stream.Write(BitConverter.GetBytes((ulong)header.Length));
            stream.Write(header);
            stream.Write(new byte[4]);
        }
        foreach (var load in new Action[] { () => SafeTensors.Load(path), () => SafeTensors.ReadMetadata(path) })
        {
            var error = Assert.Throws<InvalidDataException>(load);
            Assert.Contains(path, error.Message);
            Assert.Contains("not valid UTF-8", error.Message);
        }
    }

    [Fact]
    public void AnArchiveThatWouldInflateFarPastTheModelIsRefusedBeforeInflating()
    {
        // 300 MiB of zeros deflate to a few hundred KiB: the central directory declares the size, nothing needs inflating.
        string path = Path.Combine(folder, "bomb.npz");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        using (var entry = zip.CreateEntry("blocks.0.norm1.weight.npy", CompressionLevel.Fastest).Open())
        {
            var zeros = new byte[1 << 20];
            for (int i = 0; i < 300; i++) entry.Write(zeros);
        }
        Assert.True(new FileInfo(path).Length < 10 << 20);
        using var model = new Pvp.Models.VptDeepMicro(numClasses: 3);
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var error = Assert.Throws<InvalidDataException>(() => model.LoadBackbone(path));
        Assert.Contains($"'{path}' declares 300 MiB of arrays", error.Message);
        Assert.Contains("VptDeepMicro", error.Message);
        Assert.True(GC.GetTotalMemory(forceFullCollection: false) - before < 64 << 20, "the archive was inflated before it was refused");
    }

    [Fact]
    public void SplitFilesNamingAPathWithANulAreNamedByFileAndLine()
    {
        string images = Path.Combine(folder, "images");
        Directory.CreateDirectory(images);
        string json = Path.Combine(folder, "train.json");
        File.WriteAllText(json, "{\"a\\u0000b.jpg\": 1}");
        var fgvc = Assert.Throws<DatasetException>(() => FileDataset.FgvcJson(images, json));
        Assert.Contains(json, fgvc.Message);
        Assert.Contains("a\\u0000b.jpg", fgvc.Message);
        Assert.Contains("control character", fgvc.Message);

        string list = Path.Combine(folder, "train.txt");
        File.WriteAllText(list, "ok.jpg 0\na\u0001b.jpg 0\n");
        var listed = Assert.Throws<DatasetException>(() => FileDataset.ListFile(images, list, 1));
        Assert.Contains($"{list}:2", listed.Message);
        Assert.Contains("control character", listed.Message);
    }
}
