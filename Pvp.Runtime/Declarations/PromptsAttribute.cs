// Compiled into the runtime and, as internal types, into the generator (PVP_GENERATOR): one source of truth for both.
using System;

namespace Pvp;

/// <summary>
/// Visual prompt tuning (VPT, Jia et al. 2022): learnable prompt tokens inserted between the class token and the
/// patch tokens, <c>[CLS, prompts, patches]</c>, after the position embedding (prompts get none).
/// </summary>
/// <remarks>
/// VPT-shallow (<see cref="Deep"/> false) inserts <c>prompt_embeddings</c> [1, Length, D] before the first block of
/// <see cref="Blocks"/>. VPT-deep also replaces the prompt tokens' outputs before each later block of the range by
/// that block's own prompts, <c>deep_prompt_embeddings</c> [blocks − 1, Length, D]. Prompts are initialised
/// uniform(−v, v) with v = √(6 / (3·patch² + D)), as KMnP/vpt does. Defaults follow KMnP/vpt's config.
/// </remarks>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
#if PVP_GENERATOR
internal
#else
public
#endif
sealed class PromptsAttribute : Attribute
{
    /// <summary>The kind name of VPT's parameters: their parameter group and freezing class.</summary>
    public const string KindName = "prompts";

    /// <summary>Prompt tokens per block. Default 5 (VPT's NUM_TOKENS).</summary>
    public int Length { get; set; } = 5;

    /// <summary>VPT-deep: new prompts at every block of the range. Default false (VPT-shallow).</summary>
    public bool Deep { get; set; }

    /// <summary>Dropout on prompt tokens while training, in [0, 1). Default 0.</summary>
    public double Dropout { get; set; }

    /// <summary>
    /// Block range in C# range syntax (<c>"0..12"</c>, <c>"6.."</c>, <c>"..^2"</c>); null means all blocks.
    /// </summary>
    public string? Blocks { get; set; }

    /// <summary>Multiplier of the base learning rate for the prompts' parameter group. Default 1.</summary>
    public double LearningRateScale { get; set; } = 1.0;

    /// <summary>
    /// Whether the default decay rule (timm's: weights of two or more dimensions) decays the prompts too. Default
    /// false. VPT's own SGD decays every trained tensor, prompts included (its <c>optimizer.py</c>): a recipe's
    /// <c>decay: all</c> (or <c>protocol: vpt</c>) does that whatever this says.
    /// </summary>
    public bool WeightDecay { get; set; }
}
