using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pvp.Blocks;

/// <summary>
/// A pre-norm transformer block: x + attn(norm1(x)), then + mlp(norm2(x)) (timm's <c>Block</c>; keys
/// <c>norm1.*</c>, <c>attn.*</c>, <c>norm2.*</c>, <c>mlp.*</c>). LayerNorm eps is 1e-6, as timm's ViT.
/// </summary>
public sealed class Block : nn.Module<Tensor, Tensor>, Onnx.IOnnxModule
{
    /// <summary>The LayerNorm epsilon of timm's ViT.</summary>
    public const double NormEps = 1e-6;

    private readonly LayerNorm norm1;
    private readonly Attention attn;
    private readonly LayerNorm norm2;
    private readonly Mlp mlp;

    /// <summary>Creates a block.</summary>
    /// <param name="dim">Token width D.</param>
    /// <param name="heads">Attention heads.</param>
    /// <param name="mlpHidden">Hidden width of the MLP.</param>
    /// <param name="qkvBias">Whether the qkv projection has a bias.</param>
    /// <param name="device">Where to allocate the weights.</param>
    /// <param name="dtype">Weight type.</param>
    public Block(int dim, int heads, int mlpHidden, bool qkvBias, Device? device = null, ScalarType? dtype = null)
        : base(nameof(Block))
    {
        norm1 = nn.LayerNorm(dim, eps: NormEps, device: device, dtype: dtype);
        attn = new Attention(dim, heads, qkvBias, device, dtype);
        norm2 = nn.LayerNorm(dim, eps: NormEps, device: device, dtype: dtype);
        mlp = new Mlp(dim, mlpHidden, device, dtype);
        RegisterComponents();
    }

    /// <summary>Norm before attention.</summary>
    public LayerNorm Norm1 => norm1;
    /// <summary>The attention layer.</summary>
    public Attention Attn => attn;
    /// <summary>Norm before the MLP.</summary>
    public LayerNorm Norm2 => norm2;
    /// <summary>The MLP.</summary>
    public Mlp Mlp => mlp;

    /// <summary>[B, N, D] → [B, N, D].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = Scalars.Add(x, attn.call(norm1.call(x)));
        return Scalars.Add(h, mlp.call(norm2.call(h))).MoveToOuterDisposeScope();
    }

    /// <summary>The ONNX nodes of <see cref="forward"/>.</summary>
    public Onnx.OnnxValue EmitOnnx(Onnx.OnnxGraph graph, Onnx.OnnxValue input)
    {
        var h = graph.Add(input, graph.Call(attn, graph.Call(norm1, input)));
        return graph.Add(h, graph.Call(mlp, graph.Call(norm2, h)));
    }
}
