using Pvp.Models;
using Pvp.Precision;
using TorchSharp;
using static Pvp.Tests.Numerics.TestTensors;
using static TorchSharp.torch;

namespace Pvp.Tests.Numerics;

/// <summary>Everything a bf16 plan touches: LoRA on every layer kind, an adapter, a user's module, prompts.</summary>
[VisionTransformer(ImageSize = 32, PatchSize = 4, EmbedDim = 64, Depth = 3, Heads = 4, Precision = PrecisionPlan.BackboneBf16)]
[Prompts(Length = 4, Deep = true)]
[Lora(Rank = 4, Alpha = 8, Targets = LoraTargets.Query | LoraTargets.Value | LoraTargets.Output | LoraTargets.MlpFc1)]
[Adapter(Bottleneck = 8, Placement = AdapterPlacement.Parallel)]
[Attach(typeof(ScaleShift), Site = AttachSite.AfterAttention)]
public partial class TinyEverythingBf16;

/// <summary>The same declaration in float32, to compare against.</summary>
[VisionTransformer(ImageSize = 32, PatchSize = 4, EmbedDim = 64, Depth = 3, Heads = 4)]
[Prompts(Length = 4, Deep = true)]
[Lora(Rank = 4, Alpha = 8, Targets = LoraTargets.Query | LoraTargets.Value | LoraTargets.Output | LoraTargets.MlpFc1)]
[Adapter(Bottleneck = 8, Placement = AdapterPlacement.Parallel)]
[Attach(typeof(ScaleShift), Site = AttachSite.AfterAttention)]
public partial class TinyEverythingFp32;

/// <summary>The bf16 backbone plan: frozen weights and activations in bf16, everything that trains in float32.</summary>
public class PrecisionTests
{
    [Fact]
    public void FrozenBackboneIsBf16AndTrainableModulesStayFloat32()
    {
        using var model = new TinyEverythingBf16(numClasses: 5, precision: BackbonePrecision.Bf16);
        Assert.Equal(ScalarType.BFloat16, model.FrozenBackboneDtype);
        foreach (var (name, p) in model.named_parameters())
            Assert.True(p.dtype == (p.requires_grad ? ScalarType.Float32 : ScalarType.BFloat16), $"{name} is {p.dtype}");
        Assert.Contains("blocks.0.attn.qkv.weight", model.named_parameters().Where(p => p.parameter.dtype == ScalarType.BFloat16).Select(p => p.name));
        Assert.Contains("frozen backbone in BFloat16", model.ModelCard());
    }

    [Fact]
    public void Bf16ForwardTracksTheFloat32TwinAndTrainsInFloat32()
    {
        manual_seed(3);
        using var fp32 = new TinyEverythingFp32(numClasses: 5);
        Perturb(fp32, 0.05);
        using var bf16 = new TinyEverythingBf16(numClasses: 5, precision: BackbonePrecision.Bf16);
        CopyShared(fp32, bf16);
        fp32.eval();
        bf16.eval();
        using var x = randn(4, 3, 32, 32);
        Tensor a, b;
        using (no_grad())
        {
            a = fp32.call(x);
            b = bf16.call(x);
        }
        Assert.Equal(ScalarType.Float32, b.dtype);
        double scale = a.abs().max().item<float>();
        Assert.True(MaxDiff(a, b) <= 0.05 * scale + 0.02, $"bf16 logits differ from float32 by {MaxDiff(a, b):F4} (scale {scale:F3})");

        bf16.train();
        using var optimizer = bf16.CreateAdamW(1e-2, 0.0);
        var before = Snapshot(bf16);
        for (int step = 0; step < 2; step++)
        {
            optimizer.ZeroGrad();
            using var loss = nn.functional.cross_entropy(bf16.call(x), tensor(new long[] { 0, 1, 2, 3 }));
            Assert.Equal(ScalarType.Float32, loss.dtype);
            loss.backward();
            optimizer.Step();
        }
        var trainable = bf16.TrainableParameterNames().ToHashSet();
        foreach (var (name, value) in bf16.state_dict())
            Assert.True(trainable.Contains(name) != Same(value, before[name]), $"{name}: trainable {trainable.Contains(name)}");
        Assert.All(optimizer.StateDict().Values, t => Assert.True(t.dtype is ScalarType.Float32 or ScalarType.Int64));
    }

    [Fact]
    public void LoraMergesIntoBf16Weights()
    {
        manual_seed(4);
        using var model = new TinyEverythingBf16(numClasses: 5, precision: BackbonePrecision.Bf16);
        Perturb(model, 0.1, n => n.Contains("lora_B", StringComparison.Ordinal));
        model.eval();
        using var x = randn(2, 3, 32, 32);
        using var noGrad = no_grad();
        var unmerged = model.call(x);
        model.MergeLora();
        var merged = model.call(x);
        Assert.True(MaxDiff(merged, unmerged) <= 0.05 * unmerged.abs().max().item<float>() + 0.02);
    }
}
