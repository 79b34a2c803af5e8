using Pvp.Models.Backbones;
using Pvp.Weights;
using static Pvp.Tests.Numerics.TestTensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Pvp.Tests.Numerics;

/// <summary>The generated backbone against references: an independent functional forward and torchvision's output.</summary>
public class BackboneTests
{
    [Fact]
    public void TorchLoadsAndComputes()
    {
        using var a = tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 2);
        using var product = a.matmul(a);
        Assert.Equal(new float[] { 7, 10, 15, 22 }, product.data<float>().ToArray());
    }

    [Fact]
    public void StateDictKeysAndShapesAreTimms()
    {
        using var model = new TinyVit(numClasses: 10);
        var shapes = model.state_dict().ToDictionary(p => p.Key, p => string.Join("x", p.Value.shape));
        var expected = new Dictionary<string, string>
        {
            ["cls_token"] = "1x1x64", ["pos_embed"] = "1x65x64",
            ["patch_embed.proj.weight"] = "64x3x4x4", ["patch_embed.proj.bias"] = "64",
            ["norm.weight"] = "64", ["norm.bias"] = "64", ["head.weight"] = "10x64", ["head.bias"] = "10",
        };
        for (int i = 0; i < 3; i++)
        {
            string p = $"blocks.{i}.";
            expected[p + "norm1.weight"] = "64"; expected[p + "norm1.bias"] = "64";
            expected[p + "attn.qkv.weight"] = "192x64"; expected[p + "attn.qkv.bias"] = "192";
            expected[p + "attn.proj.weight"] = "64x64"; expected[p + "attn.proj.bias"] = "64";
            expected[p + "norm2.weight"] = "64"; expected[p + "norm2.bias"] = "64";
            expected[p + "mlp.fc1.weight"] = "256x64"; expected[p + "mlp.fc1.bias"] = "256";
            expected[p + "mlp.fc2.weight"] = "64x256"; expected[p + "mlp.fc2.bias"] = "64";
        }
        Assert.Equal(expected.OrderBy(p => p.Key), shapes.OrderBy(p => p.Key));
    }

    [Fact]
    public void LogitsMatchAnIndependentFunctionalForward()
    {
        manual_seed(7);
        using var model = new TinyVit(numClasses: 10);
        Perturb(model);
        model.eval();
        using var x = randn(5, 3, 32, 32);
        using var logits = model.call(x);
        using var reference = ReferenceVit.Forward(model.state_dict(), x, depth: 3, heads: 4, patch: 4);
        Assert.Equal(new long[] { 5, 10 }, logits.shape);
        double maxDiff = (logits - reference).abs().max().item<float>();
        Assert.True(maxDiff <= 1e-5, $"max |Δ| = {maxDiff:E2}");
        Assert.True(logits.std().item<float>() > 0.1, "logits should not be degenerate after perturbation");
    }

    [Fact]
    public void LogitsMatchTorchvisionOnTheSharedFixture()
    {
        using var model = new FixtureVit(numClasses: 7);
        var weights = SafeTensors.Load(TestData("timm_state.safetensors"));
        var (missing, unexpected) = model.load_state_dict(weights, strict: true);
        Assert.Empty(missing);
        Assert.Empty(unexpected);
        double maxDiff = MaxDiffFromTorchvision(model);
        Assert.True(maxDiff <= 1e-4, $"max |Δ| against torchvision = {maxDiff:E2}");
    }

    [Fact]
    public void HeadlessModelReturnsPooledFeatures()
    {
        using var model = new TinyVit(numClasses: 0);
        Assert.DoesNotContain(model.state_dict().Keys, k => k.StartsWith("head", StringComparison.Ordinal));
        using var x = randn(2, 3, 32, 32);
        using var features = model.call(x);
        Assert.Equal(new long[] { 2, 64 }, features.shape);
    }

    [Fact]
    public void DtypeAndLaterMovesReachTheForward()
    {
        using var model = new TinyVit(numClasses: 3, dtype: ScalarType.Float64);
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float64, p.dtype));
        using var x64 = randn(2, 3, 32, 32, dtype: ScalarType.Float64);
        using (var y = model.call(x64)) Assert.Equal(ScalarType.Float64, y.dtype);

        model.to(ScalarType.Float32);
        using var x32 = randn(2, 3, 32, 32);
        using (var y = model.call(x32)) Assert.Equal(ScalarType.Float32, y.dtype);
    }

    [Fact]
    public void ParameterCountsMatchTimm()
    {
        using (var b16 = new VitBase16(numClasses: 1000)) Assert.Equal(86_567_656, b16.ParameterCount); // vit_base_patch16_224
        using (var ti16 = new VitTiny16(numClasses: 1000)) Assert.Equal(5_717_416, ti16.ParameterCount); // vit_tiny_patch16_224
    }

    [Fact]
    public void InitialisationFollowsTimm()
    {
        manual_seed(0);
        using var model = new TinyVit(numClasses: 10);
        var sd = model.state_dict();
        Assert.InRange(sd["pos_embed"].std().item<float>(), 0.015, 0.025);
        Assert.True(sd["cls_token"].abs().max().item<float>() < 1e-4);
        Assert.InRange(sd["blocks.0.attn.qkv.weight"].std().item<float>(), 0.015, 0.025);
        Assert.Equal(0f, sd["blocks.0.attn.qkv.bias"].abs().max().item<float>());
        Assert.InRange(sd["head.weight"].std().item<float>(), 0.015, 0.025);
    }

    [Fact]
    public void TruncatedNormalRespectsBoundsAndSpread()
    {
        manual_seed(1);
        using var t = empty(200_000);
        Init.TruncatedNormal(t, mean: 0, std: 1, a: -1, b: 1);
        Assert.True(t.min().item<float>() >= -1f && t.max().item<float>() <= 1f);
        // The standard normal truncated to [-1, 1] has variance 1 - 2φ(1)/(Φ(1) - Φ(-1)) = 0.2911, std 0.5396.
        Assert.InRange(t.std().item<float>(), 0.532, 0.547);
        Assert.InRange(t.mean().item<float>(), -0.01, 0.01);
    }
}
