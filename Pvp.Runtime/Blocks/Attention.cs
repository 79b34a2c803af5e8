using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pvp.Blocks;

/// <summary>
/// Multi-head self-attention with one fused qkv projection (timm's <c>Attention</c>; state-dict keys
/// <c>qkv.*</c>, <c>proj.*</c>). Rows of <c>qkv.weight</c> are [q; k; v], each head-major.
/// </summary>
public sealed class Attention : nn.Module<Tensor, Tensor>, Onnx.IOnnxModule
{
    private readonly nn.Module<Tensor, Tensor> qkv;
    private readonly nn.Module<Tensor, Tensor> proj;
    private readonly int heads;
    private SiteHook? afterQkv; // a site method's module on the fused qkv output (SSF's full form)

    /// <summary>Creates the attention layer.</summary>
    /// <param name="dim">Token width D.</param>
    /// <param name="heads">Number of heads; must divide <paramref name="dim"/>.</param>
    /// <param name="qkvBias">Whether the qkv projection has a bias.</param>
    /// <param name="device">Where to allocate the weights.</param>
    /// <param name="dtype">Weight type.</param>
    public Attention(int dim, int heads, bool qkvBias, Device? device = null, ScalarType? dtype = null)
        : this(dim, heads,
            nn.Linear(dim, 3L * dim, hasBias: qkvBias, device: device, dtype: dtype),
            nn.Linear(dim, dim, device: device, dtype: dtype))
    {
    }

    /// <summary>
    /// Creates the attention layer around given projections (e.g. <see cref="LoraQkvLinear"/>,
    /// <see cref="LoraLinear"/>).
    /// </summary>
    /// <param name="dim">Token width D.</param>
    /// <param name="heads">Number of heads; must divide <paramref name="dim"/>.</param>
    /// <param name="qkv">D → 3D, rows [q; k; v].</param>
    /// <param name="proj">D → D.</param>
    public Attention(int dim, int heads, nn.Module<Tensor, Tensor> qkv, nn.Module<Tensor, Tensor> proj)
        : base(nameof(Attention))
    {
        if (heads <= 0 || dim % heads != 0)
            throw new ArgumentException(
                $"heads ({heads}) must be positive and divide the width ({dim}).", nameof(heads));
        this.heads = heads;
        this.qkv = qkv;
        this.proj = proj;
        RegisterComponents();
    }

    /// <summary>The fused query/key/value projection (timm's <c>qkv</c>).</summary>
    public nn.Module<Tensor, Tensor> Qkv => qkv;

    /// <summary>The output projection (timm's <c>proj</c>).</summary>
    public nn.Module<Tensor, Tensor> Proj => proj;

    /// <summary>
    /// Places <paramref name="module"/> on the fused qkv output [B, N, 3D]
    /// (<see cref="AttachSite.AfterQkv"/>), registered as <paramref name="name"/> (its
    /// state-dict segment): qkv ← module(qkv). Generated blocks call it; one module per layer.
    /// </summary>
    /// <param name="name">Its name under this layer (<c>ssf_qkv</c>: keys <c>attn.ssf_qkv.*</c>).</param>
    /// <param name="module">The module, 3D → 3D.</param>
    /// <param name="computeIn">
    /// The type it computes in when it differs from the stream's
    /// (a bf16 backbone's trainable type); null: the stream's.
    /// </param>
    /// <exception cref="InvalidOperationException">A module is already there.</exception>
    public void AddAfterQkv(string name, nn.Module<Tensor, Tensor> module, ScalarType? computeIn = null)
    {
        if (afterQkv is not null)
            throw new InvalidOperationException($"Attention already has '{afterQkv.Name}' after qkv.");
        register_module(name, module);
        afterQkv = new SiteHook(name, module, computeIn);
    }

    /// <summary>[B, N, D] → [B, N, D].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], n = x.shape[1], d = x.shape[2];
        var fused = qkv.call(x);
        if (afterQkv is not null) fused = afterQkv.Call(fused);
        var qkvHeads = fused.reshape(b, n, 3, heads, d / heads).permute(2, 0, 3, 1, 4);
        var attended = nn.functional.scaled_dot_product_attention(qkvHeads[0], qkvHeads[1], qkvHeads[2]);
        var merged = attended.transpose(1, 2).reshape(b, n, d);
        return proj.call(merged).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The ONNX nodes of <see cref="forward"/>: qkv → [3, B, heads, N, hd] → softmax(q·kᵀ/√hd)·v (what
    /// <c>scaled_dot_product_attention</c> computes) → [B, N, D] → proj.
    /// </summary>
    public Onnx.OnnxValue EmitOnnx(Onnx.OnnxGraph graph, Onnx.OnnxValue input)
    {
        long headDim = HeadDim;
        long dim = heads * headDim;
        var fused = graph.Call(qkv, input);
        if (afterQkv is not null) fused = graph.Call(afterQkv.Module, fused);
        var qkvHeads = graph.Transpose(graph.Reshape(fused, 0, -1, 3, heads, headDim), 2, 0, 3, 1, 4);
        var q = graph.Select(qkvHeads, 0, 0);
        var k = graph.Select(qkvHeads, 0, 1);
        var v = graph.Select(qkvHeads, 0, 2);
        var scores = graph.Mul(graph.MatMul(q, graph.Transpose(k, 0, 1, 3, 2)), 1.0 / Math.Sqrt(headDim));
        var attended = graph.MatMul(graph.Softmax(scores, -1), v);
        var merged = graph.Reshape(graph.Transpose(attended, 0, 2, 1, 3), 0, -1, dim);
        return graph.Call(proj, merged);
    }

    private long HeadDim => (qkv switch
    {
        Linear linear => linear.weight!.shape[1],
        LoraQkvLinear lora => lora.Weight.shape[1],
        _ => throw new Onnx.OnnxExportException(
            $"Attention's qkv is a {qkv.GetType().Name}; its width is unknown to the exporter."),
    }) / heads;
}
