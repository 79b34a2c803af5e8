using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pvp.Blocks;

/// <summary>
/// SSF's scale and shift of one operation's output: y = γ ⊙ x + β per channel, γ and
/// β of width D in the trainable type (computed in it, returned in the input's),
/// initialised as SSF's <c>init_ssf_scale_shift</c>: γ ~ N(1, 0.02), β ~ N(0, 0.02).
/// </summary>
public sealed class SsfScaleShift : nn.Module<Tensor, Tensor>, Onnx.IOnnxModule
{
    private readonly Parameter scale;
    private readonly Parameter shift;

    /// <summary>Creates it for width <paramref name="dim"/>.</summary>
    public SsfScaleShift(int dim, Device? device = null, ScalarType? dtype = null) : base(nameof(SsfScaleShift))
    {
        scale = new Parameter(
            empty(new long[] { dim }, dtype: dtype ?? ScalarType.Float32, device: device).normal_(1.0, 0.02));
        shift = new Parameter(
            empty(new long[] { dim }, dtype: dtype ?? ScalarType.Float32, device: device).normal_(0.0, 0.02));
        RegisterComponents();
    }

    /// <summary>γ ⊙ x + β over the last dimension.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return Scalars.Add(x.to(scale.dtype).mul(scale), shift).to(x.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>The ONNX nodes of <see cref="forward"/>: Mul then Add with the parameters as initializers.</summary>
    public Onnx.OnnxValue EmitOnnx(Onnx.OnnxGraph graph, Onnx.OnnxValue input) =>
        graph.Add(graph.Mul(input, graph.Parameter(scale)), graph.Parameter(shift));
}
