using Pvp.Tests.Numerics;
using Pvp.Weights;
using TorchSharp;
using static Pvp.Tests.Numerics.TestTensors;
using static TorchSharp.torch;

namespace Pvp.Tests.Weights;

/// <summary>
/// Google's original JAX checkpoints (.npz) and Hugging Face's ViT layout load into a generated model and reproduce
/// torchvision's logits: the fixture's weights re-laid by each layout's documented key mapping with numpy's own writer
/// (TestData/relay_layouts.py).
/// </summary>
public class CheckpointLayoutTests
{
    [Theory]
    [InlineData("jax_layout.npz", KeyLayout.Jax, "pre_logits/bias, pre_logits/kernel")]
    [InlineData("hf_layout.safetensors", KeyLayout.HuggingFace, "vit.pooler.dense.bias, vit.pooler.dense.weight")]
    public void ALayoutLoadsAndReproducesTorchvision(string file, KeyLayout layout, string skipped)
    {
        using var model = new FixtureVit(numClasses: 7);
        var report = BackboneWeights.Load(model, TestData(file));
        Assert.Equal(layout, report.Layout);
        Assert.Equal(skipped, string.Join(", ", report.Skipped.Order(StringComparer.Ordinal)));
        Assert.Null(report.HeadNote); // the classifier loaded as the head
        Assert.Contains("skipped (not part of a timm ViT)", report.ToString());
        double maxDiff = MaxDiffFromTorchvision(model);
        Assert.True(maxDiff <= 1e-4, $"{file}: max |Δ| against torchvision = {maxDiff:E2}");
    }

    [Theory]
    [InlineData("jax_layout.npz")]
    [InlineData("hf_layout.safetensors")]
    [InlineData("timm_state.safetensors")]
    [InlineData("tv_state.safetensors")]
    public void AHeadlessModelTakesAClassifiersBackboneAndSaysSo(string file)
    {
        using var headless = new FixtureVit(numClasses: 0);
        var report = BackboneWeights.Load(headless, TestData(file));
        Assert.Equal("the model has no head (numClasses 0); the checkpoint's was skipped", report.HeadNote);

        // Its pooled features are the full model's pre-head features: the head applied to them gives torchvision's logits.
        using var full = new FixtureVit(numClasses: 7);
        BackboneWeights.Load(full, TestData(file));
        headless.eval();
        full.eval();
        using var x = SafeTensors.Load(TestData("input.safetensors"))["x"];
        using var noGrad = no_grad();
        using var features = headless.call(x);
        var head = full.state_dict();
        using var logits = nn.functional.linear(features, head["head.weight"], head["head.bias"]);
        using var expected = SafeTensors.Load(TestData("logits.safetensors"))["logits"];
        Assert.True((logits - expected).abs().max().item<float>() <= 1e-4);
    }

    [Fact]
    public void ABrokenNpzIsNamed()
    {
        string folder = Directory.CreateTempSubdirectory("pvp-npz-").FullName;
        try
        {
            string notZip = Path.Combine(folder, "weights.npz");
            File.WriteAllText(notZip, "not a zip");
            Assert.Contains($"'{notZip}' is not a readable numpy .npz archive", Assert.Throws<InvalidDataException>(() => StateDictFile.Load(notZip)).Message);

            string objects = Path.Combine(folder, "objects.npz");
            using (var zip = System.IO.Compression.ZipFile.Open(objects, System.IO.Compression.ZipArchiveMode.Create))
            using (var stream = zip.CreateEntry("w.npy").Open())
            {
                string header = "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }".PadRight(117) + "\n";
                stream.Write(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, 0 });
                stream.Write(System.Text.Encoding.ASCII.GetBytes(header));
            }
            string message = Assert.Throws<InvalidDataException>(() => StateDictFile.Load(objects)).Message;
            Assert.Contains("entry 'w.npy' holds dtype '|O'", message);
            Assert.Contains("pickles", message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
