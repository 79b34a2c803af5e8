using Pvp.Checkpoints;
using Pvp.Models;
using Pvp.Tests.Numerics;
using Pvp.Weights;
using static TorchSharp.torch;

namespace Pvp.Tests.Model;

/// <summary>Export and import of only the PETuning modules (stage 1 → stage 2), strict by name and shape.</summary>
public sealed class CheckpointTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("pvp-ckpt-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void PetuningModulesRoundTripWithoutTheHeadOrBackbone()
    {
        manual_seed(1);
        using var source = new VptDeepLoraMicro(numClasses: 5);
        TestTensors.Perturb(source, 0.1, n => source.KindOf(n) == LoraAttribute.KindName);
        string path = Path.Combine(directory, "stage1.safetensors");
        source.ExportPetuning(path, metadata: new Dictionary<string, string> { ["source_dataset"] = "unit-test" });

        var stored = SafeTensors.Load(path);
        Assert.Equal(new SortedSet<string>(source.TrainableParameterNames().Where(n => !n.StartsWith("head", StringComparison.Ordinal)), StringComparer.Ordinal),
            new SortedSet<string>(stored.Keys, StringComparer.Ordinal));
        Assert.False(File.Exists(path + ".tmp"));

        manual_seed(2);
        using var target = new VptDeepLoraMicro(numClasses: 9);
        var backboneBefore = target.state_dict()["blocks.0.attn.qkv.weight"].clone();
        target.ImportPetuning(path);
        var s = source.state_dict();
        var t = target.state_dict();
        foreach (string key in stored.Keys) Assert.True(TestTensors.Same(t[key], s[key]), key);
        Assert.True(TestTensors.Same(t["blocks.0.attn.qkv.weight"], backboneBefore), "the backbone is not part of a PETuning checkpoint");
        Assert.Equal(new long[] { 9, 64 }, t["head.weight"].shape);
    }

    [Fact]
    public void AnotherVariantsCheckpointNamesEachKey()
    {
        using var lora = new LoraMicro(numClasses: 5);
        string path = Path.Combine(directory, "lora.safetensors");
        lora.ExportPetuning(path);
        using var vpt = new VptDeepMicro(numClasses: 5);
        var error = Assert.Throws<CheckpointMismatchException>(() => vpt.ImportPetuning(path));
        Assert.Equal(new[] { "deep_prompt_embeddings", "prompt_embeddings" }, error.Missing);
        Assert.Equal(12, error.Unexpected.Count);
        Assert.Contains("blocks.0.attn.qkv.q.lora_A", error.Unexpected);
        Assert.Contains("missing:     prompt_embeddings", error.Message);
        Assert.Contains("unexpected:  blocks.2.attn.qkv.v.lora_B", error.Message);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void MisShapedKeysAreNamedWithBothShapes()
    {
        using var longer = new VptDeepMicroLong(numClasses: 5);
        string path = Path.Combine(directory, "long.safetensors");
        longer.ExportPetuning(path);
        using var vpt = new VptDeepMicro(numClasses: 5);
        var before = vpt.state_dict()["prompt_embeddings"].clone();
        var error = Assert.Throws<CheckpointMismatchException>(() => vpt.ImportPetuning(path));
        Assert.Empty(error.Missing);
        Assert.Empty(error.Unexpected);
        Assert.Equal(new[]
        {
            "deep_prompt_embeddings: checkpoint [2, 16, 64] vs model [2, 8, 64]",
            "prompt_embeddings: checkpoint [1, 16, 64] vs model [1, 8, 64]",
        }, error.MisShaped);
        Assert.True(TestTensors.Same(vpt.state_dict()["prompt_embeddings"], before), "a failed import changes nothing");
    }
}
