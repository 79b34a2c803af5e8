using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
using Pvp.Models;
using Pvp.Onnx;
using Pvp.MixedPrecision;
using Pvp.Tests.Numerics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace Pvp.Tests.Onnx;

/// <summary>A user's module that takes part in ONNX export: y = x·γ + β per channel.</summary>
public sealed class OnnxScaleShift : nn.Module<Tensor, Tensor>, IPetAttachment, IOnnxModule
{
    private readonly Parameter scale;
    private readonly Parameter shift;

    public OnnxScaleShift(AttachContext context) : base(nameof(OnnxScaleShift))
    {
        scale = new Parameter(ones(new long[] { context.EmbedDim }, dtype: context.Dtype, device: context.Device));
        shift = new Parameter(zeros(new long[] { context.EmbedDim }, dtype: context.Dtype, device: context.Device));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => Scalars.Add(x.mul(scale), shift);

    public OnnxValue EmitOnnx(OnnxGraph graph, OnnxValue input) => graph.Add(graph.Mul(input, graph.Parameter(scale)), graph.Parameter(shift));
}

/// <summary>A user's variant: its own module at three sites, with LoRA on k, proj and fc1 (the LoraLinear path) and VPT-shallow.</summary>
[VisionTransformer(VitPreset.Micro)]
[Prompts(Length = 3)]
[Lora(Rank = 2, Alpha = 4, Targets = LoraTargets.Key | LoraTargets.Output | LoraTargets.MlpFc1, Blocks = "1..")]
[Attach(typeof(OnnxScaleShift), Site = AttachSite.AfterAttention)]
[Attach(typeof(OnnxScaleShift), Site = AttachSite.BesideMlp, Blocks = "0")]
[Attach(typeof(OnnxScaleShift), Site = AttachSite.BlockOutput, Blocks = "^1..")]
public partial class OnnxUserVariant;

/// <summary>
/// Every Micro catalog variant and a user's [Attach] variant, exported to ONNX and run by ONNX Runtime: its logits equal
/// TorchSharp's (max |diff| ≤ 1e-4) at batch 1 and 7, for LoRA merged and separate in the file, and merged or not in the model.
/// </summary>
public class OnnxExportTests : IDisposable
{
    private const double Tolerance = 1e-4;
    private readonly string folder = Directory.CreateTempSubdirectory("pvp-onnx-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    public static TheoryData<string, OnnxLoraMode> MicroVariants()
    {
        VariantRegistry.Load(typeof(VptDeepMicro).Assembly);
        var data = new TheoryData<string, OnnxLoraMode>();
        foreach (var name in VariantRegistry.Names.Where(n => n.EndsWith("Micro", StringComparison.Ordinal)))
        {
            data.Add(name, OnnxLoraMode.Merged);
            if (VariantRegistry.Describe(name).Attachments.Any(a => a.StartsWith("LoRA", StringComparison.Ordinal)))
                data.Add(name, OnnxLoraMode.Separate);
        }
        return data;
    }

    [Fact]
    public void EveryMicroVariantOfTheCatalogIsCovered()
    {
        var names = MicroVariants().Select(row => (string)row[0]).Distinct().ToList();
        Assert.Contains("VitMicro", names);
        Assert.Contains("VptDeepLoraMicro", names);
        Assert.Contains("AdaptFormerMicro", names);
        Assert.Contains("VptDeepBf16Micro", names);
        Assert.True(names.Count >= 11, string.Join(", ", names));
    }

    [Theory]
    [MemberData(nameof(MicroVariants))]
    public void MicroVariantMatchesOnnxRuntime(string variant, OnnxLoraMode lora)
    {
        using var model = VariantRegistry.Create(variant, numClasses: 5, precision: BackbonePrecision.Float32);
        Perturb(model, seed: variant.Length);
        AssertSameLogits(model, new OnnxExportOptions { Lora = lora });
    }

    [Fact]
    public void HoulsbyAdaptersAndAnAdapterLayerNormExport()
    {
        using (var houlsby = new Pvp.Tests.Numerics.TinyHoulsby(numClasses: 5))
        {
            Perturb(houlsby, seed: 21);
            AssertSameLogits(houlsby, new OnnxExportOptions());
        }
        using var normed = new Pvp.Tests.Numerics.TinyAdaptFormerNormed(numClasses: 5);
        Perturb(normed, seed: 22);
        AssertSameLogits(normed, new OnnxExportOptions());
    }

    [Fact]
    public void KeyValuePromptsApartAndComposedExport()
    {
        // The catalog's key-value prompts share one tensor; these have keys and values apart, on some blocks, after IA³.
        using (var apart = new Pvp.Tests.Model.TinyKvPromptsApart(numClasses: 5))
        {
            Perturb(apart, seed: 23);
            AssertSameLogits(apart, new OnnxExportOptions());
        }
        using var composed = new Pvp.Tests.Numerics.TinyKvPromptsComposed(numClasses: 5);
        Perturb(composed, seed: 24);
        AssertSameLogits(composed, new OnnxExportOptions());
    }

    [Theory]
    [InlineData(OnnxLoraMode.Merged)]
    [InlineData(OnnxLoraMode.Separate)]
    public void LoraMergedInTheModelExportsTheSameFunction(OnnxLoraMode lora)
    {
        using var model = new VptDeepLoraMicro(numClasses: 4);
        Perturb(model, seed: 3);
        model.MergeLora();
        AssertSameLogits(model, new OnnxExportOptions { Lora = lora });
    }

    [Theory]
    [InlineData(OnnxLoraMode.Merged, false)]
    [InlineData(OnnxLoraMode.Separate, false)]
    [InlineData(OnnxLoraMode.Merged, true)]
    [InlineData(OnnxLoraMode.Separate, true)]
    public void DoraOnEveryLayerKindExportsTheSameFunction(OnnxLoraMode lora, bool mergedInTheModel)
    {
        using var model = new Pvp.Tests.Numerics.TinyDoraEverywhere(numClasses: 4);
        Perturb(model, seed: 7);
        if (mergedInTheModel) model.MergeLora();
        string path = AssertSameLogits(model, new OnnxExportOptions { Lora = lora });
        var keys = OnnxFileReader.Read(path).Initializers.Keys;
        if (lora == OnnxLoraMode.Separate) Assert.Contains("blocks.1.mlp.fc1.dora_scale", keys);
        else Assert.DoesNotContain(keys, k => k.Contains("lora_", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(OnnxLoraMode.Merged)]
    [InlineData(OnnxLoraMode.Separate)]
    public void UsersAttachedModuleAddsItsOwnNodes(OnnxLoraMode lora)
    {
        using var model = new OnnxUserVariant(numClasses: 6);
        Perturb(model, seed: 11);
        string path = AssertSameLogits(model, new OnnxExportOptions { Lora = lora });
        var file = OnnxFileReader.Read(path);
        // Its scale/shift parameters are initializers under their state-dict names.
        var attached = model.named_parameters().Select(p => p.name).Where(n => model.KindOf(n) == AttachAttribute.KindName).ToList();
        Assert.Equal(2 * (3 + 1 + 1), attached.Count);
        Assert.All(attached, name => Assert.Contains(name, file.Initializers.Keys));
    }

    [Fact]
    public void SeparateLoraKeepsTheLowRankInitializersByName()
    {
        using var model = new LoraMicro(numClasses: 3);
        Perturb(model, seed: 5);
        string merged = Path.Combine(folder, "merged.onnx"), separate = Path.Combine(folder, "separate.onnx");
        model.ExportOnnx(merged);
        model.ExportOnnx(separate, new OnnxExportOptions { Lora = OnnxLoraMode.Separate });
        var m = OnnxFileReader.Read(merged);
        var s = OnnxFileReader.Read(separate);
        Assert.DoesNotContain(m.Initializers.Keys, k => k.Contains("lora_", StringComparison.Ordinal));
        Assert.Contains("blocks.0.attn.qkv.q.lora_A", s.Initializers.Keys);
        Assert.Contains("blocks.2.attn.qkv.v.lora_B", s.Initializers.Keys);
        Assert.Equal(new long[] { 4, 64 }, s.Initializers["blocks.0.attn.qkv.q.lora_A"].Dims);
        // Merged: the fused qkv weight holds W + ΔW, so it differs from the model's frozen W.
        using var frozen = model.state_dict()["blocks.0.attn.qkv.weight"].clone();
        using var delta = model.named_modules().Single(m => m.name == "blocks.0.attn.qkv").module is Pvp.Blocks.LoraQkvLinear qkv ? qkv.Delta() : throw new InvalidOperationException("no LoRA qkv");
        var exported = m.Initializers["blocks.0.attn.qkv.weight"].Floats!;
        using var expected = (frozen + delta).flatten();
        Assert.Equal(expected.data<float>().ToArray(), exported);
    }

    [Fact]
    public void GraphIsOpset17WithOneLayerNormalizationNodePerNormAndADynamicBatch()
    {
        using var model = new VptDeepMicro(numClasses: 3);
        string path = Path.Combine(folder, "vpt.onnx");
        model.ExportOnnx(path);
        var file = OnnxFileReader.Read(path);
        Assert.Equal(8, file.IrVersion);
        Assert.Equal(17, file.Opset);
        Assert.Equal(2 * 3 + 1, file.OpTypes.Count(op => op == "LayerNormalization"));
        Assert.Contains("Erf", file.OpTypes);
        Assert.All(file.Initializers.Where(p => !p.Key.StartsWith("const.", StringComparison.Ordinal)), p => Assert.Equal(1, p.Value.DataType)); // weights float32
        Assert.Contains("deep_prompt_embeddings", file.Initializers.Keys);
        using var session = new InferenceSession(path);
        Assert.Equal(-1, session.InputMetadata["images"].Dimensions[0]);
        Assert.Equal(new[] { -1, 3, 32, 32 }, session.InputMetadata["images"].Dimensions);
        Assert.Equal(new[] { -1, 3 }, session.OutputMetadata["logits"].Dimensions);
    }

    [Fact]
    public void MetadataRecordsVariantPreprocessingClassesAndVersion()
    {
        using var model = new VptDeepLoraMicro(numClasses: 3);
        string path = Path.Combine(folder, "meta.onnx");
        var written = model.ExportOnnx(path, new OnnxExportOptions
        {
            Preprocessing = OnnxPreprocessing.ImageNet(cropFraction: 0.875),
            ClassNames = new[] { "circle, red", "square \"blue\"", "star" },
        });
        using var session = new InferenceSession(path);
        var meta = session.ModelMetadata.CustomMetadataMap;
        Assert.Equal(written.OrderBy(p => p.Key), meta.OrderBy(p => p.Key));
        Assert.Equal("VptDeepLoraMicro", meta["pvp.variant"]);
        Assert.Equal("32", meta["pvp.image_size"]);
        Assert.Equal("[0.485,0.456,0.406]", meta["pvp.mean"]);
        Assert.Equal("[0.229,0.224,0.225]", meta["pvp.std"]);
        Assert.Equal("0.875", meta["pvp.crop_fraction"]);
        Assert.Equal(new[] { "circle, red", "square \"blue\"", "star" }, System.Text.Json.JsonSerializer.Deserialize<string[]>(meta["pvp.class_names"]));
        var attachments = System.Text.Json.JsonSerializer.Deserialize<string[]>(meta["pvp.attachments"])!;
        Assert.Equal(model.Attachments, attachments);
        Assert.Equal(PetModel.PvpVersion, meta["pvp.version"]);
        Assert.Equal("Pvp", session.ModelMetadata.ProducerName);
    }

    [Fact]
    public void OptionsCheckThemselvesAgainstTheModel()
    {
        var rgb = new OnnxPreprocessing(new[] { 0.5f, 0.5f, 0.5f }, new[] { 0.5f, 0.5f, 0.5f }, 0.875);
        new OnnxExportOptions { Preprocessing = rgb, ClassNames = new[] { "a", "b", "c" } }.Validate(inChannels: 3, numClasses: 3);
        new OnnxExportOptions { ClassNames = new[] { "a" } }.Validate(inChannels: 3, numClasses: 0); // no head: names are free
        string Error(OnnxExportOptions options, int channels = 3, int classes = 3) =>
            Assert.Throws<ArgumentException>(() => options.Validate(channels, classes)).Message;
        Assert.Contains("1 channels need 1 means and stds, got 3 and 3", Error(new OnnxExportOptions { Preprocessing = rgb }, channels: 1));
        Assert.Contains("resize 'crop': use short_side or square", Error(new OnnxExportOptions { Preprocessing = rgb with { Resize = "crop" } }));
        Assert.Contains("interpolation 'nearest'", Error(new OnnxExportOptions { Preprocessing = rgb with { Interpolation = "nearest" } }));
        Assert.Contains("2 class names for a head of 3 classes", Error(new OnnxExportOptions { ClassNames = new[] { "a", "b" } }));
    }

    [Fact]
    public void ClassNamesMustMatchTheHead()
    {
        using var model = new LinearProbeMicro(numClasses: 3);
        string path = Path.Combine(folder, "bad.onnx");
        var e = Assert.Throws<ArgumentException>(() => model.ExportOnnx(path, new OnnxExportOptions { ClassNames = new[] { "a", "b" } }));
        Assert.Contains("2 class names for a head of 3 classes", e.Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void ModuleWithoutTheInterfaceFailsCleanlyAndWritesNoFile()
    {
        using var model = new TinyScaleShift(numClasses: 3);
        string path = Path.Combine(folder, "unsupported.onnx");
        File.WriteAllText(Path.Combine(folder, "keep.txt"), "");
        var e = Assert.Throws<OnnxExportException>(() => model.ExportOnnx(path));
        Assert.Contains(typeof(ScaleShift).FullName!, e.Message);
        Assert.Contains("blocks.0.", e.Message); // where it sits
        Assert.Contains(typeof(IOnnxModule).FullName!, e.Message);
        Assert.Contains("no file was written", e.Message);
        Assert.False(File.Exists(path));
        Assert.Equal(new[] { "keep.txt" }, Directory.GetFiles(folder).Select(Path.GetFileName)); // no temporary file left either
    }

    [Fact]
    public void ExportedGraphFollowsTheModelsStateNotItsConstructionTimeWeights()
    {
        // Guards against a graph that ignores trained values: change one prompt and the ONNX logits change with TorchSharp's.
        using var model = new VptShallowMicro(numClasses: 3);
        Perturb(model, seed: 1);
        string before = AssertSameLogits(model, OnnxExportOptions.Default, "before.onnx");
        using (no_grad()) model.named_parameters().Single(p => p.name == "prompt_embeddings").parameter.mul_(-4.0); // (a constant shift would vanish in LayerNorm)
        string after = AssertSameLogits(model, OnnxExportOptions.Default, "after.onnx");
        using var x = Inputs(2, seed: 9);
        Assert.True(MaxDiff(RunOnnx(before, x), RunOnnx(after, x)) > 1e-3);
    }

    [Fact]
    public void Bf16BackboneExportsFloat32ByDefaultOrKeepsBf16WhenAsked()
    {
        using var model = new VptDeepBf16Micro(numClasses: 4, precision: BackbonePrecision.Bf16);
        Assert.Equal(ScalarType.BFloat16, model.FrozenBackboneDtype);
        Perturb(model, seed: 2);
        string f32 = Path.Combine(folder, "f32.onnx"), bf16 = Path.Combine(folder, "bf16.onnx");
        model.ExportOnnx(f32);
        model.ExportOnnx(bf16, new OnnxExportOptions { Weights = OnnxWeightType.KeepBFloat16 });
        var f32File = OnnxFileReader.Read(f32);
        var bf16File = OnnxFileReader.Read(bf16);
        Assert.All(f32File.Initializers.Where(p => !p.Key.StartsWith("const.", StringComparison.Ordinal)), p => Assert.Equal(1, p.Value.DataType));
        Assert.Equal(16, bf16File.Initializers["blocks.0.mlp.fc1.weight"].DataType);
        Assert.Equal(1, bf16File.Initializers["prompt_embeddings"].DataType); // what trains stays float32
        Assert.True(new FileInfo(bf16).Length < 0.6 * new FileInfo(f32).Length);
        // bf16 → float32 is exact: both files hold the same values, so ONNX Runtime gives the same logits.
        using var x = Inputs(3, seed: 4);
        Assert.True(MaxDiff(RunOnnx(f32, x), RunOnnx(bf16, x)) <= 1e-6);
        // And they are the bf16 model's function computed in float32: close to TorchSharp's bf16 forward.
        model.eval();
        using var torchLogits = model.call(x);
        Assert.True(MaxDiff(torchLogits.to(ScalarType.Float32).data<float>().ToArray(), RunOnnx(f32, x)) < 0.1);
    }

    // ---- helpers ----------------------------------------------------------------------------------------------------

    /// <summary>Moves every parameter off its initialisation (LoRA's B and adapters' up-projections start at zero).</summary>
    private static void Perturb(PetModel model, int seed)
    {
        using var generator = new torch.Generator().manual_seed(seed);
        using var noGrad = no_grad();
        foreach (var (_, p) in model.named_parameters())
        {
            using var noise = randn(p.shape, dtype: ScalarType.Float32, generator: generator).mul_(0.05);
            p.add_(noise.to(p.dtype));
        }
    }

    private static Tensor Inputs(int batch, int seed)
    {
        using var generator = new torch.Generator().manual_seed(seed);
        return randn(new long[] { batch, 3, 32, 32 }, generator: generator);
    }

    private string AssertSameLogits(PetModel model, OnnxExportOptions options, string file = "model.onnx")
    {
        string path = Path.Combine(folder, file);
        model.ExportOnnx(path, options);
        model.eval();
        foreach (int batch in new[] { 1, 7 })
        {
            using var x = Inputs(batch, seed: batch);
            float[] expected;
            using (no_grad())
            using (var logits = model.call(x))
                expected = logits.data<float>().ToArray();
            float[] actual = RunOnnx(path, x);
            double diff = MaxDiff(expected, actual);
            Assert.True(diff <= Tolerance, $"{model.VariantName} ({options.Lora}), batch {batch}: max |diff| {diff:E2} > {Tolerance:E0}");
        }
        return path;
    }

    private static float[] RunOnnx(string path, Tensor x)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(path, options);
        var input = new DenseTensor(x.data<float>().ToArray(), x.shape.Select(d => (int)d).ToArray());
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("images", input) });
        var output = results.Single(r => r.Name == "logits").AsTensor<float>();
        Assert.Equal(x.shape[0], output.Dimensions[0]);
        return output.ToArray();
    }

    private static double MaxDiff(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }
}
