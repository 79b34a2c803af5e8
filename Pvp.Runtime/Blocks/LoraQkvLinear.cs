using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pvp.Blocks;

/// <summary>
/// timm's fused qkv projection (rows [q; k; v]) with LoRA on chosen slices only. Keys: <c>weight</c>, <c>bias</c>
/// (the frozen fused layer, as timm), and <c>q.lora_A</c>, <c>q.lora_B</c>, <c>v.lora_A</c>, … per adapted slice; with
/// DoRA also <c>q.lora_magnitude_vector</c>, … (each slice is its own DoRA layer, as PEFT's separate q, k, v linears).
/// </summary>
public sealed class LoraQkvLinear : nn.Module<Tensor, Tensor>, ILoraLayer, IFollowsBackbone, Onnx.IOnnxModule
{
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private readonly LoraUpdate? q;
    private readonly LoraUpdate? k;
    private readonly LoraUpdate? v;
    private readonly Dropout? lora_dropout;
    private readonly int dim;

    /// <summary>
    /// Creates the layer for width <paramref name="dim"/>, adapting the slices named by <paramref name="targets"/>.
    /// </summary>
    /// <param name="dim">Token width D (the layer maps D → 3D).</param>
    /// <param name="hasBias">Whether the fused layer has a bias.</param>
    /// <param name="targets">Which of the q, k, v slices to adapt.</param>
    /// <param name="rank">LoRA rank r.</param>
    /// <param name="alpha">Scale numerator: the update is (alpha / r)·B·A.</param>
    /// <param name="dropout">Dropout on the update's input while training.</param>
    /// <param name="device">Where to allocate.</param>
    /// <param name="dtype">Type of the trainable A and B.</param>
    /// <param name="frozenDtype">
    /// Type of the frozen fused weight and bias (e.g. bfloat16); null: <paramref name="dtype"/>.
    /// </param>
    /// <param name="useDora">DoRA on each adapted slice (needs <paramref name="dropout"/> 0).</param>
    public LoraQkvLinear(int dim, bool hasBias, LoraTargets targets, int rank, double alpha, double dropout = 0,
        Device? device = null, ScalarType? dtype = null, ScalarType? frozenDtype = null, bool useDora = false)
        : base(nameof(LoraQkvLinear))
    {
        if ((targets & (LoraTargets.Query | LoraTargets.Key | LoraTargets.Value)) == 0)
            throw new ArgumentException("At least one of Query, Key, Value must be adapted.", nameof(targets));
        if (useDora && dropout > 0)
            throw new ArgumentException("DoRA is built without LoRA's dropout: give dropout 0.", nameof(dropout));
        this.dim = dim;
        using var template = nn.Linear(dim, 3L * dim, hasBias, device, frozenDtype ?? dtype);
        weight = new Parameter(template.weight!.detach().clone());
        bias = hasBias ? new Parameter(template.bias!.detach().clone()) : null;
        LoraUpdate Slice(int i) => new(dim, dim, rank, alpha, device, dtype,
            useDora ? weight.narrow(0, (long)i * dim, dim) : null);
        if (targets.HasFlag(LoraTargets.Query)) q = Slice(0);
        if (targets.HasFlag(LoraTargets.Key)) k = Slice(1);
        if (targets.HasFlag(LoraTargets.Value)) v = Slice(2);
        UsesDora = useDora;
        lora_dropout = dropout > 0 ? nn.Dropout(dropout) : null;
        RegisterComponents();
    }

    /// <inheritdoc />
    public bool Merged { get; private set; }

    /// <summary>Whether each adapted slice is DoRA's (a learned magnitude per output row) rather than plain LoRA's.</summary>
    public bool UsesDora { get; }

    private LoraUpdate?[] Updates => new[] { q, k, v };

