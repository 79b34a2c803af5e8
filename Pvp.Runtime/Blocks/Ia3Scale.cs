using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pvp.Blocks;

/// <summary>
/// IA³'s feed-forward vector on the MLP's activation, fc2's input [B, N, hidden]: f ← l_ff ⊙ f, l_ff in the trainable
/// type, initialised to ones (the paper's and PEFT's <c>ia3_l</c> on the feed-forward output layer's input).
/// </summary>
public sealed class Ia3Scale : nn.Module<Tensor, Tensor>, Onnx.IOnnxModule
{
    private readonly Parameter l_ff;

    /// <summary>Creates it for width <paramref name="dim"/> (the MLP's hidden width).</summary>
    public Ia3Scale(int dim, Device? device = null, ScalarType? dtype = null) : base(nameof(Ia3Scale))
    {
        l_ff = new Parameter(ones(new long[] { dim }, dtype: dtype ?? ScalarType.Float32, device: device));
        RegisterComponents();
    }

    /// <summary>l_ff ⊙ f over the last dimension.</summary>
    public override Tensor forward(Tensor f)
    {
        using var scope = NewDisposeScope();
        return f.to(l_ff.dtype).mul(l_ff).to(f.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>The ONNX node of <see cref="forward"/>: a Mul with l_ff as an initializer.</summary>
    public Onnx.OnnxValue EmitOnnx(Onnx.OnnxGraph graph, Onnx.OnnxValue f) => graph.Mul(f, graph.Parameter(l_ff));
}
