using Pvp.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pvp.Tests.Generator;

/// <summary>
/// A site method declared outside Pvp, as another package would: a gated scale and shift, y = x + g·(γ ⊙ x + β − x), after
/// attention and after the MLP. The gate g starts at 0, so the block starts as the backbone's; γ and β start as SSF's.
/// </summary>
[SiteMethod("gated_ss", typeof(GatedScaleShift), AttachSite.AfterAttention, AttachSite.AfterMlp)]
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class GatedScaleShiftAttribute : Attribute
{
    /// <summary>Block range; null: every block.</summary>
    public string? Blocks { get; set; }

    /// <summary>The group's learning-rate multiplier.</summary>
    public double LearningRateScale { get; set; } = 1.0;
}

/// <summary>The module of <see cref="GatedScaleShiftAttribute"/>: forward and ONNX side by side.</summary>
public sealed class GatedScaleShift : nn.Module<Tensor, Tensor>, IPetAttachment, IOnnxModule
{
    private readonly Parameter scale;
    private readonly Parameter shift;
    private readonly Parameter gate;

    public GatedScaleShift(AttachContext context) : base(nameof(GatedScaleShift))
    {
        // SSF's init for γ and β (not the identity: the gate's gradient is γ ⊙ x + β − x).
        scale = new Parameter(empty(new long[] { context.Width }, dtype: context.Dtype, device: context.Device).normal_(1.0, 0.02));
        shift = new Parameter(empty(new long[] { context.Width }, dtype: context.Dtype, device: context.Device).normal_(0.0, 0.02));
        gate = new Parameter(zeros(new long[] { 1 }, dtype: context.Dtype, device: context.Device));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var shifted = Scalars.Add(x.mul(scale), shift);
        return Scalars.Add(x, shifted.sub(x).mul(gate)).MoveToOuterDisposeScope();
    }

    public OnnxValue EmitOnnx(OnnxGraph graph, OnnxValue x)
    {
        var shifted = graph.Add(graph.Mul(x, graph.Parameter(scale)), graph.Parameter(shift));
        return graph.Add(x, graph.Mul(graph.Sub(shifted, x), graph.Parameter(gate)));
    }
}

/// <summary>VPT-shallow with the outside method on blocks 1 and 2: a variant declared with a method Pvp does not ship.</summary>
[VisionTransformer(VitPreset.Micro)]
[Prompts(Length = 4)]
[GatedScaleShift(Blocks = "1..")]
public partial class GatedScaleShiftMicro;

// Descriptors that are wrong in one way each (DiagnosticsTests).

/// <summary>No kind name (PVP021).</summary>
[SiteMethod("", typeof(GatedScaleShift), AttachSite.AfterMlp)]
public sealed class NoKindAttribute : Attribute;

/// <summary>A site that does not exist (PVP022).</summary>
[SiteMethod("nowhere", typeof(GatedScaleShift), (AttachSite)42)]
public sealed class UnknownSiteAttribute : Attribute;

/// <summary>Beside-the-MLP joining at a site after the MLP (PVP022).</summary>
[SiteMethod("wrong_join", typeof(GatedScaleShift), AttachSite.AfterMlp, Combine = SiteCombine.Beside)]
public sealed class WrongCombineAttribute : Attribute;

/// <summary>A residual on the keys and values, whose module may lengthen them (PVP022).</summary>
[SiteMethod("kv_residual", typeof(GatedScaleShift), AttachSite.KeysValues, Combine = SiteCombine.Residual)]
public sealed class ResidualOnKeysValuesAttribute : Attribute;

/// <summary>SSF's kind name (PVP023).</summary>
[SiteMethod("ssf", typeof(GatedScaleShift), AttachSite.AfterMlp)]
public sealed class TakesSsfKindAttribute : Attribute;

/// <summary>The backbone's kind name (PVP023).</summary>
[SiteMethod("backbone", typeof(GatedScaleShift), AttachSite.AfterMlp)]
public sealed class TakesBackboneKindAttribute : Attribute;

/// <summary>A module without the constructor generated code calls (PVP015).</summary>
[SiteMethod("no_ctor", typeof(NoContextConstructor), AttachSite.AfterMlp)]
public sealed class NoConstructorAttribute : Attribute;

/// <summary>A type that is no module (PVP013).</summary>
[SiteMethod("not_module", typeof(string), AttachSite.AfterMlp)]
public sealed class NotAModuleAttribute : Attribute;

/// <summary>No site (PVP021).</summary>
[SiteMethod("no_site", typeof(GatedScaleShift))]
public sealed class NoSiteAttribute : Attribute;

/// <summary>The same kind as <see cref="GatedScaleShiftAttribute"/>, another attribute (PVP023 when both are declared).</summary>
[SiteMethod("gated_ss", typeof(GatedScaleShift), AttachSite.BlockOutput)]
public sealed class SameKindAttribute : Attribute;
