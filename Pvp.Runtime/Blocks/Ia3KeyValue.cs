using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pvp.Blocks;

/// <summary>
/// IA³'s key and value vectors on the fused qkv projection's output [B, N, 3·D] (rows [q; k; v], timm's order):
/// k ← l_k ⊙ k, v ← l_v ⊙ v, q unchanged; l_k and l_v of width D in the trainable type, initialised to ones (the
/// paper's and PEFT's <c>ia3_l</c> initialisation), so the block starts as the backbone's.
/// </summary>
public sealed class Ia3KeyValue : nn.Module<Tensor, Tensor>, Onnx.IOnnxModule
{
    private readonly Parameter l_k;
    private readonly Parameter l_v;
    private readonly int dim;

    /// <summary>Creates it for width <paramref name="dim"/> (D, a third of qkv's).</summary>
    public Ia3KeyValue(int dim, Device? device = null, ScalarType? dtype = null) : base(nameof(Ia3KeyValue))
    {
        this.dim = dim;
        l_k = new Parameter(ones(new long[] { dim }, dtype: dtype ?? ScalarType.Float32, device: device));
        l_v = new Parameter(ones(new long[] { dim }, dtype: dtype ?? ScalarType.Float32, device: device));
        RegisterComponents();
    }

    /// <summary>[q, l_k ⊙ k, l_v ⊙ v] over the last dimension.</summary>
    public override Tensor forward(Tensor qkv)
    {
        using var scope = NewDisposeScope();
        var x = qkv.to(l_k.dtype);
        var q = x.narrow(-1, 0, dim);
        var k = x.narrow(-1, dim, dim).mul(l_k);
        var v = x.narrow(-1, 2 * dim, dim).mul(l_v);
        return cat(new[] { q, k, v }, -1).to(qkv.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>The ONNX nodes of <see cref="forward"/>: three slices, two Muls, a Concat.</summary>
    public Onnx.OnnxValue EmitOnnx(Onnx.OnnxGraph graph, Onnx.OnnxValue qkv)
    {
        var q = graph.Slice(qkv, 2, 0, dim);
        var k = graph.Mul(graph.Slice(qkv, 2, dim, 2 * dim), graph.Parameter(l_k));
        var v = graph.Mul(graph.Slice(qkv, 2, 2 * dim, 3 * dim), graph.Parameter(l_v));
        return graph.Concat(2, q, k, v);
    }
}
