// Compiled into the runtime and, as internal types, into the generator (PVP_GENERATOR): one source of truth for both.
using System;

namespace Pvp;

/// <summary>
/// E2VPT's key-value prompts (Han et al., ICCV 2023, "E²VPT: An Effective and Efficient Approach for Visual Prompt
/// Tuning", arXiv 2307.13770; code: ChengHan111/E2VPT at commit 7a66e75eef6b7e15df83463d31b60eba5938d208,
/// <c>src/models/vit_backbones/vit_changeVK.py</c>'s <c>Attention</c> and the <c>MODEL.P_VK</c> defaults of
/// <c>src/configs/config.py</c>): in each block's attention, P learned key tokens and P learned value tokens are
/// placed before the layer's own keys and values (K ← [P_K; K], V ← [P_V; V]; <c>LAYER_BEHIND = True</c>, queries
/// untouched: <c>QUERY_PROMPT_MODE = 0</c>), so every query also attends to them while the residual stream keeps its
/// length. The prompts live in the keys' and values' space (no projection) and are stored as the reference stores
/// them, per block <c>blocks.{i}.attn.kv_prompt.deep_QKV_embeddings</c> [heads, P, head dim]: one tensor serving as
/// both the key and the value prompts (<c>SHARE_PARAM_KV = True</c>, the default and the setting of every run in
/// the reference's <c>command.txt</c>), or with <see cref="Shared"/> = false <c>deep_QKV_embeddings_K</c> and
/// <c>deep_QKV_embeddings_V</c>. Initialised as the reference's <c>ORIGIN_INIT = 2</c>, PyTorch's
/// <c>kaiming_uniform_(a=0, mode='fan_in', nonlinearity='leaky_relu')</c>: U(−b, b), b = √(6 / (P·head dim)).
/// Composes with <see cref="PromptsAttribute"/> (E2VPT's visual prompts are VPT's: <c>[Prompts(Deep = true,
/// Dropout = 0.1)]</c> with these is the catalog's <c>E2vpt*</c>) and with modules after qkv (IA³'s keys and values
/// are rescaled before the prompts join). E2VPT's prompt pruning and rewinding (token and segment masks,
/// <c>MASK_CLS_TOKEN</c>) are not included; the reference's released runs switch it off as well
/// (<c>MASK_CLS_TOKEN "False"</c>). On ViT-B/16 at P = 5, shared: 12 blocks × 12 heads × 5 × 64 = 46,080 trainable
/// parameters besides the head.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
#if PVP_GENERATOR
internal
#else
public
#endif
sealed class KvPromptsAttribute : Attribute
#if PVP_GENERATOR
    , Generators.Methods.ISiteMethod
#endif
{
    /// <summary>The kind name of the key-value prompts: their parameter group and freezing class.</summary>
    public const string KindName = "kv_prompts";

    /// <summary>
    /// Key (and value) tokens per block, P. Default 5 (the reference's <c>MODEL.P_VK.NUM_TOKENS</c>, and the value of
    /// its FGVC runs and most VTAB-1k runs).
    /// </summary>
    public int Length { get; set; } = 5;

    /// <summary>
    /// One tensor for the key and the value prompts (default true: the reference's <c>SHARE_PARAM_KV</c>), or one
    /// each.
    /// </summary>
    public bool Shared { get; set; } = true;

    /// <summary>Dropout on the prompts while training. Default 0 (the reference's <c>MODEL.P_VK.DROPOUT</c>).</summary>
    public double Dropout { get; set; }

    /// <summary>Block range in C# range syntax; null means all blocks (the reference's <c>DEEP = True</c>).</summary>
    public string? Blocks { get; set; }

    /// <summary>Multiplier of the base learning rate for the key-value prompts' group. Default 1.</summary>
    public double LearningRateScale { get; set; } = 1.0;

#if PVP_GENERATOR
    // The generator's reading of the declaration (compiled into the generator only).
    string Generators.Methods.ISiteMethod.KindName => KindName;

    string Generators.Methods.ISiteMethod.ClassNamePart => "KvPrompts";

    System.Collections.Generic.IEnumerable<Generators.Methods.ArgumentProblem>
        Generators.Methods.ISiteMethod.Check(Generators.Methods.MethodContext context)
    {
        if (Length < 1) yield return new(nameof(Length), $"{Length}", "positive", IsSize: true);
        if (!(Dropout >= 0 && Dropout < 1))
            yield return new(nameof(Dropout), Generators.Model.Format.Num(Dropout), "in [0, 1)");
    }

    System.Collections.Generic.IReadOnlyList<Generators.Model.SiteModule>
        Generators.Methods.ISiteMethod.Modules(Generators.Methods.MethodContext context) =>
        new Generators.Model.SiteModule[]
        {
            new(AttachSite.KeysValues, SiteCombine.Replace, "kv_prompt", Generators.Emit.TypeNames.Blocks + ".KeyValuePrompts",
                $"{context.EmbedDim}, {context.Heads}, {Length}, shared: {(Shared ? "true" : "false")}, " +
                $"dropout: {Generators.Model.Format.Num(Dropout)}, device, dtype",
                $"E2VPT: {Length} key and value prompts"),
        };

    string Generators.Methods.ISiteMethod.Summary(Generators.Methods.MethodContext context) =>
        $"{Length} key-value prompts";

    string Generators.Methods.ISiteMethod.CardLine(Generators.Methods.MethodContext context, string blocks)
    {
        string shape = $"[{context.Heads}, {Length}, {context.EmbedDim / context.Heads}]";
        string names = Shared
            ? $"attn.kv_prompt.deep_QKV_embeddings {shape}, one tensor for both"
            : $"attn.kv_prompt.deep_QKV_embeddings_K, _V {shape}";
        string dropout = Dropout > 0 ? $", dropout {Generators.Model.Format.Num(Dropout)}" : "";
        return $"E2VPT key-value prompts: {Length} key and {Length} value tokens before the keys and values in the " +
               $"attention of {blocks} ({names}; Kaiming-uniform{dropout})";
    }
#endif
}
