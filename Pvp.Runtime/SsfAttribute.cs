// Compiled into the runtime and, as internal types, into the generator (PVP_GENERATOR): one source of truth for both.
using System;

namespace Pvp;

/// <summary>
/// SSF (Lian et al., 2022, "Scaling &amp; Shifting Your Features"): a learnable per-channel scale γ and shift β,
/// y = γ ⊙ x + β, after the operations of each chosen block — its first LayerNorm, its attention, its second LayerNorm
/// and its MLP — initialised as SSF's code does (γ ~ N(1, 0.02), β ~ N(0, 0.02)). Parameters:
/// <c>blocks.{i}.ssf_{norm1,attn,norm2,mlp}.{scale,shift}</c>. SSF's code also scales the qkv and fc1 outputs inside
/// attention and the MLP, which this block-level form does not.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
#if PVP_GENERATOR
internal
#else
public
#endif
sealed class SsfAttribute : Attribute
{
    /// <summary>The block fields (and state-dict segments) of SSF's modules, in forward order: the generator emits them and the runtime classifies their keys by them.</summary>
    public static System.Collections.Generic.IReadOnlyList<string> ModuleNames { get; } = new[] { "ssf_norm1", "ssf_attn", "ssf_norm2", "ssf_mlp" };

    /// <summary>Block range in C# range syntax; null means all blocks.</summary>
    public string? Blocks { get; set; }

    /// <summary>Multiplier of the base learning rate for the SSF parameter group. Default 1.</summary>
    public double LearningRateScale { get; set; } = 1.0;
}
