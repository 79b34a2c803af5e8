using Pvp.Checkpoints;
using Pvp.Tests.Numerics;
using Pvp.Weights;
using TorchSharp;
using static Pvp.Tests.Numerics.TestTensors;
using static TorchSharp.torch;

namespace Pvp.Tests.Weights;

/// <summary>TinyVit's architecture at 48×48 (a 12×12 patch grid instead of 8×8).</summary>
[VisionTransformer(ImageSize = 48, PatchSize = 4, EmbedDim = 64, Depth = 3, Heads = 4)]
public partial class TinyVitAt48;

/// <summary>Pre-trained weights in both key layouts and both file formats, and every way they can fail to fit.</summary>
public sealed class BackboneWeightsTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("pvp-weights-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>timm keys → torchvision keys, written out here independently of the loader's mapping.</summary>
    private static Dictionary<string, Tensor> ToTorchvision(IReadOnlyDictionary<string, Tensor> timm)
    {
        var result = new Dictionary<string, Tensor>();
        foreach (var (key, value) in timm)
        {
            string[] parts = key.Split('.');
            string name = key switch
            {
                "cls_token" => "class_token",
                "pos_embed" => "encoder.pos_embedding",
                _ when parts[0] == "patch_embed" => "conv_proj." + parts[^1],
                _ when parts[0] == "norm" => "encoder.ln." + parts[^1],
                _ when parts[0] == "head" => "heads.head." + parts[^1],
                _ => $"encoder.layers.encoder_layer_{parts[1]}." + (string.Join(".", parts[2..]) switch
                {
                    "norm1.weight" => "ln_1.weight", "norm1.bias" => "ln_1.bias",
                    "norm2.weight" => "ln_2.weight", "norm2.bias" => "ln_2.bias",
                    "attn.qkv.weight" => "self_attention.in_proj_weight", "attn.qkv.bias" => "self_attention.in_proj_bias",
                    "attn.proj.weight" => "self_attention.out_proj.weight", "attn.proj.bias" => "self_attention.out_proj.bias",
                    "mlp.fc1.weight" => "mlp.0.weight", "mlp.fc1.bias" => "mlp.0.bias",
                    "mlp.fc2.weight" => "mlp.3.weight", "mlp.fc2.bias" => "mlp.3.bias",
                    var other => throw new ArgumentException(other),
                }),
            };
            result[name] = value;
        }
        return result;
    }

    private static (TinyVit Model, Dictionary<string, Tensor> Weights) Trained()
    {
        manual_seed(21);
        var model = new TinyVit(numClasses: 10);
        Perturb(model);
        model.eval();
        return (model, Snapshot(model));
    }

    private static Tensor Logits(nn.Module<Tensor, Tensor> model, Tensor x)
    {
        model.eval();
        using var noGrad = no_grad();
        return model.call(x);
    }

    [Fact]
    public void BothLayoutsAndBothFormatsGiveIdenticalLogits()
    {
        var (source, weights) = Trained();
        using var x = randn(3, 3, 32, 32);
        var expected = Logits(source, x);
        var files = new Dictionary<string, (string Path, KeyLayout Layout)>
        {
            ["timm safetensors"] = (Path.Combine(directory, "timm.safetensors"), KeyLayout.Timm),
            ["timm pickle"] = (Path.Combine(directory, "timm.pth"), KeyLayout.Timm),
            ["torchvision safetensors"] = (Path.Combine(directory, "tv.safetensors"), KeyLayout.Torchvision),
            ["torchvision pickle"] = (Path.Combine(directory, "tv.bin"), KeyLayout.Torchvision),
        };
        SafeTensors.Save(files["timm safetensors"].Path, weights);
        StateDictFile.SavePickle(files["timm pickle"].Path, weights);
        SafeTensors.Save(files["torchvision safetensors"].Path, ToTorchvision(weights));
        StateDictFile.SavePickle(files["torchvision pickle"].Path, ToTorchvision(weights));

        foreach (var (label, (path, layout)) in files)
        {
            manual_seed(99);
            using var target = new TinyVit(numClasses: 10);
            var report = BackboneWeights.Load(target, path);
            Assert.Equal(layout, report.Layout);
            Assert.Equal(weights.Count, report.Loaded.Count);
            Assert.True(Same(Logits(target, x), expected), $"{label}: logits differ");
        }
    }

    [Fact]
    public void TorchvisionFixtureLoadsFromEitherLayoutToTheSameLogits()
    {
        using var fromTimm = new FixtureVit(numClasses: 7);
        using var fromTorchvision = new FixtureVit(numClasses: 7);
        Assert.Equal(KeyLayout.Timm, BackboneWeights.Load(fromTimm, TestData("timm_state.safetensors")).Layout);
        Assert.Equal(KeyLayout.Torchvision, BackboneWeights.Load(fromTorchvision, TestData("tv_state.safetensors")).Layout);
        using var x = SafeTensors.Load(TestData("input.safetensors"))["x"];
        var a = Logits(fromTimm, x);
        var b = Logits(fromTorchvision, x);
        Assert.True(Same(a, b));
        Assert.True(MaxDiff(a, SafeTensors.Load(TestData("logits.safetensors"))["logits"]) <= 1e-4);
    }

    [Fact]
    public void PetuningVariantTakesBackboneWeightsAndKeepsItsModules()
    {
        var (_, weights) = Trained();
        using var vpt = new Pvp.Models.VptDeepMicro(numClasses: 10);
        var prompts = vpt.state_dict()["prompt_embeddings"].clone();
        var report = BackboneWeights.Load(vpt, weights);
        Assert.Equal(new[] { "deep_prompt_embeddings", "prompt_embeddings" }, report.LeftInitialised.OrderBy(k => k));
        Assert.True(Same(vpt.state_dict()["prompt_embeddings"], prompts));
        Assert.True(Same(vpt.state_dict()["blocks.1.mlp.fc2.weight"], weights["blocks.1.mlp.fc2.weight"]));
    }

    [Fact]
    public void CheckpointAt32LoadsInto48WithInterpolatedPositions()
    {
        var (_, weights) = Trained();
        using var model = new TinyVitAt48(numClasses: 10);
        var report = BackboneWeights.Load(model, weights);
        Assert.Equal("8x8 → 12x12", report.PositionEmbedding);
        var pos = model.state_dict()["pos_embed"];
        Assert.Equal(new long[] { 1, 145, 64 }, pos.shape);
        Assert.True(Same(pos[.., ..1], weights["pos_embed"][.., ..1]), "the class token's position is kept");
        using var x = randn(2, 3, 48, 48);
        var logits = Logits(model, x);
        Assert.Equal(new long[] { 2, 10 }, logits.shape);
        Assert.False(logits.isnan().any().item<bool>());
    }

    [Fact]
    public void PositionResizeKeepsConstantsAndIsIdentityOnTheSameGrid()
    {
        using var constant = full(new long[] { 1, 65, 8 }, 0.25f);
        Assert.True(BackboneWeights.TryResizePositions(constant, new long[] { 1, 145, 8 }, out var up, out _));
        Assert.True(MaxDiff(up!, full(new long[] { 1, 145, 8 }, 0.25f)) <= 1e-6);
        using var random = randn(1, 65, 8);
        Assert.True(BackboneWeights.TryResizePositions(random, new long[] { 1, 65, 8 }, out var same, out _));
        Assert.True(MaxDiff(same!, random) <= 1e-5);
        Assert.False(BackboneWeights.TryResizePositions(randn(1, 60, 8), new long[] { 1, 65, 8 }, out _, out _), "60 − 1 is no square grid");
    }

    [Fact]
    public void HeadIsSkippedWhenTheClassCountDiffers()
    {
        var (_, weights) = Trained();
        manual_seed(5);
        using var model = new TinyVit(numClasses: 4);
        var head = model.state_dict()["head.weight"].clone();
        var report = BackboneWeights.Load(model, weights);
        Assert.Contains("another class count", report.HeadNote);
        Assert.Contains("head.weight", report.LeftInitialised);
        Assert.True(Same(model.state_dict()["head.weight"], head));
        Assert.True(Same(model.state_dict()["norm.weight"], weights["norm.weight"]));
    }

    [Fact]
    public void MissingUnexpectedAndMisShapedKeysAreEachNamed()
    {
        var (_, weights) = Trained();
        var broken = new Dictionary<string, Tensor>(weights);
        broken.Remove("blocks.1.norm2.weight");
        broken["dist_token"] = zeros(1, 1, 64);
        broken["blocks.0.mlp.fc1.weight"] = zeros(128, 64);
        using var model = new TinyVit(numClasses: 10);
        var before = model.state_dict()["blocks.0.attn.qkv.weight"].clone();
        var error = Assert.Throws<CheckpointMismatchException>(() => BackboneWeights.Load(model, broken, "broken.safetensors"));
        Assert.Equal(new[] { "blocks.1.norm2.weight" }, error.Missing);
        Assert.Equal(new[] { "dist_token" }, error.Unexpected);
        Assert.Equal(new[] { "blocks.0.mlp.fc1.weight: checkpoint [128, 64] vs model [256, 64]" }, error.MisShaped);
        Assert.Contains("broken.safetensors", error.Message);
        Assert.True(Same(model.state_dict()["blocks.0.attn.qkv.weight"], before), "nothing is loaded when the checkpoint does not fit");

        broken.Remove("blocks.0.mlp.fc1.weight");
        broken["blocks.0.mlp.fc1.weight"] = weights["blocks.0.mlp.fc1.weight"];
        broken["blocks.1.norm2.weight"] = weights["blocks.1.norm2.weight"];
        var report = BackboneWeights.Load(model, broken, options: new BackboneLoadOptions { FailOnUnexpected = false });
        Assert.Equal(new[] { "dist_token" }, report.Ignored);
    }

    [Fact]
    public void BadFilesFailWithTheirNames()
    {
        using var model = new TinyVit(numClasses: 10);
        string truncated = Path.Combine(directory, "truncated.safetensors");
        var (_, weights) = Trained();
        SafeTensors.Save(truncated, weights);
        var bytes = File.ReadAllBytes(truncated);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        var e1 = Assert.Throws<InvalidDataException>(() => BackboneWeights.Load(model, truncated));
        Assert.Contains("truncated.safetensors", e1.Message);
        Assert.Contains("truncated", e1.Message);

        string keras = Path.Combine(directory, "weights.h5");
        File.WriteAllBytes(keras, new byte[] { 0x89, 0x48, 0x44, 0x46 });
        var e2 = Assert.Throws<InvalidDataException>(() => BackboneWeights.Load(model, keras));
        Assert.Contains("unknown weights format '.h5'", e2.Message);
        // A truncated .npz (a zip's first bytes) is read as one, and named when it cannot be.
        string npz = Path.Combine(directory, "weights.npz");
        File.WriteAllBytes(npz, new byte[] { 0x50, 0x4b, 3, 4 });
        Assert.Contains($"'{npz}' is not a readable numpy .npz archive", Assert.Throws<InvalidDataException>(() => BackboneWeights.Load(model, npz)).Message);
        Assert.Throws<FileNotFoundException>(() => BackboneWeights.Load(model, Path.Combine(directory, "absent.safetensors")));

        string notADict = Path.Combine(directory, "garbage.pt");
        File.WriteAllBytes(notADict, new byte[] { 1, 2, 3, 4, 5 });
        var e3 = Assert.Throws<InvalidDataException>(() => BackboneWeights.Load(model, notADict));
        Assert.Contains("garbage.pt", e3.Message);
    }
}
