using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pvp.Blocks;

/// <summary>
/// A bottleneck adapter, s·up(dropout(relu(down([norm](x))))), as AdaptFormer's <c>Adapter</c>: <c>down_proj</c>
/// [bottleneck, D] keeps PyTorch's Linear initialisation, <c>up_proj</c> and both biases start at zero, so the adapter
/// starts as zero. The residual or the sum with the MLP is the block's business, not the adapter's.
/// </summary>
public sealed class BottleneckAdapter : nn.Module<Tensor, Tensor>, Onnx.IOnnxModule
{
    private readonly LayerNorm? norm;
    private readonly Linear down_proj;
    private readonly Linear up_proj;
    private readonly Scalar scale;

    /// <summary>Creates the adapter.</summary>
    /// <param name="dim">Width D of the stream.</param>
    /// <param name="bottleneck">Width of the bottleneck.</param>
    /// <param name="scale">Output scale s.</param>
    /// <param name="device">Where to allocate.</param>
    /// <param name="dtype">The adapter's type (it computes in it and returns the input's).</param>
    /// <param name="dropout">Dropout after the ReLU while training (AdaptFormer: 0.1).</param>
    /// <param name="normInput">A LayerNorm (eps 1e-5, PyTorch's default, as AdaptFormer's) on the input.</param>
    public BottleneckAdapter(int dim, int bottleneck, double scale, Device? device = null, ScalarType? dtype = null,
        double dropout = 0, bool normInput = false)
        : base(nameof(BottleneckAdapter))
    {
        if (bottleneck <= 0)
            throw new ArgumentOutOfRangeException(nameof(bottleneck), bottleneck, "The bottleneck must be positive.");
        if (!(dropout >= 0 && dropout < 1))
            throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "Dropout must be in [0, 1).");
        Scale = scale;
        Dropout = dropout;
        this.scale = scale.ToScalar();
        norm = normInput ? nn.LayerNorm(dim, device: device, dtype: dtype) : null;
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

    /// <summary>Dropout after the ReLU while training.</summary>
    public double Dropout { get; }

    /// <summary>
    /// [B, N, D] → [B, N, D], computed in the adapter's own type
    /// and returned in the input's (e.g. bf16 in, fp32 inside).
    /// </summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var input = x.to(down_proj.weight!.dtype);
        if (norm is not null) input = norm.call(input);
        var hidden = nn.functional.relu(down_proj.call(input));
        if (Dropout > 0 && training) hidden = nn.functional.dropout(hidden, Dropout, training: true);
        return up_proj.call(hidden).mul_(scale).to(x.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The ONNX nodes of <see cref="forward"/>: s·up(relu(down([norm](x)))),
    /// all in float32 (dropout is a training-time op).
    /// </summary>
    public Onnx.OnnxValue EmitOnnx(Onnx.OnnxGraph graph, Onnx.OnnxValue input) =>
        graph.Mul(
            graph.Call(up_proj, graph.Relu(graph.Call(down_proj, norm is null ? input : graph.Call(norm, input)))),
            Scale);
}
