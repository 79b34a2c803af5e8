// Compiled into the runtime and, as internal types, into the generator (PVP_GENERATOR): one source of truth for both.
using System;

namespace Pvp;

/// <summary>
/// Makes an attribute class a PETuning site method, in any assembly: a variant that carries the attribute
/// gets one <see cref="Module"/> at each of <see cref="Sites"/> of each block its <c>Blocks</c> property
/// names, combined as <see cref="Combine"/> says, trained in the parameter group <see cref="Kind"/> and
/// exported with the other PETuning modules. The module is a <c>nn.Module&lt;Tensor, Tensor&gt;</c>
/// implementing <see cref="IPetAttachment"/> with a public constructor taking an <see cref="AttachContext"/>
/// (implement <c>Pvp.Onnx.IOnnxModule</c> too, for ONNX export). The attribute class may declare
/// <c>string? Blocks</c> and <c>double LearningRateScale</c> properties; the generator reads them.
/// </summary>
/// <example>
/// <code>
/// [SiteMethod("gated_ss", typeof(GatedScaleShift), AttachSite.AfterAttention, AttachSite.AfterMlp)]
/// [AttributeUsage(AttributeTargets.Class, AllowMultiple = true)]
/// public sealed class GatedScaleShiftAttribute : Attribute { public string? Blocks { get; set; } }
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
#if PVP_GENERATOR
internal
#else
public
#endif
sealed class SiteMethodAttribute : Attribute
{
    /// <summary>Declares the method.</summary>
    /// <param name="kind">
    /// Its kind name: its parameter group and freezing class (lower
    /// case, e.g. <c>gated_ss</c>), owned by this method alone.
    /// </param>
    /// <param name="module">Its module type.</param>
    /// <param name="sites">Where in each block it sits (one module per site).</param>
    public SiteMethodAttribute(string kind, Type module, params AttachSite[] sites)
    {
        Kind = kind;
        Module = module;
        Sites = sites;
    }

    /// <summary>The kind name: parameter group, freezing class and model-card name.</summary>
    public string Kind { get; }

    /// <summary>The module placed at each site.</summary>
    public Type Module { get; }

    /// <summary>The sites of each block.</summary>
    public AttachSite[] Sites { get; }

    /// <summary>
    /// How each module joins the block. Default <see cref="SiteCombine.Replace"/> (<see cref="SiteCombine.Beside"/> at
    /// <see cref="AttachSite.BesideMlp"/> and <see cref="AttachSite.BesideAttention"/>).
    /// </summary>
    public SiteCombine Combine { get; set; } = SiteCombine.Replace;
}
