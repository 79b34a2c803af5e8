// Compiled into the runtime and, as internal types, into the generator (PVP_GENERATOR): one source of truth for both.
using System;

namespace Pvp;

/// <summary>
/// SSF (Lian et al., 2022, "Scaling &amp; Shifting Your Features"): a learnable per-channel scale γ and shift β,
/// y = γ ⊙ x + β, after the operations of each chosen block — its first LayerNorm, its attention, its second LayerNorm
/// and its MLP — initialised as SSF's code does (γ ~ N(1, 0.02), β ~ N(0, 0.02)). Parameters:
/// <c>blocks.{i}.ssf_{norm1,attn,norm2,mlp}.{scale,shift}</c>; with <see cref="Full"/> also
/// <c>blocks.{i}.attn.ssf_qkv.*</c> and <c>blocks.{i}.mlp.ssf_fc1.*</c>, SSF's official form (dongzelian/SSF).
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
#if PVP_GENERATOR
internal
#else
public
#endif
sealed class SsfAttribute : Attribute
#if PVP_GENERATOR
    , Generators.Methods.ISiteMethod
#endif
{
    /// <summary>The kind name of SSF's parameters: their parameter group and freezing class.</summary>
    public const string KindName = "ssf";

    /// <summary>Block range in C# range syntax; null means all blocks.</summary>
    public string? Blocks { get; set; }

    /// <summary>
    /// SSF's full form, as its official code: also a scale and shift on the fused qkv projection's output (width 3·D,
    /// <c>attn.ssf_qkv</c>) and on fc1's output before the GELU (the MLP's hidden width, <c>mlp.ssf_fc1</c>). Default
    /// false: after norm1, attention, norm2 and the MLP only.
    /// </summary>
    public bool Full { get; set; }

    /// <summary>Multiplier of the base learning rate for the SSF parameter group. Default 1.</summary>
    public double LearningRateScale { get; set; } = 1.0;

#if PVP_GENERATOR
    // The generator's reading of the declaration (compiled into the generator only).
    private const string Module = Generators.Emit.TypeNames.Blocks + ".SsfScaleShift";

    string Generators.Methods.ISiteMethod.KindName => KindName;

    string Generators.Methods.ISiteMethod.ClassNamePart => Full ? "SsfFull" : "Ssf";

    System.Collections.Generic.IEnumerable<Generators.Methods.ArgumentProblem>
        Generators.Methods.ISiteMethod.Check(Generators.Methods.MethodContext context) =>
        System.Array.Empty<Generators.Methods.ArgumentProblem>();

    System.Collections.Generic.IReadOnlyList<Generators.Model.SiteModule>
        Generators.Methods.ISiteMethod.Modules(Generators.Methods.MethodContext context)
    {
        Generators.Model.SiteModule At(AttachSite site, string field, string comment) =>
            new(site, SiteCombine.Replace, field, Module, $"{context.WidthAt(site)}, device, dtype", comment);
        var modules = new System.Collections.Generic.List<Generators.Model.SiteModule>
        {
            At(AttachSite.AfterNorm1, "ssf_norm1", "SSF after norm1"),
            At(AttachSite.AfterProj, "ssf_attn", "SSF after attention"),
            At(AttachSite.AfterNorm2, "ssf_norm2", "SSF after norm2"),
            At(AttachSite.AfterFc2, "ssf_mlp", "SSF after the MLP"),
        };
        if (Full)
        {
            modules.Insert(1, At(AttachSite.AfterQkv, "ssf_qkv", "SSF after qkv"));
            modules.Insert(4, At(AttachSite.AfterFc1, "ssf_fc1", "SSF after fc1"));
        }
        return modules;
    }

    string Generators.Methods.ISiteMethod.Summary(Generators.Methods.MethodContext context) =>
        Full
            ? "SSF after norm1, qkv, attention, norm2, fc1 and the MLP"
            : "SSF after norm1, attention, norm2 and the MLP";

    string Generators.Methods.ISiteMethod.CardLine(Generators.Methods.MethodContext context, string blocks) => Full
        ? $"SSF: scale and shift after norm1, the qkv projection, attention, norm2, fc1 and the MLP of {blocks} " +
          $"(ssf_*.scale, ssf_*.shift [{context.EmbedDim}]; " +
          $"attn.ssf_qkv [{3 * context.EmbedDim}], mlp.ssf_fc1 [{context.MlpHidden}])"
        : $"SSF: scale and shift after norm1, attention, norm2 and the MLP of {blocks} " +
          $"(ssf_*.scale, ssf_*.shift [{context.EmbedDim}])";
#endif
}
