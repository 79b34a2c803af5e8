using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pvp.Tests.Numerics;

/// <summary>The tiny ViT of the numerical tests: 32×32, patch 4, width 64, 3 blocks, 4 heads.</summary>
[VisionTransformer(VitPreset.Micro)]
public partial class TinyVit;

/// <summary>The shape of torchvision's reference fixture: 48×48, patch 8, width 96, 2 blocks, 6 heads, MLP 384.</summary>
[VisionTransformer(ImageSize = 48, PatchSize = 8, EmbedDim = 96, Depth = 2, Heads = 6)]
public partial class FixtureVit;

/// <summary>The fixture's VPT-deep: 4 prompt tokens per block.</summary>
[VisionTransformer(ImageSize = 48, PatchSize = 8, EmbedDim = 96, Depth = 2, Heads = 6)]
[Prompts(Length = 4, Deep = true)]
public partial class FixtureVptDeep;

/// <summary>The fixture's LoRA: rank 4, alpha 8, on q and v of every block.</summary>
[VisionTransformer(ImageSize = 48, PatchSize = 8, EmbedDim = 96, Depth = 2, Heads = 6)]
[Lora(Rank = 4, Alpha = 8, Targets = LoraTargets.Query | LoraTargets.Value)]
public partial class FixtureLora;

/// <summary>LoRA on every layer kind, with several ranks, on the tiny ViT.</summary>
[VisionTransformer(VitPreset.Micro)]
[Lora(Rank = 4, Alpha = 16, Targets = LoraTargets.Query | LoraTargets.Key | LoraTargets.Value | LoraTargets.Output, Blocks = "..2")]
[Lora(Rank = 2, Alpha = 2, Targets = LoraTargets.MlpFc1 | LoraTargets.MlpFc2, LearningRateScale = 10)]
public partial class TinyLoraEverywhere;

/// <summary>DoRA on every layer kind (q, k, v slices, proj, fc1, fc2) of every block, rank 4, alpha 16.</summary>
[VisionTransformer(VitPreset.Micro)]
[Lora(Rank = 4, Alpha = 16, Targets = LoraTargets.Query | LoraTargets.Key | LoraTargets.Value | LoraTargets.Output
                                       | LoraTargets.MlpFc1 | LoraTargets.MlpFc2, UseDora = true)]
public partial class TinyDoraEverywhere;

/// <summary>VPT-deep on the middle and last block only, with prompt dropout.</summary>
[VisionTransformer(VitPreset.Micro)]
[Prompts(Length = 3, Deep = true, Blocks = "1..", Dropout = 0.5)]
public partial class TinyVptLate;

/// <summary>Sequential adapters with an explicit scale.</summary>
[VisionTransformer(VitPreset.Micro)]
[Adapter(Bottleneck = 6, Placement = AdapterPlacement.Sequential, Scale = 0.5)]
public partial class TinySequentialAdapter;

/// <summary>AdaptFormer on the last two blocks.</summary>
[VisionTransformer(VitPreset.Micro)]
[Adapter(Bottleneck = 6, Placement = AdapterPlacement.Parallel, Blocks = "^2..")]
public partial class TinyAdaptFormer;

/// <summary>AdaptFormer with its defaults (bottleneck 64, scale 0.1, dropout 0.1) and a LayerNorm on the adapter's input.</summary>
[VisionTransformer(VitPreset.Micro)]
[Adapter(Placement = AdapterPlacement.AdaptFormer, Norm = AdapterNorm.Input)]
public partial class TinyAdaptFormerNormed;

/// <summary>Houlsby's two adapters per block, default width.</summary>
[VisionTransformer(VitPreset.Micro)]
[Adapter(Placement = AdapterPlacement.Houlsby)]
public partial class TinyHoulsby;

/// <summary>A user's module: a per-channel scale and shift (as in SSF), attached after each MLP.</summary>
[VisionTransformer(VitPreset.Micro)]
[Attach(typeof(ScaleShift), Site = AttachSite.AfterMlp)]
[Attach(typeof(ScaleShift), Site = AttachSite.BlockInput, Blocks = "0")]
public partial class TinyScaleShift;

/// <summary>An attachment the library has never heard of: y = x·scale + shift per channel, starting as the identity.</summary>
public sealed class ScaleShift : nn.Module<Tensor, Tensor>, IPetAttachment
{
    private readonly Parameter scale;
    private readonly Parameter shift;

    public ScaleShift(AttachContext context) : base(nameof(ScaleShift))
    {
        scale = new Parameter(ones(new long[] { context.EmbedDim }, dtype: context.Dtype, device: context.Device));
        shift = new Parameter(zeros(new long[] { context.EmbedDim }, dtype: context.Dtype, device: context.Device));
        RegisterComponents();
    }

    // Pvp.Scalars.Add rather than '+': TorchSharp's operator passes a temporary scalar the GC may free mid-call.
    public override Tensor forward(Tensor x) => Pvp.Scalars.Add(x.mul(scale), shift);
}

/// <summary>
/// A user's module that needs the patch layout, told by its context: each patch token gets scale ⊙ the mean of its grid
/// row; the tokens before the grid (class token, prompts) get nothing.
/// </summary>
public sealed class GridRowMean : nn.Module<Tensor, Tensor>, IPetAttachment
{
    private readonly Parameter scale;

    public GridRowMean(AttachContext context) : base(nameof(GridRowMean))
    {
        Context = context;
        scale = new Parameter(zeros(new long[] { context.EmbedDim }, dtype: context.Dtype, device: context.Device));
        RegisterComponents();
    }

    public AttachContext Context { get; }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], n = x.shape[1], d = x.shape[2], g = Context.GridSize, prefix = n - g * g;
        var rows = x.narrow(1, prefix, g * g).reshape(b, g, g, d).mean(new long[] { 2 }, keepdim: true)
            .expand(b, g, g, d).reshape(b, g * g, d);
        return cat(new[] { zeros(b, prefix, d, dtype: x.dtype, device: x.device), rows }, 1).mul(scale)
            .MoveToOuterDisposeScope();
    }
}

/// <summary>A user's module beside attention (the site Convpass uses), with VPT-deep's prompts before the grid.</summary>
[VisionTransformer(VitPreset.Micro)]
[Prompts(Length = 3, Deep = true)]
[Attach(typeof(GridRowMean), Site = AttachSite.BesideAttention)]
public partial class TinyGridBeside;

/// <summary>VPT-deep on the micro ViT with 16 tokens instead of the catalog's 8: same keys, other shapes.</summary>
[VisionTransformer(VitPreset.Micro)]
[Prompts(Length = 16, Deep = true)]
public partial class VptDeepMicroLong;

/// <summary>Convpass with deep prompts: the bypass meets the class token and the prompts off the patch grid.</summary>
[VisionTransformer(VitPreset.Micro)]
[Prompts(Length = 2, Deep = true)]
[Convpass(Bottleneck = 4, Scale = 0.5, XavierInit = true)]
public partial class TinyConvpassWithPrompts;
/// <summary>
/// E2VPT's key-value prompts with keys and values apart, on blocks 1–2, composed with VPT-deep's tokens and IA³'s
/// rescaled keys and values (after qkv, before the prompts join).
/// </summary>
[VisionTransformer(VitPreset.Micro)]
[Prompts(Length = 3, Deep = true)]
[Ia3]
[KvPrompts(Length = 2, Shared = false, Blocks = "1..")]
public partial class TinyKvPromptsComposed;
