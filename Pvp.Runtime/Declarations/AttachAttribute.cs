// Compiled into the runtime and, as internal types, into the generator (PVP_GENERATOR): one source of truth for both.
using System;

namespace Pvp;

/// <summary>The places in a transformer block where a module can attach.</summary>
#if PVP_GENERATOR
internal
#else
public
#endif
enum AttachSite
{
    /// <summary>On the block's input, before <c>norm1</c>: h ← m(h).</summary>
    BlockInput = 0,
    /// <summary>On the attention branch's output, before its residual add: a ← m(a).</summary>
    AfterAttention = 1,
    /// <summary>Beside the MLP: reads the MLP's input (norm2's output); its output is added to the MLP's.</summary>
    BesideMlp = 2,
    /// <summary>On the MLP branch's output, before its residual add: m ← m(m).</summary>
    AfterMlp = 3,
    /// <summary>On the block's output, after both residual adds: h ← m(h).</summary>
    BlockOutput = 4,
    /// <summary>On norm1's output, what attention reads: n ← m(n).</summary>
    AfterNorm1 = 5,
    /// <summary>
    /// Inside attention, on the fused qkv projection's output (width 3·D, rows [q; k; v]): qkv ← m(qkv).
    /// </summary>
    AfterQkv = 6,
    /// <summary>
    /// On the attention projection's output, before any module at <see cref="AfterAttention"/>: a ← m(a).
    /// </summary>
    AfterProj = 7,
    /// <summary>On norm2's output, what the MLP reads: n ← m(n).</summary>
    AfterNorm2 = 8,
    /// <summary>Inside the MLP, on fc1's output before the GELU (width the MLP's hidden width): f ← m(f).</summary>
    AfterFc1 = 9,
    /// <summary>
    /// On fc2's output, before any module at <see cref="BesideMlp"/> or <see cref="AfterMlp"/>: m ← m(m).
    /// </summary>
    AfterFc2 = 10,
    /// <summary>
    /// Inside the MLP, on the GELU's output, what fc2 reads (width the MLP's hidden width): f ← m(f). IA³'s l_ff scales
    /// here.
    /// </summary>
    AfterActivation = 11,
    /// <summary>
    /// Beside attention: reads attention's input (norm1's output, after any module at <see cref="AfterNorm1"/>); its
    /// output is added to attention's, after any module at <see cref="AfterProj"/> and before any at
    /// <see cref="AfterAttention"/>. Convpass's attention bypass sits here.
    /// </summary>
    BesideAttention = 12,
    /// <summary>
    /// Inside attention, on the keys and values: the module reads them concatenated, [B, N, 2·D] (rows [k; v] of the
    /// fused qkv, after any module at <see cref="AfterQkv"/>), and returns [B, M, 2·D] with M ≥ N, tokens it adds
    /// going before the others (E2VPT's key-value prompts). Queries keep length N, so the block's output keeps the
    /// stream's length. Only <see cref="SiteCombine.Replace"/> joins here.
    /// </summary>
    KeysValues = 13,
}

/// <summary>
/// Attaches a user's own TorchSharp module at a site of the chosen blocks: how a PETuning variant the library has
/// never heard of is declared. The type must implement <see cref="IPetAttachment"/> and have a public constructor
/// taking an <see cref="AttachContext"/>; one instance is made per block, and its parameters train.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
#if PVP_GENERATOR
internal
#else
public
#endif
sealed class AttachAttribute : Attribute
{
    /// <summary>The kind name of attached modules's parameters: their parameter group and freezing class.</summary>
    public const string KindName = "attachments";

    /// <summary>Attaches <paramref name="module"/>.</summary>
    /// <param name="module">A non-abstract class implementing <see cref="IPetAttachment"/>.</param>
    public AttachAttribute(Type module) => Module = module;

    /// <summary>The module type.</summary>
    public Type Module { get; }

    /// <summary>Where in each block. Default <see cref="AttachSite.AfterMlp"/>.</summary>
    public AttachSite Site { get; set; } = AttachSite.AfterMlp;

    /// <summary>Block range in C# range syntax; null means all blocks.</summary>
    public string? Blocks { get; set; }

    /// <summary>Multiplier of the base learning rate for attached modules. Default 1.</summary>
    public double LearningRateScale { get; set; } = 1.0;
}
