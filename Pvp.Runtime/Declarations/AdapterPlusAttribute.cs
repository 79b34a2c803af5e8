// Compiled into the runtime and, as internal types, into the generator (PVP_GENERATOR): one source of truth for both.
using System;

namespace Pvp;

/// <summary>
/// Adapter+ (Steitz and Roth, CVPR 2024, "Adapters Strike Back", arXiv 2406.06820; code: visinf/adapter_plus,
/// <c>vision_transformer.py</c>, its <c>Adapter</c> with <c>config="post"</c>, no norm and <c>scaling="channel"</c>):
/// a bottleneck adapter on the block's output, after both residual adds, with its own residual,
/// h ← h + s ⊙ up(GELU(down(h))), s a learned per-channel scale initialised to ones. Both projections start from
/// Houlsby's initialisation as that code writes it (truncated normal, std 0.01, cut at ±2 std; biases zero), and
/// stochastic depth drops the adapter's branch per sample while training. Parameters:
/// <c>blocks.{i}.adapter.bottleneck.1.{weight,bias}</c> (down), <c>blocks.{i}.adapter.bottleneck.4.{weight,bias}</c>
/// (up) and <c>blocks.{i}.adapter.scaling</c>: the reference's state-dict names. On ViT-B/16 at bottleneck 8:
/// 12 × (768·8 + 8 + 8·768 + 768 + 768) = 165,984.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
#if PVP_GENERATOR
internal
#else
public
#endif
sealed class AdapterPlusAttribute : Attribute
#if PVP_GENERATOR
    , Generators.Methods.ISiteMethod
#endif
{
    /// <summary>The kind name of Adapter+'s parameters: their parameter group and freezing class.</summary>
    public const string KindName = "adapter_plus";

    /// <summary>Width of the bottleneck. Default 8 (the reference's <c>bottleneck_dim</c>); at most the width D.</summary>
    public int Bottleneck { get; set; } = 8;

    /// <summary>
    /// Stochastic depth on the adapter's branch while training. Default 0.1 (the reference's Adapter+ module,
    /// <c>drop_path=0.1</c>).
    /// </summary>
    public double DropPath { get; set; } = 0.1;

    /// <summary>Block range in C# range syntax; null means all blocks.</summary>
    public string? Blocks { get; set; }

    /// <summary>Multiplier of the base learning rate for the Adapter+ parameter group. Default 1.</summary>
    public double LearningRateScale { get; set; } = 1.0;

#if PVP_GENERATOR
    // The generator's reading of the declaration (compiled into the generator only).
    string Generators.Methods.ISiteMethod.KindName => KindName;

    string Generators.Methods.ISiteMethod.ClassNamePart => "AdapterPlus";

    System.Collections.Generic.IEnumerable<Generators.Methods.ArgumentProblem>
        Generators.Methods.ISiteMethod.Check(Generators.Methods.MethodContext context)
    {
        if (Bottleneck < 1) yield return new(nameof(Bottleneck), $"{Bottleneck}", "positive", IsSize: true);
        else if (Bottleneck > context.EmbedDim)
            yield return new(nameof(Bottleneck), $"{Bottleneck}", $"at most the width {context.EmbedDim}");
        if (!(DropPath >= 0 && DropPath < 1))
            yield return new(nameof(DropPath), Generators.Model.Format.Num(DropPath), "in [0, 1)");
    }

    System.Collections.Generic.IReadOnlyList<Generators.Model.SiteModule>
        Generators.Methods.ISiteMethod.Modules(Generators.Methods.MethodContext context) =>
        new Generators.Model.SiteModule[]
        {
            new(AttachSite.BlockOutput, SiteCombine.Residual, "adapter", Generators.Emit.TypeNames.Blocks + ".AdapterPlus",
                $"{context.EmbedDim}, {Bottleneck}, dropPath: {Generators.Model.Format.Num(DropPath)}, device, dtype",
                "Adapter+: on the block's output, with its residual"),
        };

    string Generators.Methods.ISiteMethod.Summary(Generators.Methods.MethodContext context) =>
        $"an Adapter+ (bottleneck {Bottleneck})";

    string Generators.Methods.ISiteMethod.CardLine(Generators.Methods.MethodContext context, string blocks) =>
        $"Adapter+ (bottleneck {Bottleneck}, channel-wise scale, drop-path {Generators.Model.Format.Num(DropPath)}) " +
        $"on the output of {blocks}, with its residual";
#endif
}
