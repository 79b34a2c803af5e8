using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pvp.Blocks;

/// <summary>
/// E2VPT's key-value prompts in one attention layer (ChengHan111/E2VPT, <c>src/models/vit_backbones/vit_changeVK.py</c>,
/// its <c>Attention</c> with <c>QUERY_PROMPT_MODE = 0</c> and <c>LAYER_BEHIND = True</c>): P learned key tokens and P
/// learned value tokens, already in the keys' and values' space (no projection), placed before the layer's own along
/// the token axis, so each query also attends to them. It reads the keys and values concatenated, [B, N, 2·D]
/// (<see cref="AttachSite.KeysValues"/>), and returns [B, P + N, 2·D]. The prompts are stored as the reference stores
/// them, [heads, P, head dim]: one tensor that serves as both the key and the value prompts
/// (<c>deep_QKV_embeddings</c>, the reference's <c>SHARE_PARAM_KV = True</c>), or two
/// (<c>deep_QKV_embeddings_K</c>, <c>deep_QKV_embeddings_V</c>). Initialised as the reference's
/// <c>ORIGIN_INIT = 2</c>: <c>kaiming_uniform_(a=0, mode='fan_in', nonlinearity='leaky_relu')</c>, i.e. U(−b, b) with
/// b = √(6 / fan_in) and PyTorch's fan_in of a [heads, P, hd] tensor, P·hd. Dropout on the prompts (the reference's
/// <c>QKV_dropout</c>) acts while training only. It computes in its own type and returns the input's.
/// </summary>
public sealed class KeyValuePrompts : nn.Module<Tensor, Tensor>, Onnx.IOnnxModule
{
    /// <summary>The shared tensor's state-dict name (the reference's).</summary>
    public const string SharedName = "deep_QKV_embeddings";

    /// <summary>The key prompts' name when keys and values have their own (the reference's).</summary>
    public const string KeyName = "deep_QKV_embeddings_K";

    /// <summary>The value prompts' name when keys and values have their own (the reference's).</summary>
    public const string ValueName = "deep_QKV_embeddings_V";

    // The fields carry the state-dict names (TorchSharp registers them, and a move to another device or type
    // replaces them by name); with a shared tensor only the first is set.
    private readonly Parameter? deep_QKV_embeddings;
    private readonly Parameter? deep_QKV_embeddings_K;
    private readonly Parameter? deep_QKV_embeddings_V;
    private readonly int heads;
    private readonly int length;
    private readonly int headDim;
    private readonly double dropout;

    /// <summary>Creates P = <paramref name="length"/> key and value tokens for width <paramref name="dim"/>.</summary>
    /// <param name="dim">Token width D.</param>
    /// <param name="heads">The attention's heads; must divide <paramref name="dim"/>.</param>
    /// <param name="length">Number of key (and of value) tokens, P ≥ 1.</param>
    /// <param name="shared">One tensor for keys and values (the reference's default), or one each.</param>
    /// <param name="dropout">Dropout on the prompts while training, in [0, 1).</param>
    /// <param name="device">Where to allocate.</param>
    /// <param name="dtype">Their type (the module computes in it).</param>
    public KeyValuePrompts(int dim, int heads, int length, bool shared = true, double dropout = 0,
        Device? device = null, ScalarType? dtype = null)
        : base(nameof(KeyValuePrompts))
    {
        if (heads <= 0 || dim % heads != 0)
            throw new ArgumentException($"heads ({heads}) must be positive and divide the width ({dim}).", nameof(heads));
        if (length <= 0)
            throw new ArgumentOutOfRangeException(nameof(length), length, "The prompt length must be positive.");
        if (!(dropout >= 0 && dropout < 1))
            throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "A dropout rate is in [0, 1).");
        this.heads = heads;
        this.length = length;
        headDim = dim / heads;
        this.dropout = dropout;
        double bound = Math.Sqrt(6.0 / (length * headDim));
        Parameter New()
        {
            var p = new Parameter(empty(new long[] { heads, length, headDim }, dtype: dtype ?? ScalarType.Float32,
                device: device));
            using (no_grad()) p.uniform_(-bound, bound);
            return p;
        }
        if (shared)
        {
            deep_QKV_embeddings = New();
        }
        else
        {
            deep_QKV_embeddings_K = New();
            deep_QKV_embeddings_V = New();
        }
        RegisterComponents();
    }

    private Parameter Key => deep_QKV_embeddings ?? deep_QKV_embeddings_K!;

    private Parameter Value => deep_QKV_embeddings ?? deep_QKV_embeddings_V!;

    /// <summary>Number of key (and of value) tokens P.</summary>
    public int Length => length;

    /// <summary>Whether one tensor serves as the key and the value prompts.</summary>
    public bool Shared => deep_QKV_embeddings is not null;

    /// <summary>[B, N, 2D] (keys, then values) → [B, P + N, 2D], the prompts first.</summary>
    public override Tensor forward(Tensor keysValues)
    {
        using var scope = NewDisposeScope();
        var x = keysValues.to(Key.dtype);
        long b = x.shape[0], width = x.shape[2];
        // [heads, P, hd] → [P, heads·hd], the head-major order of timm's fused qkv rows.
        Tensor Tokens(Tensor p) => p.permute(1, 0, 2).reshape(length, heads * headDim);
        var tokens = cat(new[] { Tokens(Key), Tokens(Value) }, -1).unsqueeze(0).expand(b, length, width);
        if (training && dropout > 0) tokens = nn.functional.dropout(tokens, dropout, training: true);
        return cat(new[] { tokens, x }, 1).to(keysValues.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The ONNX nodes of <see cref="forward"/>: each [heads, P, hd] prompt to [1, P, D], keys' and values' side by
    /// side, broadcast over the batch and concatenated before the input (dropout is a training-time op).
    /// </summary>
    public Onnx.OnnxValue EmitOnnx(Onnx.OnnxGraph graph, Onnx.OnnxValue keysValues)
    {
        long dim = heads * headDim;
        Onnx.OnnxValue Tokens(Parameter p) => graph.Reshape(graph.Transpose(graph.Parameter(p), 1, 0, 2), 1, length, dim);
        var key = Tokens(Key);
        var tokens = graph.Concat(2, key, Shared ? key : Tokens(Value));
        return graph.Concat(1, graph.ExpandBatch(tokens, keysValues, length, 2 * dim), keysValues);
    }
}
