using System.Text;
using Pvp.Training.Data;

namespace Pvp.Tests.Weights.Hub;

/// <summary>A checkpoint's own preprocessing from the configuration file its library writes beside the weights.</summary>
public sealed class ModelConfigPreprocessingTests : HubFixture
{
    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(Root, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void TimmsPretrainedCfgGivesMeanStdCropAndInterpolation()
    {
        string config = Write("config.json", TimmConfig(mean: "[0.485, 0.456, 0.406]", crop: 0.875, interpolation: "bilinear"));
        var p = ModelConfigPreprocessing.Read(config, null, Preprocessing.Timm, "hf-hub:timm/x")!;
        Assert.Equal("hf-hub:timm/x config.json", p.Name);
        Assert.Equal((0.485f, 0.456f, 0.406f), p.Mean);
        Assert.Equal(Preprocessing.Half, p.Std);
        Assert.Equal(0.875, p.CropFraction);
        Assert.Equal(ResizeMode.ShortSide, p.Resize);
        Assert.Equal(Interpolation.Bilinear, p.Interpolation);
        Assert.Equal(48, ModelConfigPreprocessing.InputSize(config));
    }

    [Fact]
    public void TransformersImageProcessorsGiveTheirResizeAndCrop()
    {
        // google/vit-base-patch16-224-in21k: ViTImageProcessor squashes to 224×224, bilinear (PIL 2), mean = std = 0.5.
        var vit = ModelConfigPreprocessing.Read(null, Write("vit.json", VitImageProcessor), Preprocessing.HuggingFace, "hf-hub:google/vit")!;
        Assert.Equal((ResizeMode.Squash, 1.0, Interpolation.Bilinear), (vit.Resize, vit.CropFraction, vit.Interpolation));
        Assert.Equal(Preprocessing.Half, vit.Mean);

        // facebook/deit-base-patch16-224: DeiTImageProcessor resizes to 256×256 (bicubic, PIL 3) and centre-crops 224.
        var deit = ModelConfigPreprocessing.Read(null, Write("deit.json", Encoding.UTF8.GetBytes("""
            { "crop_size": { "height": 224, "width": 224 }, "do_center_crop": true, "do_normalize": true, "do_resize": true,
              "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225], "resample": 3,
              "size": { "height": 256, "width": 256 }, "image_processor_type": "DeiTImageProcessor" }
            """)), Preprocessing.HuggingFace, "hf-hub:facebook/deit")!;
        Assert.Equal((ResizeMode.Squash, 0.875, Interpolation.Bicubic), (deit.Resize, deit.CropFraction, deit.Interpolation));
        Assert.Equal(Preprocessing.ImageNetStd, deit.Std);
        Assert.Equal("hf-hub:facebook/deit preprocessor_config.json", deit.Name);
    }

    [Fact]
    public void TimmsConfigWinsAndAConfigWithoutPreprocessingIsNone()
    {
        string timm = Write("config.json", TimmConfig());
        string processor = Write("preprocessor_config.json", VitImageProcessor);
        Assert.Equal("m config.json", ModelConfigPreprocessing.Read(timm, processor, Preprocessing.Timm, "m")!.Name);
        string transformersConfig = Write("hf-config.json", """{ "model_type": "vit", "hidden_size": 96 }"""u8.ToArray());
        Assert.Null(ModelConfigPreprocessing.Read(transformersConfig, null, Preprocessing.HuggingFace, "m"));
    }

    [Fact]
    public void AValuePvpCannotFollowNamesTheFileAndKey()
    {
        string config = Write("config.json", TimmConfig(interpolation: "lanczos"));
        var e = Assert.Throws<InvalidDataException>(() => ModelConfigPreprocessing.Read(config, null, Preprocessing.Timm, "m"));
        Assert.Equal($"'{config}': pretrained_cfg.interpolation 'lanczos' is not bilinear or bicubic, the filters Pvp has; give the recipe a preprocess: section instead.", e.Message);
        string mean = Write("mean.json", TimmConfig(mean: "[0.5, 0.5]"));
        Assert.Contains("pretrained_cfg.mean must be three numbers", Assert.Throws<InvalidDataException>(() => ModelConfigPreprocessing.Read(mean, null, Preprocessing.Timm, "m")).Message);
    }
}
