using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pvp.Blocks;

/// <summary>
/// Cuts an image into non-overlapping square patches and projects each to a token (timm's <c>PatchEmbed</c>;
/// state-dict keys <c>proj.weight</c>, <c>proj.bias</c>).
/// </summary>
public sealed class PatchEmbed : nn.Module<Tensor, Tensor>, Onnx.IOnnxModule
{
    private readonly Conv2d proj;

    /// <summary>Creates the patch projection.</summary>
    /// <param name="inChannels">Image channels.</param>
    /// <param name="patchSize">Side of a patch, also the convolution's stride.</param>
    /// <param name="embedDim">Token width.</param>
    /// <param name="device">Where to allocate the weights (CPU when null).</param>
    /// <param name="dtype">Weight type (float32 when null).</param>
    public PatchEmbed(int inChannels, int patchSize, int embedDim, Device? device = null, ScalarType? dtype = null)
        : base(nameof(PatchEmbed))
    {
        proj = nn.Conv2d(inChannels, embedDim, kernel_size: patchSize, stride: patchSize, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <summary>The convolution that projects patches (timm's <c>proj</c>).</summary>
    public Conv2d Proj => proj;

    /// <summary>[B, C, H, W] images → [B, (H/p)·(W/p), D] tokens, in row-major patch order.</summary>
    public override Tensor forward(Tensor x)
    {
        using var y = proj.call(x);
        return y.flatten(2).transpose(1, 2);
    }

    /// <summary>
    /// The ONNX nodes of <see cref="forward"/>: Conv (kernel = stride = patch) → [B, D, g·g] → [B, g·g, D].
    /// </summary>
    public Onnx.OnnxValue EmitOnnx(Onnx.OnnxGraph graph, Onnx.OnnxValue input)
    {
        long[] kernel = proj.weight!.shape[2..];
        var y = graph.Node("Conv", new[] { input, graph.Parameter(proj.weight!), graph.Parameter(proj.bias!) },
            new Onnx.OnnxAttribute("kernel_shape", kernel), new Onnx.OnnxAttribute("strides", kernel));
        return graph.Transpose(graph.Reshape(y, 0, proj.weight!.shape[0], -1), 0, 2, 1);
    }
}