    // DoRA's row factors over the fused rows [3D]: m / ‖W + ΔW‖ on each adapted slice, 1 on the others.
    private Tensor DoraScale(Tensor adapted)
    {
        using var scope = NewDisposeScope();
        var parts = Updates.Select((update, i) => update?.Dora is { } magnitude
                ? magnitude.Scale(adapted.narrow(0, (long)i * dim, dim))
                : ones(new long[] { dim }, dtype: adapted.dtype, device: adapted.device))
            .ToArray();
        return cat(parts, 0).MoveToOuterDisposeScope();
    }

    /// <summary>The frozen fused weight [3D, D].</summary>
    public Parameter Weight => weight;

    /// <summary>
    /// The fused ΔW [3D, D] in the frozen weight's type: each adapted slice's (alpha / r)·B·A, zeros elsewhere.
    /// </summary>
    public Tensor Delta() => DeltaIn(weight.dtype);

    /// <summary>
    /// The fused ΔW formed in <paramref name="type"/> (the trainable type keeps a small update exact).
    /// </summary>
    private Tensor DeltaIn(ScalarType type)
    {
        using var scope = NewDisposeScope();
        var parts = new[] { q, k, v }
            .Select(update => update?.Delta().to(type)
                ?? zeros(new long[] { dim, dim }, dtype: type, device: weight.device))
            .ToArray();
        return cat(parts, 0).MoveToOuterDisposeScope();
    }

