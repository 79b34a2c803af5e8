using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pvp.Blocks;

/// <summary>
/// A bottleneck adapter, s·up(relu(down(x))): <c>down_proj</c> [bottleneck, D] keeps PyTorch's Linear
/// initialisation, <c>up_proj</c> and both biases start at zero (AdaptFormer's init), so the adapter starts as zero.
/// The residual or the sum with the MLP is the block's business, not the adapter's.
/// </summary>
public sealed class BottleneckAdapter : nn.Module<Tensor, Tensor>, Onnx.IOnnxModule
{
    private readonly Linear down_proj;
    private readonly Linear up_proj;
    private readonly Scalar scale;

    /// <summary>Creates the adapter.</summary>
    public BottleneckAdapter(int dim, int bottleneck, double scale, Device? device = null, ScalarType? dtype = null)
        : base(nameof(BottleneckAdapter))
    {
        if (bottleneck <= 0) throw new ArgumentOutOfRangeException(nameof(bottleneck), bottleneck, "The bottleneck must be positive.");
        Scale = scale;
        this.scale = scale.ToScalar();
        down_proj = nn.Linear(dim, bottleneck, device: device, dtype: dtype);
        up_proj = nn.Linear(bottleneck, dim, device: device, dtype: dtype);
        using (no_grad())
        {
            nn.init.zeros_(down_proj.bias!);
            nn.init.zeros_(up_proj.weight!);
            nn.init.zeros_(up_proj.bias!);
        }
        RegisterComponents();
    }

    /// <summary>The output scale s.</summary>
    public double Scale { get; }

    /// <summary>[B, N, D] → [B, N, D], computed in the adapter's own type and returned in the input's (e.g. bf16 in, fp32 inside).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var hidden = nn.functional.relu(down_proj.call(x.to(down_proj.weight!.dtype)));
        return up_proj.call(hidden).mul_(scale).to(x.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>The ONNX nodes of <see cref="forward"/>: s·up(relu(down(x))), all in float32.</summary>
    public Onnx.OnnxValue EmitOnnx(Onnx.OnnxGraph graph, Onnx.OnnxValue input) =>
        graph.Mul(graph.Call(up_proj, graph.Relu(graph.Call(down_proj, input))), Scale);
}
