using Pvp;
using Pvp.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Consumer.Methods;

/// <summary>
/// A gated scale and shift after attention and after the MLP: y = x + g·(γ ⊙ x + β − x). The gate g starts at 0, so a
/// block starts as the backbone's; γ and β start as SSF's (N(1, 0.02), N(0, 0.02)). Its parameters train in the group
/// "gated_ss".
/// </summary>
[SiteMethod("gated_ss", typeof(GatedScaleShift), AttachSite.AfterAttention, AttachSite.AfterMlp)]
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class GatedScaleShiftAttribute : Attribute
{
    /// <summary>Block range in C# range syntax; null: every block.</summary>
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

    /// <summary>Parameters of the site's width, on the model's device and dtype.</summary>
    public GatedScaleShift(AttachContext context) : base(nameof(GatedScaleShift))
    {
        scale = new Parameter(empty(new long[] { context.Width }, dtype: context.Dtype, device: context.Device).normal_(1.0, 0.02));
        shift = new Parameter(empty(new long[] { context.Width }, dtype: context.Dtype, device: context.Device).normal_(0.0, 0.02));
        gate = new Parameter(zeros(new long[] { 1 }, dtype: context.Dtype, device: context.Device));
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var shifted = x.mul(scale).add(shift);
        return x.add(shifted.sub(x).mul(gate)).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public OnnxValue EmitOnnx(OnnxGraph graph, OnnxValue x)
    {
        var shifted = graph.Add(graph.Mul(x, graph.Parameter(scale)), graph.Parameter(shift));
        return graph.Add(x, graph.Mul(graph.Sub(shifted, x), graph.Parameter(gate)));
    }
}
