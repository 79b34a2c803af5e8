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
#if PVP_GENERATOR
    , Generators.Methods.ISiteMethod
#endif
{
    /// <summary>The kind name of SSF's parameters: their parameter group and freezing class.</summary>
    public const string KindName = "ssf";

    /// <summary>The block fields (and state-dict segments) of SSF's modules, in forward order: the generator emits them and the runtime classifies their keys by them.</summary>
    public static System.Collections.Generic.IReadOnlyList<string> ModuleNames { get; } = new[] { "ssf_norm1", "ssf_attn", "ssf_norm2", "ssf_mlp" };

    /// <summary>Block range in C# range syntax; null means all blocks.</summary>
    public string? Blocks { get; set; }

    /// <summary>Multiplier of the base learning rate for the SSF parameter group. Default 1.</summary>
    public double LearningRateScale { get; set; } = 1.0;

#if PVP_GENERATOR
    // The generator's reading of the declaration (compiled into the generator only).
    private const string Module = Generators.Emit.TypeNames.Blocks + ".SsfScaleShift";

    string Generators.Methods.ISiteMethod.KindName => KindName;

    string Generators.Methods.ISiteMethod.ClassNamePart => "Ssf";

    System.Collections.Generic.IEnumerable<Generators.Methods.ArgumentProblem> Generators.Methods.ISiteMethod.Check(Generators.Methods.MethodContext context) =>
        System.Array.Empty<Generators.Methods.ArgumentProblem>();

    System.Collections.Generic.IReadOnlyList<Generators.Model.SiteModule> Generators.Methods.ISiteMethod.Modules(Generators.Methods.MethodContext context)
    {
        Generators.Model.SiteModule At(AttachSite site, string field, string comment) =>
            new(site, SiteCombine.Replace, field, Module, $"{context.WidthAt(site)}, device, dtype", comment);
        return new[]
        {
            At(AttachSite.AfterNorm1, ModuleNames[0], "SSF after norm1"),
            At(AttachSite.AfterProj, ModuleNames[1], "SSF after attention"),
            At(AttachSite.AfterNorm2, ModuleNames[2], "SSF after norm2"),
            At(AttachSite.AfterFc2, ModuleNames[3], "SSF after the MLP"),
        };
    }

    string Generators.Methods.ISiteMethod.Summary(Generators.Methods.MethodContext context) => "SSF after norm1, attention, norm2 and the MLP";

    string Generators.Methods.ISiteMethod.CardLine(Generators.Methods.MethodContext context, string blocks) =>
        $"SSF: scale and shift after norm1, attention, norm2 and the MLP of {blocks} (ssf_*.scale, ssf_*.shift [{context.EmbedDim}])";
#endif
}
