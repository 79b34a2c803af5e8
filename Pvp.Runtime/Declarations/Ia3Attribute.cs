// Compiled into the runtime and, as internal types, into the generator (PVP_GENERATOR): one source of truth for both.
using System;

namespace Pvp;

/// <summary>
/// IA³ (Liu et al., 2022, "Few-Shot Parameter-Efficient Fine-Tuning is Better and Cheaper than In-Context Learning",
/// arXiv 2205.05638): learned vectors that rescale the attention's keys and values (l_k, l_v, width D) and the MLP's
/// hidden activation, fc2's input (l_ff, the hidden width), each initialised to ones so the model starts as the
/// backbone — the paper's §3.3 and HF PEFT's <c>IA3Model</c> (<c>ia3_l</c> on key, value and the feed-forward output
/// layer's input, initialised to 1). Parameters: <c>blocks.{i}.attn.ia3_kv.{l_k,l_v}</c> and
/// <c>blocks.{i}.mlp.ia3_ff.l_ff</c>. On ViT-B/16: 12 × (768 + 768 + 3072) = 55,296, as PEFT counts for the same targets.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
#if PVP_GENERATOR
internal
#else
public
#endif
sealed class Ia3Attribute : Attribute
#if PVP_GENERATOR
    , Generators.Methods.ISiteMethod
#endif
{
    /// <summary>The kind name of IA³'s parameters: their parameter group and freezing class.</summary>
    public const string KindName = "ia3";

    /// <summary>Block range in C# range syntax; null means all blocks.</summary>
    public string? Blocks { get; set; }

    /// <summary>Multiplier of the base learning rate for the IA³ parameter group. Default 1.</summary>
    public double LearningRateScale { get; set; } = 1.0;

#if PVP_GENERATOR
    // The generator's reading of the declaration (compiled into the generator only).
    string Generators.Methods.ISiteMethod.KindName => KindName;

    string Generators.Methods.ISiteMethod.ClassNamePart => "Ia3";

    System.Collections.Generic.IEnumerable<Generators.Methods.ArgumentProblem>
        Generators.Methods.ISiteMethod.Check(Generators.Methods.MethodContext context) =>
        System.Array.Empty<Generators.Methods.ArgumentProblem>();

    System.Collections.Generic.IReadOnlyList<Generators.Model.SiteModule>
        Generators.Methods.ISiteMethod.Modules(Generators.Methods.MethodContext context) =>
        new Generators.Model.SiteModule[]
        {
            new(AttachSite.AfterQkv, SiteCombine.Replace, "ia3_kv", Generators.Emit.TypeNames.Blocks + ".Ia3KeyValue",
                $"{context.EmbedDim}, device, dtype", "IA³ l_k, l_v on the keys and values"),
            new(AttachSite.AfterActivation, SiteCombine.Replace, "ia3_ff", Generators.Emit.TypeNames.Blocks + ".Ia3Scale",
                $"{context.MlpHidden}, device, dtype", "IA³ l_ff on the MLP's activation"),
        };

    string Generators.Methods.ISiteMethod.Summary(Generators.Methods.MethodContext context) =>
        "IA³ on the keys, the values and the MLP's activation";

    string Generators.Methods.ISiteMethod.CardLine(Generators.Methods.MethodContext context, string blocks) =>
        $"IA³: keys, values and the MLP's activation rescaled in {blocks} " +
        $"(attn.ia3_kv.l_k, l_v [{context.EmbedDim}]; mlp.ia3_ff.l_ff [{context.MlpHidden}]; initialised to 1)";
#endif
}
