// Compiled into the runtime and, as internal types, into the generator (PVP_GENERATOR): one source of truth for both.
using System;

namespace Pvp;

/// <summary>The linear layers of a block that LoRA can adapt.</summary>
[Flags]
#if PVP_GENERATOR
internal
#else
public
#endif
enum LoraTargets
{
    /// <summary>None.</summary>
    None = 0,
    /// <summary>The query slice of the fused <c>attn.qkv</c> weight.</summary>
    Query = 1,
    /// <summary>The key slice of the fused <c>attn.qkv</c> weight.</summary>
    Key = 2,
    /// <summary>The value slice of the fused <c>attn.qkv</c> weight.</summary>
    Value = 4,
    /// <summary>The attention output projection <c>attn.proj</c>.</summary>
    Output = 8,
    /// <summary>The MLP's expanding layer <c>mlp.fc1</c>.</summary>
    MlpFc1 = 16,
    /// <summary>The MLP's contracting layer <c>mlp.fc2</c>.</summary>
    MlpFc2 = 32,
}

/// <summary>
/// LoRA (Hu et al. 2021, microsoft/LoRA): a frozen weight W is used as W + (Alpha / Rank)·B·A, with A [Rank, in]
/// Kaiming-uniform(a = √5) and B [out, Rank] zero, so training starts from the backbone's function.
/// </summary>
/// <remarks>
/// Parameters are named <c>lora_A</c> and <c>lora_B</c>: <c>blocks.{i}.attn.qkv.{q,k,v}.lora_A</c> for slices of the
/// fused qkv, <c>blocks.{i}.attn.proj.lora_A</c>, <c>blocks.{i}.mlp.fc1.lora_A</c> and so on. Declare the attribute
/// more than once to adapt different blocks differently; one layer of one block may be claimed once.
/// </remarks>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
#if PVP_GENERATOR
internal
#else
public
#endif
sealed class LoraAttribute : Attribute
{
    /// <summary>The kind name of LoRA's parameters: their parameter group and freezing class.</summary>
    public const string KindName = "lora";

    /// <summary>The rank r of the update; 1 ≤ r ≤ width. Default 8.</summary>
    public int Rank { get; set; } = 8;

    /// <summary>The scaling numerator: the update is multiplied by Alpha / Rank. Default 8.</summary>
    public double Alpha { get; set; } = 8;

    /// <summary>Which layers to adapt. Default query and value.</summary>
    public LoraTargets Targets { get; set; } = LoraTargets.Query | LoraTargets.Value;

    /// <summary>Block range in C# range syntax; null means all blocks.</summary>
    public string? Blocks { get; set; }

    /// <summary>Dropout on the update's input while training, in [0, 1). Default 0.</summary>
    public double Dropout { get; set; }

    /// <summary>Multiplier of the base learning rate for the LoRA parameter group. Default 1.</summary>
    public double LearningRateScale { get; set; } = 1.0;

    /// <summary>
    /// DoRA (Liu et al. 2024, arXiv 2402.09353; HF PEFT's <c>use_dora</c>, <c>peft/tuners/lora/dora.py</c>): each adapted
    /// layer computes with W' = m ⊙ (W + s·B·A) / ‖W + s·B·A‖, the norm taken per output row and detached from the
    /// gradient (the paper's §4.3, as PEFT does), m a learned magnitude per output row (<c>lora_magnitude_vector</c>,
    /// trained with LoRA's group) initialised to ‖W‖ of the loaded backbone. The bias is not rescaled. Merges and
    /// unmerges like LoRA. Needs Dropout 0. Default false (plain LoRA).
    /// </summary>
    public bool UseDora { get; set; }
}
