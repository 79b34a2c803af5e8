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
    private SiteHook? afterFc1; // a site method's module on fc1's output (SSF's full form)
    private SiteHook? afterActivation; // one on the GELU's output, fc2's input (IA³'s l_ff)

    /// <summary>Creates the MLP.</summary>
    /// <param name="dim">Token width D.</param>
    /// <param name="hidden">Hidden width (timm: D · mlp_ratio).</param>
    /// <param name="device">Where to allocate the weights.</param>
    /// <param name="dtype">Weight type.</param>
    public Mlp(int dim, int hidden, Device? device = null, ScalarType? dtype = null)
        : this(
            nn.Linear(dim, hidden, device: device, dtype: dtype),
            nn.Linear(hidden, dim, device: device, dtype: dtype))
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

    /// <summary>
    /// Places <paramref name="module"/> on fc1's output [B, N, hidden] before the GELU
    /// (<see cref="AttachSite.AfterFc1"/>), registered as <paramref name="name"/> (its state-dict segment). Generated
    /// blocks call it; one module per layer.
    /// </summary>
    /// <param name="name">Its name under this layer (<c>ssf_fc1</c>: keys <c>mlp.ssf_fc1.*</c>).</param>
    /// <param name="module">The module, hidden → hidden.</param>
    /// <param name="computeIn">The type it computes in when it differs from the stream's; null: the stream's.</param>
    /// <exception cref="InvalidOperationException">A module is already there.</exception>
    public void AddAfterFc1(string name, nn.Module<Tensor, Tensor> module, ScalarType? computeIn = null)
    {
        if (afterFc1 is not null) throw new InvalidOperationException($"Mlp already has '{afterFc1.Name}' after fc1.");
        register_module(name, module);
        afterFc1 = new SiteHook(name, module, computeIn);
    }

    /// <summary>
    /// Places <paramref name="module"/> on the GELU's output [B, N, hidden], what fc2 reads
    /// (<see cref="AttachSite.AfterActivation"/>), registered as <paramref name="name"/>. Generated blocks call it; one
    /// module per layer.
    /// </summary>
    /// <param name="name">Its name under this layer (<c>ia3_mlp</c>: keys <c>mlp.ia3_mlp.*</c>).</param>
    /// <param name="module">The module, hidden → hidden.</param>
    /// <param name="computeIn">The type it computes in when it differs from the stream's; null: the stream's.</param>
    /// <exception cref="InvalidOperationException">A module is already there.</exception>
    public void AddAfterActivation(string name, nn.Module<Tensor, Tensor> module, ScalarType? computeIn = null)
    {
        if (afterActivation is not null)
            throw new InvalidOperationException($"Mlp already has '{afterActivation.Name}' after its activation.");
        register_module(name, module);
        afterActivation = new SiteHook(name, module, computeIn);
    }

    /// <summary>[B, N, D] → [B, N, D].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var hidden = fc1.call(x);
        if (afterFc1 is not null) hidden = afterFc1.Call(hidden);
        hidden = nn.functional.gelu(hidden);
        if (afterActivation is not null) hidden = afterActivation.Call(hidden);
        return fc2.call(hidden).MoveToOuterDisposeScope();
    }

    /// <summary>The ONNX nodes of <see cref="forward"/>: fc1 [→ its module] → exact (erf) GELU [→ its module] → fc2.</summary>
    public Onnx.OnnxValue EmitOnnx(Onnx.OnnxGraph graph, Onnx.OnnxValue input)
    {
        var hidden = graph.Call(fc1, input);
        if (afterFc1 is not null) hidden = graph.Call(afterFc1.Module, hidden);
        hidden = graph.Gelu(hidden);
        if (afterActivation is not null) hidden = graph.Call(afterActivation.Module, hidden);
        return graph.Call(fc2, hidden);
    }
}
