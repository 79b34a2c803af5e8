using Pvp.Checkpoints;
using Pvp.Tests.Numerics;
using Pvp.Weights;
using Pvp.Weights.Hub;
using TorchSharp;
using static Pvp.Tests.Numerics.TestTensors;
using static TorchSharp.torch;

namespace Pvp.Tests.Weights.Hub;

/// <summary>
/// The evidence of the README's table of Hub families: each family's repository laid out as its own library writes it
/// (file names, key layout, head or none, extra tensors), made from the torchvision fixture, served by the local Hub and
/// loaded by id. Nothing here was downloaded from huggingface.co (no network): the layouts are those the libraries'
/// code writes (timm's push_to_hub / save_file, transformers' save_pretrained).
/// </summary>
public sealed class HubFamilyTests : HubFixture
{
    private byte[] Safetensors(Func<Dictionary<string, Tensor>, Dictionary<string, Tensor>> relay, string from = "timm_state.safetensors")
    {
        string path = Path.Combine(Root, $"relaid-{Guid.NewGuid():N}.safetensors");
        SafeTensors.Save(path, relay(SafeTensors.Load(TestData(from))));
        return File.ReadAllBytes(path);
    }

    [Fact]
    public void HeadlessTimmCheckpointsLoadTheirBackbone()
    {
        // timm's orig_in21k, dino and mae weights are published with num_classes 0: no head.* tensors.
        Server.Add("timm/fixture_vit.dino", ("model.safetensors", Safetensors(d => d.Where(p => !p.Key.StartsWith("head.", StringComparison.Ordinal)).ToDictionary()), true),
            ("config.json", TimmConfig(mean: "[0.485, 0.456, 0.406]"), false));
        using var model = new FixtureVit(numClasses: 7);
        var report = BackboneWeights.Load(model, "hf-hub:timm/fixture_vit.dino", Load());
        Assert.Equal("the checkpoint has no head", report.HeadNote);
        Assert.Equal(model.state_dict().Count - 2, report.Loaded.Count);
        var source = SafeTensors.Load(TestData("timm_state.safetensors"));
        Assert.True(Same(source["blocks.1.mlp.fc2.weight"], model.state_dict()["blocks.1.mlp.fc2.weight"]));
    }

    [Fact]
    public void ADistilledDeitGetsTheNamedMismatch()
    {
        // timm's deit_*_distilled_patch16_224: a distillation token and a second head beside the timm keys.
        Server.Add("timm/deit_fixture_distilled", ("model.safetensors", Safetensors(d =>
        {
            d["dist_token"] = zeros(1, 1, 96);
            d["head_dist.weight"] = zeros(7, 96);
            d["head_dist.bias"] = zeros(7);
            d["pos_embed"] = cat(new[] { d["pos_embed"].narrow(1, 0, 1), d["pos_embed"] }, 1);
            return d;
        }), true));
        using var model = new FixtureVit(numClasses: 7);
        var e = Assert.Throws<CheckpointMismatchException>(() => BackboneWeights.Load(model, "hf-hub:timm/deit_fixture_distilled", Load()));
        Assert.Contains("hf-hub:timm/deit_fixture_distilled (model.safetensors", e.Message);
        Assert.Contains("dist_token", e.Message);
        Assert.Contains("head_dist.weight", e.Message);
    }

    [Fact]
    public void ATransformersViTModelWithoutPrefixOrClassifierLoads()
    {
        // facebook/dino-vitb16 is a ViTModel: keys without the "vit." prefix, a pooler, no classifier.
        Server.Add("facebook/dino-fixture", ("model.safetensors", Safetensors(d => d
            .Where(p => !p.Key.StartsWith("classifier.", StringComparison.Ordinal))
            .ToDictionary(p => p.Key.StartsWith("vit.", StringComparison.Ordinal) ? p.Key[4..] : p.Key, p => p.Value), "hf_layout.safetensors"), true),
            ("preprocessor_config.json", VitImageProcessor, false));
        using var model = new FixtureVit(numClasses: 7);
        var report = BackboneWeights.Load(model, "hf-hub:facebook/dino-fixture", Load());
        Assert.Equal(KeyLayout.HuggingFace, report.Layout);
        Assert.Equal("the checkpoint has no head", report.HeadNote);
        Assert.Equal("pooler.dense.bias, pooler.dense.weight", string.Join(", ", report.Skipped.Order(StringComparer.Ordinal)));
        var timm = SafeTensors.Load(TestData("timm_state.safetensors"));
        Assert.True(MaxDiff(timm["blocks.0.attn.qkv.weight"], model.state_dict()["blocks.0.attn.qkv.weight"]) <= 1e-6);
    }

    [Fact]
    public void ATransformersMaeCheckpointGetsTheNamedMismatch()
    {
        // facebook/vit-mae-base is ViTMAEForPreTraining: the ViT encoder under vit.* plus a decoder.
        Server.Add("facebook/vit-mae-fixture", ("model.safetensors", Safetensors(d =>
        {
            var encoder = d.Where(p => !p.Key.StartsWith("classifier.", StringComparison.Ordinal) && !p.Key.Contains("pooler", StringComparison.Ordinal)).ToDictionary();
            encoder["decoder.decoder_embed.weight"] = zeros(64, 96);
            return encoder;
        }, "hf_layout.safetensors"), true));
        using var model = new FixtureVit(numClasses: 7);
        var e = Assert.Throws<CheckpointMismatchException>(() => BackboneWeights.Load(model, "hf-hub:facebook/vit-mae-fixture", Load()));
        Assert.Contains("decoder.decoder_embed.weight", e.Message);
    }

    [Fact]
    public void AnIdWhoseShapesDoNotFitTheVariantGetsTheNamedMismatch()
    {
        Server.Add("timm/fixture_vit.augreg_in21k", ("model.safetensors", TimmSafetensors, true));
        using var tiny = new TinyVit(numClasses: 7); // 32×32, width 64: another backbone
        var e = Assert.Throws<CheckpointMismatchException>(() => BackboneWeights.Load(tiny, "hf-hub:timm/fixture_vit.augreg_in21k", Load()));
        Assert.Contains("hf-hub:timm/fixture_vit.augreg_in21k", e.Message);
        Assert.Contains("blocks.0.attn.qkv.weight: checkpoint [288, 96] vs model [192, 64]", e.Message);
    }
}
