using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pvp.Blocks;

/// <summary>
/// Convpass's bypass (Jie and Deng 2022, arXiv 2207.07039; JieShibo/PETL-ViT <c>convpass/vtab/convpass.py</c>,
/// class <c>Convpass</c>): s · up(dropout(φ(conv3×3(φ(down(x)))))), φ the QuickGELU x·σ(1.702x). The 3×3 convolution
/// runs over the patch tokens laid out as their grid; each token before the grid (the class token, and VPT's prompts
/// where a variant has them) is convolved alone as a 1×1 image, which with padding 1 leaves the kernel's centre tap: the
/// reference's handling of its class token, applied to every token that has no place on the grid. State-dict names are
/// the reference's: <c>adapter_down.*</c>, <c>adapter_conv.*</c>, <c>adapter_up.*</c>.
/// </summary>
public sealed class Convpass : nn.Module<Tensor, Tensor>, Onnx.IOnnxModule
{
    private readonly Linear adapter_down;
    private readonly Conv2d adapter_conv;
    private readonly Linear adapter_up;
    private readonly int bottleneck;
    private readonly int grid;
    private readonly double scale;
    private readonly double dropout;

    /// <summary>Creates the bypass.</summary>
    /// <param name="dim">Width D of the stream.</param>
    /// <param name="bottleneckDim">Channels of the convolution, in [1, D] (the reference's 8).</param>
    /// <param name="grid">Side of the patch grid (image size / patch size); the last grid² tokens are the patches.</param>
    /// <param name="scale">The bypass's output multiplier s (the reference's <c>self.s</c>, a constant).</param>
    /// <param name="xavierInit">
    /// Xavier-uniform convolution weights; false: the identity at the kernel's centre and zeros elsewhere (the
    /// reference's two choices; its default is false).
    /// </param>
    /// <param name="dropout">Dropout on the bottleneck's activation while training (the reference's 0.1).</param>
    /// <param name="device">Where to allocate.</param>
    /// <param name="dtype">The bypass's type (it computes in it and returns the input's).</param>
    public Convpass(int dim, int bottleneckDim, int grid, double scale = 1.0, bool xavierInit = false,
        double dropout = 0.1, Device? device = null, ScalarType? dtype = null)
        : base(nameof(Convpass))
    {
        if (bottleneckDim <= 0 || bottleneckDim > dim)
            throw new ArgumentOutOfRangeException(nameof(bottleneckDim), bottleneckDim,
                $"The bottleneck must be in [1, {dim}].");
        if (grid <= 0) throw new ArgumentOutOfRangeException(nameof(grid), grid, "The patch grid's side is positive.");
        if (!(dropout >= 0 && dropout < 1))
            throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "A dropout rate is in [0, 1).");
        if (!double.IsFinite(scale))
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "The scale is a finite number.");
        bottleneck = bottleneckDim;
        this.grid = grid;
        this.scale = scale;
        this.dropout = dropout;
        adapter_down = nn.Linear(dim, bottleneckDim, device: device, dtype: dtype);
        adapter_conv = nn.Conv2d(bottleneckDim, bottleneckDim, 3, stride: 1, padding: 1, device: device, dtype: dtype);
        adapter_up = nn.Linear(bottleneckDim, dim, device: device, dtype: dtype);
        using (no_grad())
        {
            // The reference's initialisation: down Xavier-uniform, up zero (so the bypass starts at zero), biases zero.
            nn.init.xavier_uniform_(adapter_down.weight!);
            nn.init.zeros_(adapter_down.bias!);
            nn.init.zeros_(adapter_up.weight!);
            nn.init.zeros_(adapter_up.bias!);
            if (xavierInit)
            {
                nn.init.xavier_uniform_(adapter_conv.weight!);
            }
            else
            {
                nn.init.zeros_(adapter_conv.weight!);
                adapter_conv.weight![.., .., 1, 1].add_(eye(bottleneckDim, dtype: adapter_conv.weight.dtype,
                    device: adapter_conv.weight.device));
            }
            nn.init.zeros_(adapter_conv.bias!);
        }
        RegisterComponents();
    }

    /// <summary>The output multiplier s.</summary>
    public double Scale => scale;

    /// <summary>The patch grid's side.</summary>
    public int Grid => grid;

    /// <summary>
    /// [B, N, D] → [B, N, D], N at least grid²: the last grid² tokens are the patch grid, row-major; computed in the
    /// bypass's own type and returned in the input's.
    /// </summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], n = x.shape[1], patches = (long)grid * grid, prefix = n - patches;
        if (prefix < 0)
            throw new ArgumentException(
                $"Convpass expects at least the {grid}×{grid} patch tokens; it was given {n} tokens.", nameof(x));
        var down = QuickGelu(adapter_down.call(x.to(adapter_down.weight!.dtype)));
        var onGrid = down.narrow(1, prefix, patches).reshape(b, grid, grid, bottleneck).permute(0, 3, 1, 2);
        var convolved = adapter_conv.call(onGrid).permute(0, 2, 3, 1).reshape(b, patches, bottleneck);
        if (prefix > 0)
        {
            // A 1×1 image under a padded 3×3 kernel meets only the centre tap.
            var centre = adapter_conv.weight![.., .., 1, 1];
            var alone = nn.functional.linear(down.narrow(1, 0, prefix), centre, adapter_conv.bias);
            convolved = cat(new[] { alone, convolved }, 1);
        }
        var hidden = nn.functional.dropout(QuickGelu(convolved), dropout, training);
        return adapter_up.call(hidden).mul(scale).to(x.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The ONNX nodes of <see cref="forward"/> (dropout is a training-time op): the grid through a padded Conv, the
    /// tokens before it through the centre tap as a MatMul.
    /// </summary>
    public Onnx.OnnxValue EmitOnnx(Onnx.OnnxGraph graph, Onnx.OnnxValue input)
    {
        long patches = (long)grid * grid;
        var down = QuickGelu(graph, graph.Call(adapter_down, input));
        var onGrid = graph.Transpose(graph.Reshape(graph.Slice(down, 1, -patches, long.MaxValue), 0, grid, grid, bottleneck),
            0, 3, 1, 2);
        var conv = graph.Node("Conv",
            new[] { onGrid, graph.Parameter(adapter_conv.weight!), graph.Parameter(adapter_conv.bias!) },
            new Onnx.OnnxAttribute("kernel_shape", new long[] { 3, 3 }),
            new Onnx.OnnxAttribute("pads", new long[] { 1, 1, 1, 1 }));
        var convolved = graph.Reshape(graph.Transpose(conv, 0, 2, 3, 1), 0, patches, bottleneck);
        // The tokens before the grid (possibly none: Concat takes an empty slice).
        using var centre = adapter_conv.weight![.., .., 1, 1].contiguous();
        var alone = graph.Linear(graph.Slice(down, 1, 0, -patches),
            graph.Constant((graph.PathOf(adapter_conv) ?? "adapter_conv") + ".weight.centre", centre), graph.Parameter(adapter_conv.bias!));
        var hidden = QuickGelu(graph, graph.Concat(1, alone, convolved));
        return graph.Mul(graph.Call(adapter_up, hidden), scale);
    }

    // The reference's QuickGELU (CLIP's approximation of GELU): x · σ(1.702 x).
    private static Tensor QuickGelu(Tensor x) => x.mul(sigmoid(x.mul(1.702)));

    private static Onnx.OnnxValue QuickGelu(Onnx.OnnxGraph graph, Onnx.OnnxValue x) =>
        graph.Mul(x, graph.Node("Sigmoid", new[] { graph.Mul(x, 1.702) }));
}
