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
    private SiteHook? keysValues; // one on the keys and values, which may prepend tokens (E2VPT's key-value prompts)

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

    /// <summary>
    /// Places <paramref name="module"/> on the keys and values (<see cref="AttachSite.KeysValues"/>), registered as
    /// <paramref name="name"/>: it reads [B, N, 2D] (rows [k; v] of the fused output, after any module
    /// <see cref="AddAfterQkv"/> placed) and returns [B, M, 2D], M ≥ N; the queries keep their N tokens, so the
    /// layer's output does too. Generated blocks call it; one module per layer.
    /// </summary>
    /// <param name="name">Its name under this layer (<c>kv_prompt</c>: keys <c>attn.kv_prompt.*</c>).</param>
    /// <param name="module">The module, [B, N, 2D] → [B, M, 2D].</param>
    /// <param name="computeIn">The type it computes in when it differs from the stream's; null: the stream's.</param>
    /// <exception cref="InvalidOperationException">A module is already there.</exception>
    public void AddOnKeysValues(string name, nn.Module<Tensor, Tensor> module, ScalarType? computeIn = null)
    {
        if (keysValues is not null)
            throw new InvalidOperationException($"Attention already has '{keysValues.Name}' on its keys and values.");
        register_module(name, module);
        keysValues = new SiteHook(name, module, computeIn);
    }

    /// <summary>[B, N, D] → [B, N, D].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], n = x.shape[1], d = x.shape[2];
        var fused = qkv.call(x);
        if (afterQkv is not null) fused = afterQkv.Call(fused);
        Tensor attended;
        if (keysValues is null)
        {
            var qkvHeads = fused.reshape(b, n, 3, heads, d / heads).permute(2, 0, 3, 1, 4);
            attended = nn.functional.scaled_dot_product_attention(qkvHeads[0], qkvHeads[1], qkvHeads[2]);
        }
        else
        {
            var q = fused.narrow(-1, 0, d).reshape(b, n, heads, d / heads).transpose(1, 2);
            var kv = keysValues.Call(fused.narrow(-1, d, 2 * d));
            var kvHeads = kv.reshape(b, kv.shape[1], 2, heads, d / heads).permute(2, 0, 3, 1, 4);
            attended = nn.functional.scaled_dot_product_attention(q, kvHeads[0], kvHeads[1]);
        }
        var merged = attended.transpose(1, 2).reshape(b, n, d);
        return proj.call(merged).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The ONNX nodes of <see cref="forward"/>: qkv → [3, B, heads, N, hd] (with a module on the keys and values: q
    /// [B, heads, N, hd] and its output as [2, B, heads, M, hd]) → softmax(q·kᵀ/√hd)·v (what
    /// <c>scaled_dot_product_attention</c> computes) → [B, N, D] → proj.
    /// </summary>
    public Onnx.OnnxValue EmitOnnx(Onnx.OnnxGraph graph, Onnx.OnnxValue input)
    {
        long headDim = HeadDim;
        long dim = heads * headDim;
        var fused = graph.Call(qkv, input);
        if (afterQkv is not null) fused = graph.Call(afterQkv.Module, fused);
        Onnx.OnnxValue q, k, v;
        if (keysValues is null)
        {
            var qkvHeads = graph.Transpose(graph.Reshape(fused, 0, -1, 3, heads, headDim), 2, 0, 3, 1, 4);
            q = graph.Select(qkvHeads, 0, 0);
            k = graph.Select(qkvHeads, 0, 1);
            v = graph.Select(qkvHeads, 0, 2);
        }
        else
        {
            q = graph.Transpose(graph.Reshape(graph.Slice(fused, 2, 0, dim), 0, -1, heads, headDim), 0, 2, 1, 3);
            var kv = graph.Call(keysValues.Module, graph.Slice(fused, 2, dim, 3 * dim));
            var kvHeads = graph.Transpose(graph.Reshape(kv, 0, -1, 2, heads, headDim), 2, 0, 3, 1, 4);
            k = graph.Select(kvHeads, 0, 0);
            v = graph.Select(kvHeads, 0, 1);
        }
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
