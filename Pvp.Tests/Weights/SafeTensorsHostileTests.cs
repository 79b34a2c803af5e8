using System.Text;
using Pvp.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace Pvp.Tests.Weights;

/// <summary>Hostile safetensors headers fail with the file, the key and the problem named, before anything is allocated.</summary>
public sealed class SafeTensorsHostileTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("pvp-safetensors-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private string Write(string header, int dataBytes = 8)
    {
        string path = Path.Combine(folder, $"{Guid.NewGuid():N}.safetensors");
        byte[] json = Encoding.UTF8.GetBytes(header);
        using var stream = File.Create(path);
        stream.Write(BitConverter.GetBytes((ulong)json.Length));
        stream.Write(json);
        stream.Write(new byte[dataBytes]);
        return path;
    }

    [Theory]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[1099511627776,1099511627784]}}""", "tensor 'w' ends at byte 1099511627784 of the data, but the file holds 8 bytes of data (truncated?)")]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}""", "tensor 'w' has data_offsets [-8, 0]; expected [begin, end] with 0 <= begin <= end")]
    [InlineData("""{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", "tensor 'w' has a negative dimension in shape [-2]")]
    [InlineData("""{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}""", "tensor 'w' has shape [4611686018427387904, 4], whose size overflows")]
    [InlineData("""{"w":{"shape":[2],"data_offsets":[0,8]}}""", "tensor 'w' has no dtype")]
    [InlineData("""{"w":{"dtype":"F32","data_offsets":[0,8]}}""", "tensor 'w' has no shape list")]
    [InlineData("""{"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}""", "tensor 'w' has shape entry 2.5, not a whole number")]
    [InlineData("""{"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}""", "tensor 'w' has unsupported dtype 'Q4'")]
    [InlineData("""[1, 2, 3]""", "its header is a JSON array, not an object of tensors")]
    [InlineData("""{"w":[1]}""", "tensor 'w' is described by a JSON array, not an object")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", "tensors 'a' and 'b' overlap in the data")]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}""", "tensor 'w' has byte range [0, 4] but shape [2] of F32 needs 8 bytes")]
    public void AHostileHeaderNamesFileKeyAndProblem(string header, string problem)
    {
        string path = Write(header);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));
        Assert.Equal($"'{path}' is not a valid safetensors file: {problem}.", e.Message);
    }

    [Fact]
    public void ATruncatedFileAndAFolderAreNamed()
    {
        string truncated = Write("""{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", dataBytes: 8);
        Assert.Contains("ends at byte 16 of the data, but the file holds 8 bytes", Assert.Throws<InvalidDataException>(() => SafeTensors.Load(truncated)).Message);
        // Through a stream that cannot seek, truncation is found while reading.
        using (var pipe = new NonSeekable(File.ReadAllBytes(truncated)))
            Assert.Contains("truncated inside tensor 'w'", Assert.Throws<InvalidDataException>(() => SafeTensors.Load(pipe, "pipe")).Message);
        Assert.Contains($"'{folder}' is a folder", Assert.Throws<InvalidDataException>(() => StateDictFile.Load(folder)).Message);
    }

    [Fact]
    public void TensorsAreReadInPlaceAroundGapsAndInAnyHeaderOrder()
    {
        string path = Path.Combine(folder, "ok.safetensors");
        using var a = arange(6, dtype: ScalarType.Float32).reshape(2, 3);
        using var b = tensor(new long[] { 7, 8 });
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["b"] = b, ["a"] = a });
        var loaded = SafeTensors.Load(path);
        Assert.True(loaded["a"].allclose(a, rtol: 0, atol: 0));
        Assert.True(loaded["b"].allclose(b, rtol: 0, atol: 0));
        using var pipe = new NonSeekable(File.ReadAllBytes(path));
        Assert.True(SafeTensors.Load(pipe, "pipe")["a"].allclose(a, rtol: 0, atol: 0));
    }

    [Fact]
    public void IntegerOrBooleanWeightsAreRefusedByKey()
    {
        using var model = new Pvp.Models.Backbones.VitMicro(numClasses: 10);
        var weights = model.state_dict().ToDictionary(p => p.Key, p => p.Value);
        weights["blocks.0.attn.qkv.weight"] = weights["blocks.0.attn.qkv.weight"].to(ScalarType.Int8);
        weights["norm.weight"] = weights["norm.weight"].to(ScalarType.Bool);
        string path = Path.Combine(folder, "quantized.safetensors");
        SafeTensors.Save(path, weights);
        var e = Assert.Throws<InvalidDataException>(() => { BackboneWeights.Load(model, path); });
        Assert.Contains($"'{path}' holds weights that are not floating point", e.Message);
        Assert.Contains("blocks.0.attn.qkv.weight (Int8)", e.Message);
        Assert.Contains("norm.weight (Bool)", e.Message);
    }

    private sealed class NonSeekable(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
    }
}
