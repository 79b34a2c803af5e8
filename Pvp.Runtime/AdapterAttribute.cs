// Compiled into the runtime and, as internal types, into the generator (PVP_GENERATOR): one source of truth for both.
using System;

namespace Pvp;

/// <summary>Whose adapter design: where the adapter sits in a block and what it reads.</summary>
#if PVP_GENERATOR
internal
#else
public
#endif
enum AdapterPlacement
{
    /// <summary>
    /// Pfeiffer et al. (2020), and VPT's adapter baseline: one adapter after the MLP, on its output, with its own residual
    /// (m + s·adapter(m)).
    /// </summary>
    Pfeiffer = 0,
    /// <summary>
    /// AdaptFormer (Chen et al., 2022, its <c>custom_modules.py</c>): beside the MLP, reading the block's residual stream after
    /// attention (before <c>norm2</c>); s·adapter(h) is added to the MLP's output.
    /// </summary>
    AdaptFormer = 1,
    /// <summary>Houlsby et al. (2019): two adapters, after the attention projection and after the MLP, each with its own residual.</summary>
    Houlsby = 2,
    /// <summary>The same as <see cref="Pfeiffer"/> (the name before placements said whose design each is).</summary>
    Sequential = Pfeiffer,
    /// <summary>The same as <see cref="AdaptFormer"/>.</summary>
    Parallel = AdaptFormer,
}

/// <summary>An adapter's own LayerNorm (AdaptFormer's <c>adapter_layernorm_option</c>).</summary>
#if PVP_GENERATOR
internal
#else
public
#endif
enum AdapterNorm
{
    /// <summary>None (AdaptFormer's main script, <c>ffn_adapter_layernorm_option="none"</c>).</summary>
    None = 0,
    /// <summary>A LayerNorm on the adapter's input (AdaptFormer's <c>"in"</c>), parameters <c>adapter.norm.*</c>.</summary>
    Input = 1,
}

/// <summary>Each adapter design's defaults, from its reference code; what an <see cref="AdapterAttribute"/> left unset means.</summary>
#if PVP_GENERATOR
internal
#else
public
#endif
static class AdapterDefaults
{
    /// <summary>AdaptFormer: 64 (its <c>--ffn_num</c>); Pfeiffer and Houlsby: D / 8 (VPT's adapter baseline, reduction factor 8).</summary>
    public static int Bottleneck(AdapterPlacement placement, int embedDim) => placement == AdapterPlacement.AdaptFormer ? 64 : Math.Max(1, embedDim / 8);

    /// <summary>AdaptFormer: 0.1 (its <c>ffn_adapter_scalar</c>); the sequential designs: 1.</summary>
    public static double Scale(AdapterPlacement placement) => placement == AdapterPlacement.AdaptFormer ? 0.1 : 1.0;

    /// <summary>AdaptFormer: 0.1 (its blocks build the adapter with it); the sequential designs: 0.</summary>
    public static double Dropout(AdapterPlacement placement) => placement == AdapterPlacement.AdaptFormer ? 0.1 : 0.0;
}

/// <summary>
/// A bottleneck adapter: [LayerNorm →] down-projection → ReLU → dropout → up-projection, scaled. <c>down_proj</c> keeps
/// PyTorch's Linear initialisation (Kaiming-uniform, a = √5); the up-projection and both biases start at zero (AdaptFormer's
/// <c>"lora"</c> init), so the block starts as the backbone's. Parameters: <c>blocks.{i}.adapter.{down_proj,up_proj}.*</c>,
/// and for Houlsby's second adapter <c>blocks.{i}.adapter_attn.*</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
#if PVP_GENERATOR
internal
#else
public
#endif
sealed class AdapterAttribute : Attribute
{
    /// <summary>
    /// Width of the bottleneck. Default (0): the design's — 64 for AdaptFormer (its <c>--ffn_num</c>), D / 8 for Pfeiffer and
    /// Houlsby (VPT's adapter baseline, reduction factor 8: 96 for ViT-B).
    /// </summary>
    public int Bottleneck { get; set; }

    /// <summary>Whose design. Default <see cref="AdapterPlacement.Pfeiffer"/>.</summary>
    public AdapterPlacement Placement { get; set; } = AdapterPlacement.Pfeiffer;

    /// <summary>The output scale s. Default: 0.1 for AdaptFormer (its <c>ffn_adapter_scalar</c>), 1 otherwise.</summary>
    public double Scale { get; set; } = double.NaN;

    /// <summary>Dropout between the ReLU and the up-projection while training. Default: 0.1 for AdaptFormer (its blocks build the adapter with it), 0 otherwise.</summary>
    public double Dropout { get; set; } = double.NaN;

    /// <summary>A LayerNorm on the adapter's input. Default none (AdaptFormer's main script).</summary>
    public AdapterNorm Norm { get; set; } = AdapterNorm.None;

    /// <summary>Block range in C# range syntax; null means all blocks.</summary>
    public string? Blocks { get; set; }

    /// <summary>Multiplier of the base learning rate for the adapters' parameter group. Default 1.</summary>
    public double LearningRateScale { get; set; } = 1.0;
}
