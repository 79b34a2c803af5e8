using System.Text;
using Pvp.Weights;
using Pvp.Weights.Hub;
using static Pvp.Tests.Numerics.TestTensors;

namespace Pvp.Tests.Weights.Hub;

/// <summary>
/// What the Hub tests share: a local Hub server, a temporary cache folder, options pointing at both, and the files of
/// each checkpoint family made from the torchvision fixture (its weights re-laid as timm, transformers and PyTorch
/// pickles write them: TestData/README.md).
/// </summary>
public abstract class HubFixture : IDisposable
{
    internal readonly HubTestServer Server = new();
    protected readonly string Root = Directory.CreateTempSubdirectory("pvp-hub-").FullName;

    protected HubFixture() => HubWeights.Forget();

    protected string Cache => Path.Combine(Root, "hub");

    protected HubOptions Options => new()
    {
        Endpoint = Server.Endpoint,
        CacheFolder = Cache,
        TokenFile = Path.Combine(Root, "token"),
        Timeout = TimeSpan.FromSeconds(5),
        LockTimeout = TimeSpan.FromSeconds(20),
    };

    protected BackboneLoadOptions Load(HubOptions? options = null) => new() { Hub = options ?? Options };

    /// <summary>The fixture's weights as timm's <c>model.safetensors</c> (timm's key layout).</summary>
    protected static byte[] TimmSafetensors => File.ReadAllBytes(TestData("timm_state.safetensors"));

    /// <summary>The fixture's weights as transformers' <c>ViTForImageClassification</c> saves them.</summary>
    protected static byte[] HuggingFaceSafetensors => File.ReadAllBytes(TestData("hf_layout.safetensors"));

    /// <summary>The fixture's timm-layout weights as <c>torch.save(state_dict)</c> writes <c>pytorch_model.bin</c>.</summary>
    protected byte[] TimmPickle(Func<string, bool>? keep = null)
    {
        string path = Path.Combine(Root, $"pickle-{Guid.NewGuid():N}.bin");
        var state = SafeTensors.Load(TestData("timm_state.safetensors")).Where(p => keep?.Invoke(p.Key) ?? true).ToDictionary(p => p.Key, p => p.Value);
        StateDictFile.SavePickle(path, state);
        return File.ReadAllBytes(path);
    }

    /// <summary>timm's <c>config.json</c> of an augreg ViT (the form timm's push_to_hub writes).</summary>
    protected static byte[] TimmConfig(string mean = "[0.5, 0.5, 0.5]", double crop = 0.9, string interpolation = "bicubic") => Encoding.UTF8.GetBytes($$"""
        {
          "architecture": "vit_base_patch16_224",
          "num_classes": 7,
          "num_features": 96,
          "global_pool": "token",
          "pretrained_cfg": {
            "tag": "augreg_in21k",
            "custom_load": false,
            "input_size": [3, 48, 48],
            "fixed_input_size": true,
            "interpolation": "{{interpolation}}",
            "crop_pct": {{crop.ToString(System.Globalization.CultureInfo.InvariantCulture)}},
            "crop_mode": "center",
            "mean": {{mean}},
            "std": [0.5, 0.5, 0.5],
            "num_classes": 7,
            "pool_size": null,
            "first_conv": "patch_embed.proj",
            "classifier": "head"
          }
        }
        """);

    /// <summary>transformers' <c>preprocessor_config.json</c> of google/vit-base-patch16-224-in21k (ViTImageProcessor).</summary>
    protected static byte[] VitImageProcessor => Encoding.UTF8.GetBytes("""
        {
          "do_normalize": true,
          "do_rescale": true,
          "do_resize": true,
          "image_mean": [0.5, 0.5, 0.5],
          "image_processor_type": "ViTImageProcessor",
          "image_std": [0.5, 0.5, 0.5],
          "resample": 2,
          "rescale_factor": 0.00392156862745098,
          "size": { "height": 224, "width": 224 }
        }
        """);

    /// <summary>The repository folder of <paramref name="repo"/> in the test cache.</summary>
    protected string Storage(string repo) => Path.Combine(Cache, "models--" + repo.Replace("/", "--"));

    public virtual void Dispose()
    {
        Server.Dispose();
        HubWeights.Forget();
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
        GC.SuppressFinalize(this);
    }
}