    /// <summary>x [.., D] → [.., 3D].</summary>
    public override Tensor forward(Tensor x)
    {
        if (Merged) return nn.functional.linear(x, weight, bias);
        using var scope = NewDisposeScope();
        var trainable = (q ?? k ?? v)!.A.dtype;
        if (UsesDora)
        {
            var adapted = Scalars.Add(weight.to(trainable), DeltaIn(trainable));
            var rows = DoraScale(adapted);
            if (weight.dtype == trainable)
                return nn.functional.linear(x, adapted.mul(rows.unsqueeze(1)), bias).MoveToOuterDisposeScope();
            // Under a bf16 backbone: the frozen product in bf16, the updates and the rescaling in float32.
            var xt = x.to(trainable);
            var updates = Updates
                .Select(update => update?.Apply(xt)
                    ?? zeros(xt.shape[..^1].Append(dim).ToArray(), dtype: trainable, device: xt.device))
                .ToArray();
            var y = nn.functional.linear(x, weight).to(trainable).add_(cat(updates, -1)).mul_(rows);
            if (bias is not null) y = y.add_(bias.to(trainable));
            return y.to(x.dtype).MoveToOuterDisposeScope();
        }
        if (lora_dropout is null && weight.dtype == trainable)
            return nn.functional.linear(x, Scalars.Add(weight, Delta()), bias).MoveToOuterDisposeScope();

        // The update applied to the input in the trainable type; under a bf16 backbone added to the frozen product in
        // float32 and rounded once with it (folded into the bf16 weight, a ΔW below half a bf16 step of W would
        // vanish).
        var input = (lora_dropout?.call(x) ?? x).to(trainable);
        var slices = new[] { q, k, v }
            .Select(update => update?.Apply(input)
                ?? zeros(input.shape[..^1].Append(dim).ToArray(), dtype: trainable, device: input.device))
            .ToArray();
        var frozen = nn.functional.linear(x, weight, bias);
        return frozen.to(trainable).add_(cat(slices, -1)).to(x.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The ONNX nodes of <see cref="forward"/> (dropout off). <see cref="Onnx.OnnxLoraMode.Merged"/>: one product with
    /// the fused W + ΔW; <see cref="Onnx.OnnxLoraMode.Separate"/>: the frozen fused product, cut into its q, k, v
    /// slices, each adapted slice plus its branch x·Aᵀ·Bᵀ·(alpha / r), joined again.
    /// </summary>
    public Onnx.OnnxValue EmitOnnx(Onnx.OnnxGraph graph, Onnx.OnnxValue input)
    {
        string path = graph.PathOf(this) ?? "qkv";
        var b = bias is null ? (Onnx.OnnxValue?)null : graph.Parameter(bias);
        using var scope = NewDisposeScope();
        if (UsesDora) return EmitDora(graph, input, path, b);
        if (graph.Options.Lora == Onnx.OnnxLoraMode.Merged)
            return graph.Linear(input,
                Merged
                    ? graph.Parameter(weight)
                    : graph.Constant($"{path}.weight",
                        Scalars.Add(weight.to((q ?? k ?? v)!.A.dtype), DeltaIn((q ?? k ?? v)!.A.dtype))),
                b);
        var frozen = graph.Linear(input,
            Merged
                ? graph.Constant($"{path}.weight",
                    weight.to((q ?? k ?? v)!.A.dtype).sub(DeltaIn((q ?? k ?? v)!.A.dtype)))
                : graph.Parameter(weight),
            b);
        var slices = new[] { q, k, v }.Select((update, i) =>
        {
            var slice = graph.Slice(frozen, -1, (long)i * dim, (long)(i + 1) * dim);
            return update is null ? slice : graph.Add(slice, graph.LoraBranch(input, update.A, update.B, update.Scale));
        }).ToArray();
        return graph.Concat(-1, slices);
    }

    // DoRA's graph: merged, one product with the rescaled fused W'; separate, the frozen fused product plus each
    // adapted slice's branch, joined, multiplied row by row by the DoRA factors, then the bias.
    private Onnx.OnnxValue EmitDora(Onnx.OnnxGraph graph, Onnx.OnnxValue input, string path, Onnx.OnnxValue? b)
    {
        var trainable = (q ?? k ?? v)!.A.dtype;
        var delta = DeltaIn(trainable);
        if (graph.Options.Lora == Onnx.OnnxLoraMode.Merged)
        {
            if (Merged) return graph.Linear(input, graph.Parameter(weight), b);
            var adapted = Scalars.Add(weight.to(trainable), delta);
            return graph.Linear(input,
                graph.Constant($"{path}.weight", adapted.mul(DoraScale(adapted).detach().unsqueeze(1))), b);
        }
        var frozenWeight = Merged ? fold.Unmerged(weight, delta) : weight.to(trainable);
        var rows = Merged ? fold.Scale.clone() : DoraScale(Scalars.Add(frozenWeight, delta)).detach();
        var frozen = graph.Linear(input,
            Merged ? graph.Constant($"{path}.weight", frozenWeight) : graph.Parameter(weight), null);
        var slices = Updates.Select((update, i) =>
        {
            var slice = graph.Slice(frozen, -1, (long)i * dim, (long)(i + 1) * dim);
            return update is null ? slice : graph.Add(slice, graph.LoraBranch(input, update.A, update.B, update.Scale));
        }).ToArray();
        var scaled = graph.Mul(graph.Concat(-1, slices), graph.Constant($"{path}.dora_scale", rows));
        return b is { } bias1 ? graph.Add(scaled, bias1) : scaled;
    }

    // Remembers the row factors taken at a DoRA merge, to undo it.
    private readonly DoraFold fold = new();

    /// <inheritdoc />
    public void Merge()
    {
        if (Merged) return;
        if (UsesDora)
        {
            using var delta = DeltaIn((q ?? k ?? v)!.A.dtype);
            fold.Merge(weight, delta, DoraScale);
        }
        else
        {
            LoraFold.Apply(weight, () => Delta(), merge: true);
        }
        Merged = true;
    }

    /// <inheritdoc />
    public void Unmerge()
    {
        if (!Merged) return;
        if (UsesDora)
        {
            using var delta = DeltaIn((q ?? k ?? v)!.A.dtype);
            fold.Unmerge(weight, delta);
        }
        else
        {
            LoraFold.Apply(weight, () => Delta(), merge: false);
        }
        Merged = false;
    }

    /// <summary>After a backbone load: each slice's DoRA magnitude, if unchanged yet, becomes ‖W‖ of its loaded rows.</summary>
    public void FollowBackbone()
    {
        if (!UsesDora || Merged) return;
        foreach (var (update, i) in Updates.Select((u, i) => (u, i)))
            update?.Dora?.FollowWeight(weight.narrow(0, (long)i * dim, dim));
    }
}
