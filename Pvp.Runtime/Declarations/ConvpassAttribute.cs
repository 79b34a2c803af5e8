// Compiled into the runtime and, as internal types, into the generator (PVP_GENERATOR): one source of truth for both.
using System;

namespace Pvp;

/// <summary>
/// Convpass (Jie and Deng 2022, "Convolutional Bypasses Are Better Vision Transformer Adapters", arXiv 2207.07039;
/// code: JieShibo/PETL-ViT at 026e4f1, <c>convpass/vtab/convpass.py</c>): a convolutional bypass beside attention and
/// beside the MLP of each block, each reading what its neighbour reads (norm1's and norm2's output) and added to its
/// output, h ← h + attn(n₁) + s·C(n₁), h ← h + mlp(n₂) + s·C(n₂), with C = up ∘ dropout ∘ φ ∘ conv3×3 ∘ φ ∘ down over the
/// patch grid (<see cref="Blocks.Convpass"/>; φ is QuickGELU). The class token, and VPT's prompts where the variant has
/// them, are convolved each alone as the reference convolves its class token. Initialisation as the reference's: down
/// Xavier-uniform, up zero (the model starts as the backbone), the convolution the identity at its centre tap (or
/// Xavier-uniform with <see cref="XavierInit"/>). Parameters: <c>blocks.{i}.adapter_attn.*</c> and
/// <c>blocks.{i}.adapter_mlp.*</c>, each <c>adapter_down</c>, <c>adapter_conv</c>, <c>adapter_up</c> (the reference's
/// names). On ViT-B/16 at bottleneck 8: 12 × 2 × (768·8 + 8 + 8·8·9 + 8 + 8·768 + 768) = 327,552. Drop-path, where the
/// run sets it, drops each branch sum (attention and its bypass together), where the reference draws one mask per term.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
#if PVP_GENERATOR
internal
#else
public
#endif
sealed class ConvpassAttribute : Attribute
#if PVP_GENERATOR
    , Generators.Methods.ISiteMethod
#endif
{
    /// <summary>The kind name of Convpass's parameters: their parameter group and freezing class.</summary>
    public const string KindName = "convpass";

    /// <summary>Channels of the bypass's convolution. Default 8 (the reference's <c>dim=8</c>); at most the width D.</summary>
    public int Bottleneck { get; set; } = 8;

    /// <summary>
    /// The bypasses' output multiplier s. Default 1 (the reference's <c>set_Convpass(s=1)</c>; its VTAB-1k configs pick
    /// per task among 0.01, 0.1, 1, 10 and 100).
    /// </summary>
    public double Scale { get; set; } = 1.0;

    /// <summary>
    /// Xavier-uniform convolution weights instead of the identity at the centre tap. Default false (the reference's
    /// default; its VTAB-1k configs set it per task).
    /// </summary>
    public bool XavierInit { get; set; }

    /// <summary>Dropout on the bottleneck's activation while training. Default 0.1 (the reference's).</summary>
    public double Dropout { get; set; } = 0.1;

    /// <summary>A bypass beside attention only (the reference's <c>convpass_attn</c>). Default false: beside both.</summary>
    public bool AttentionOnly { get; set; }

    /// <summary>Block range in C# range syntax; null means all blocks.</summary>
    public string? Blocks { get; set; }

    /// <summary>Multiplier of the base learning rate for the Convpass parameter group. Default 1.</summary>
    public double LearningRateScale { get; set; } = 1.0;

#if PVP_GENERATOR
    // The generator's reading of the declaration (compiled into the generator only).
    string Generators.Methods.ISiteMethod.KindName => KindName;

    string Generators.Methods.ISiteMethod.ClassNamePart => AttentionOnly ? "ConvpassAttn" : "Convpass";

    System.Collections.Generic.IEnumerable<Generators.Methods.ArgumentProblem>
        Generators.Methods.ISiteMethod.Check(Generators.Methods.MethodContext context)
    {
        if (Bottleneck < 1) yield return new(nameof(Bottleneck), $"{Bottleneck}", "positive", IsSize: true);
        else if (Bottleneck > context.EmbedDim)
            yield return new(nameof(Bottleneck), $"{Bottleneck}", $"at most the width {context.EmbedDim}");
        if (double.IsNaN(Scale) || double.IsInfinity(Scale) || Scale == 0)
            yield return new(nameof(Scale), Generators.Model.Format.Num(Scale), "a finite number other than 0");
        if (!(Dropout >= 0 && Dropout < 1))
            yield return new(nameof(Dropout), Generators.Model.Format.Num(Dropout), "in [0, 1)");
    }

    System.Collections.Generic.IReadOnlyList<Generators.Model.SiteModule>
        Generators.Methods.ISiteMethod.Modules(Generators.Methods.MethodContext context)
    {
        string arguments = $"{context.EmbedDim}, {Bottleneck}, grid: {context.GridSize}, " +
                           $"scale: {Generators.Model.Format.Num(Scale)}, xavierInit: {(XavierInit ? "true" : "false")}, " +
                           $"dropout: {Generators.Model.Format.Num(Dropout)}, device: device, dtype: dtype";
        var attention = new Generators.Model.SiteModule(AttachSite.BesideAttention, SiteCombine.Beside, "adapter_attn",
            Generators.Emit.TypeNames.Blocks + ".Convpass", arguments, "Convpass beside attention");
        return AttentionOnly
            ? new[] { attention }
            : new[]
            {
                attention,
                new Generators.Model.SiteModule(AttachSite.BesideMlp, SiteCombine.Beside, "adapter_mlp",
                    Generators.Emit.TypeNames.Blocks + ".Convpass", arguments, "Convpass beside the MLP"),
            };
    }

    string Generators.Methods.ISiteMethod.Summary(Generators.Methods.MethodContext context) =>
        $"Convpass (bottleneck {Bottleneck}){(AttentionOnly ? " beside attention" : "")}";

    string Generators.Methods.ISiteMethod.CardLine(Generators.Methods.MethodContext context, string blocks) =>
        $"Convpass (3×3 conv over the {context.GridSize}×{context.GridSize} patch grid, bottleneck {Bottleneck}, " +
        $"scale {Generators.Model.Format.Num(Scale)}) beside {(AttentionOnly ? "attention" : "attention and the MLP")} " +
        $"of {blocks}";
#endif
}
