using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pvp.Blocks;

/// <summary>
/// Adapter+'s module (visinf/adapter_plus, <c>Adapter</c> with no norm and <c>scaling="channel"</c>):
/// s ⊙ droppath(up(GELU(down(x)))), the residual being the block's. <c>bottleneck</c> is a sequence whose entries 1 and
/// 4 are the projections, so the state-dict keys are the reference's (<c>bottleneck.1.weight</c>, ...,
/// <c>scaling</c>); the projections start from the reference's Houlsby initialisation (truncated normal, std 0.01,
/// cut at ±0.02; biases zero) and s from ones.
/// </summary>
public sealed class AdapterPlus : nn.Module<Tensor, Tensor>, Onnx.IOnnxModule
{
    private const double InitStd = 0.01;

    private readonly Sequential bottleneck;
    private readonly Parameter scaling;
    private readonly double dropPath;

    // The projections inside bottleneck, held in a tuple so that TorchSharp's field scan does not register them twice.
    private readonly (Linear Down, Linear Up) projections;

    /// <summary>Creates the adapter.</summary>
    /// <param name="dim">Width D of the stream.</param>
    /// <param name="bottleneckDim">Width of the bottleneck, in [1, D].</param>
    /// <param name="dropPath">Stochastic depth on the branch while training, in [0, 1).</param>
    /// <param name="device">Where to allocate.</param>
    /// <param name="dtype">The adapter's type (it computes in it and returns the input's).</param>
    public AdapterPlus(int dim, int bottleneckDim, double dropPath = 0.1, Device? device = null,
        ScalarType? dtype = null)
        : base(nameof(AdapterPlus))
    {
        if (bottleneckDim <= 0 || bottleneckDim > dim)
            throw new ArgumentOutOfRangeException(nameof(bottleneckDim), bottleneckDim,
                $"The bottleneck must be in [1, {dim}].");
        if (!(dropPath >= 0 && dropPath < 1))
            throw new ArgumentOutOfRangeException(nameof(dropPath), dropPath, "A drop-path rate is in [0, 1).");
        this.dropPath = dropPath;
        var down = nn.Linear(dim, bottleneckDim, device: device, dtype: dtype);
        var up = nn.Linear(bottleneckDim, dim, device: device, dtype: dtype);
        using (no_grad())
        {
            foreach (var linear in new[] { down, up })
            {
                Init.TruncatedNormal(linear.weight!, 0, InitStd, -2 * InitStd, 2 * InitStd);
                nn.init.zeros_(linear.bias!);
            }
        }
        projections = (down, up);
        // Entries 0 and 3 are the reference's dropout slots (identities at its default dropout of 0).
        bottleneck = nn.Sequential(("0", nn.Identity()), ("1", down), ("2", nn.GELU()), ("3", nn.Identity()), ("4", up));
        scaling = new Parameter(ones(new long[] { dim }, dtype: dtype ?? ScalarType.Float32, device: device));
        register_module(nameof(bottleneck), bottleneck);
        register_parameter(nameof(scaling), scaling);
    }

    /// <summary>The stochastic-depth rate of the branch while training.</summary>
    public double DropPathRate => dropPath;

    /// <summary>
    /// [B, N, D] → [B, N, D], computed in the adapter's own type
    /// and returned in the input's (e.g. bf16 in, fp32 inside).
    /// </summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var (down, up) = projections;
        var branch = up.call(nn.functional.gelu(down.call(x.to(down.weight!.dtype))));
        if (training) branch = DropPath.Apply(branch, dropPath); // timm's DropPath, at this module's own rate
        return branch.mul(scaling).to(x.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>The ONNX nodes of <see cref="forward"/>: s ⊙ up(GELU(down(x))) (drop-path is a training-time op).</summary>
    public Onnx.OnnxValue EmitOnnx(Onnx.OnnxGraph graph, Onnx.OnnxValue input) =>
        graph.Mul(graph.Call(projections.Up, graph.Gelu(graph.Call(projections.Down, input))), graph.Parameter(scaling));
}
