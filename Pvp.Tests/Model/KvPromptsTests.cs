using Pvp.Checkpoints;
using Pvp.MixedPrecision;
using Pvp.Models;
using Pvp.Tests.Numerics;
using Pvp.Weights;
using static TorchSharp.torch;

namespace Pvp.Tests.Model;

/// <summary>E2VPT's key-value prompts under a bf16 backbone plan.</summary>
[VisionTransformer(VitPreset.Micro, Precision = PrecisionPlan.BackboneBf16)]
[KvPrompts]
public partial class TinyKvPromptsBf16;

/// <summary>Key and value prompts apart (<c>Shared = false</c>): other keys than the catalog's shared tensor.</summary>
[VisionTransformer(VitPreset.Micro)]
[KvPrompts(Shared = false)]
public partial class TinyKvPromptsApart;

/// <summary>
/// E2VPT's key-value prompts as the rest of the model sees them: the card, the optimizer groups, PETuning export and
/// import (stage 1 → stage 2), a bf16 backbone.
/// </summary>
public sealed class KvPromptsTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("pvp-kv-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void TheCardSaysWhereThePromptsJoinAndWhatTrains()
    {
        using var model = new KvPromptsB16(1000);
        string card = model.ModelCard();
        Assert.Contains("E2VPT key-value prompts: 5 key and 5 value tokens before the keys and values in the attention of blocks 0 to 11 " +
                        "(attn.kv_prompt.deep_QKV_embeddings [12, 5, 64], one tensor for both; Kaiming-uniform)", card);
        Assert.Contains("kv_prompts 46,080, head 769,000", card);
        using var apart = new TinyKvPromptsApart(5);
        Assert.Contains("(attn.kv_prompt.deep_QKV_embeddings_K, _V [4, 5, 16]; Kaiming-uniform)", apart.ModelCard());
    }

    [Fact]
    public void ThePromptsTrainInAGroupOfTheirOwn()
    {
        using var model = new E2vptMicro(numClasses: 5);
        var groups = model.ParameterGroups(0.1, 0.05).ToDictionary(g => g.Name);
        Assert.Equal(new[] { "prompts (no decay)", "kv_prompts", "head", "head (no decay)" }, groups.Keys);
        var kv = groups["kv_prompts"];
        Assert.Equal(0.05, kv.WeightDecay); // a [heads, P, hd] tensor decays as any weight (the reference's SGD decays all it trains)
        Assert.Equal(Enumerable.Range(0, 3).Select(i => $"blocks.{i}.attn.kv_prompt.deep_QKV_embeddings"), kv.Parameters.Select(p => p.Name));
        Assert.Equal(new[] { "prompts", "kv_prompts", "head" }, model.TrainableKinds);
    }

    [Fact]
    public void StageOnesPromptsReachStageTwo()
    {
        manual_seed(1);
        using var source = new E2vptMicro(numClasses: 5);
        TestTensors.Perturb(source, 0.1, n => source.KindOf(n) == KvPromptsAttribute.KindName);
        string path = Path.Combine(directory, "stage1.safetensors");
        source.ExportPetuning(path);
        var stored = SafeTensors.Load(path);
        Assert.Equal(new SortedSet<string>(new[] { "prompt_embeddings", "deep_prompt_embeddings" }
                .Concat(Enumerable.Range(0, 3).Select(i => $"blocks.{i}.attn.kv_prompt.deep_QKV_embeddings")), StringComparer.Ordinal),
            new SortedSet<string>(stored.Keys, StringComparer.Ordinal));

        manual_seed(2);
        using var target = new E2vptMicro(numClasses: 9);
        var backboneBefore = target.state_dict()["blocks.1.attn.qkv.weight"].clone();
        target.ImportPetuning(path);
        var s = source.state_dict();
        var t = target.state_dict();
        foreach (string key in stored.Keys) Assert.True(TestTensors.Same(t[key], s[key]), key);
        Assert.True(TestTensors.Same(t["blocks.1.attn.qkv.weight"], backboneBefore), "the backbone is not part of a PETuning checkpoint");

        // A checkpoint with keys and values apart does not fit the shared form, and says which keys.
        using var apart = new TinyKvPromptsApart(numClasses: 5);
        string apartPath = Path.Combine(directory, "apart.safetensors");
        apart.ExportPetuning(apartPath);
        using var shared = new KvPromptsMicro(numClasses: 5);
        var error = Assert.Throws<CheckpointMismatchException>(() => shared.ImportPetuning(apartPath));
        Assert.Contains("blocks.0.attn.kv_prompt.deep_QKV_embeddings", error.Missing);
        Assert.Contains("blocks.2.attn.kv_prompt.deep_QKV_embeddings_V", error.Unexpected);
    }

    [Fact]
    public void UnderABf16BackboneThePromptsStayFloat32AndTrack()
    {
        manual_seed(3);
        using var fp32 = new KvPromptsMicro(numClasses: 5);
        TestTensors.Perturb(fp32, 0.05);
        using var bf16 = new TinyKvPromptsBf16(numClasses: 5, precision: BackbonePrecision.Bf16);
        TestTensors.CopyShared(fp32, bf16);
        foreach (var (name, p) in bf16.named_parameters())
            Assert.True(p.dtype == (p.requires_grad ? ScalarType.Float32 : ScalarType.BFloat16), $"{name} is {p.dtype}");
        fp32.eval();
        bf16.eval();
        using var x = randn(4, 3, 32, 32);
        using (no_grad())
        {
            using var a = fp32.call(x);
            using var b = bf16.call(x);
            Assert.Equal(ScalarType.Float32, b.dtype);
            double scale = a.abs().max().item<float>();
            Assert.True(TestTensors.MaxDiff(a, b) <= 0.05 * scale + 0.02, $"bf16 logits differ by {TestTensors.MaxDiff(a, b):F4}");
        }
        bf16.train();
        using var optimizer = bf16.CreateAdamW(1e-2, 0.0);
        var before = TestTensors.Snapshot(bf16);
        optimizer.ZeroGrad();
        using (var loss = nn.functional.cross_entropy(bf16.call(x), tensor(new long[] { 0, 1, 2, 3 })))
            loss.backward();
        optimizer.Step();
        var trainable = bf16.TrainableParameterNames().ToHashSet();
        foreach (var (name, value) in bf16.state_dict())
            Assert.True(trainable.Contains(name) != TestTensors.Same(value, before[name]), $"{name}: trainable {trainable.Contains(name)}");
    }
}
