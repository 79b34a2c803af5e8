using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pvp.Blocks;

/// <summary>
/// The transformer's feed-forward layer: fc1 → exact GELU → fc2 (timm's <c>Mlp</c>; keys <c>fc1.*</c>, <c>fc2.*</c>).
/// </summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>, Onnx.IOnnxModule
{
    private readonly nn.Module<Tensor, Tensor> fc1;
    private readonly nn.Module<Tensor, Tensor> fc2;

    /// <summary>Creates the MLP.</summary>
    /// <param name="dim">Token width D.</param>
    /// <param name="hidden">Hidden width (timm: D · mlp_ratio).</param>
    /// <param name="device">Where to allocate the weights.</param>
    /// <param name="dtype">Weight type.</param>
    public Mlp(int dim, int hidden, Device? device = null, ScalarType? dtype = null)
        : this(nn.Linear(dim, hidden, device: device, dtype: dtype), nn.Linear(hidden, dim, device: device, dtype: dtype))
    {
    }

    /// <summary>Creates the MLP around given layers (e.g. <see cref="LoraLinear"/>).</summary>
    /// <param name="fc1">D → hidden.</param>
    /// <param name="fc2">hidden → D.</param>
    public Mlp(nn.Module<Tensor, Tensor> fc1, nn.Module<Tensor, Tensor> fc2) : base(nameof(Mlp))
    {
        this.fc1 = fc1;
        this.fc2 = fc2;
        RegisterComponents();
    }

    /// <summary>The expanding projection.</summary>
    public nn.Module<Tensor, Tensor> Fc1 => fc1;

    /// <summary>The contracting projection.</summary>
    public nn.Module<Tensor, Tensor> Fc2 => fc2;

    /// <summary>[B, N, D] → [B, N, D].</summary>
    public override Tensor forward(Tensor x)
    {
        using var hidden = fc1.call(x);
        using var activated = nn.functional.gelu(hidden);
        return fc2.call(activated);
    }

    /// <summary>The ONNX nodes of <see cref="forward"/>: fc1 → exact (erf) GELU → fc2.</summary>
    public Onnx.OnnxValue EmitOnnx(Onnx.OnnxGraph graph, Onnx.OnnxValue input) =>
        graph.Call(fc2, graph.Gelu(graph.Call(fc1, input)));
}
