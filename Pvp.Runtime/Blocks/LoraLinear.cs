using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pvp.Blocks;

/// <summary>
/// A frozen linear layer with a LoRA update. Keys: <c>weight</c>, <c>bias</c> (as the plain <c>Linear</c> it
/// replaces, so backbone checkpoints load unchanged), <c>lora_A</c>, <c>lora_B</c>, and with DoRA
/// <c>lora_magnitude_vector</c> (see <see cref="DoraMagnitude"/>): y = (m / ‖W + ΔW‖) ⊙ ((W + ΔW)·x) + b.
/// </summary>
/// <remarks>
/// Without dropout the forward folds ΔW into the weight for the one matrix product (x·(W + ΔW)ᵀ), which costs
/// out·r·in extra multiply-adds instead of tokens·r·(in + out); with dropout it applies A and B to the dropped input.
/// </remarks>
public sealed class LoraLinear : nn.Module<Tensor, Tensor>, ILoraLayer, IFollowsBackbone, Onnx.IOnnxModule
{
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private readonly Parameter lora_A;
    private readonly Parameter lora_B;
    private readonly Dropout? lora_dropout;
    private readonly Parameter? lora_magnitude_vector;
    private readonly DoraMagnitude? dora;
    private readonly DoraFold fold = new();
    private readonly Scalar scale;
    private readonly double scaleValue;

    /// <summary>
    /// Creates the layer; the frozen weight gets PyTorch's Linear initialisation until weights are loaded.
    /// </summary>
    /// <param name="inFeatures">Input width.</param>
    /// <param name="outFeatures">Output width.</param>
    /// <param name="hasBias">Whether the frozen layer has a bias.</param>
    /// <param name="rank">LoRA rank r.</param>
    /// <param name="alpha">Scale numerator: the update is (alpha / r)·B·A.</param>
    /// <param name="dropout">Dropout on the update's input while training.</param>
    /// <param name="device">Where to allocate.</param>
    /// <param name="dtype">Type of the trainable A and B.</param>
    /// <param name="frozenDtype">
    /// Type of the frozen weight and bias (e.g. bfloat16); null: <paramref name="dtype"/>.
    /// </param>
    /// <param name="useDora">DoRA: a learned magnitude per output row (needs <paramref name="dropout"/> 0).</param>
    public LoraLinear(int inFeatures, int outFeatures, bool hasBias, int rank, double alpha, double dropout = 0,
        Device? device = null, ScalarType? dtype = null, ScalarType? frozenDtype = null, bool useDora = false)
        : base(nameof(LoraLinear))
    {
        if (useDora && dropout > 0)
            throw new ArgumentException("DoRA is built without LoRA's dropout: give dropout 0.", nameof(dropout));
        using var template = nn.Linear(inFeatures, outFeatures, hasBias, device, frozenDtype ?? dtype);
        weight = new Parameter(template.weight!.detach().clone());
        bias = hasBias ? new Parameter(template.bias!.detach().clone()) : null;
        using var update = new LoraUpdate(inFeatures, outFeatures, rank, alpha, device, dtype);
        lora_A = new Parameter(update.A.detach().clone());
        lora_B = new Parameter(update.B.detach().clone());
        scale = update.Scale.ToScalar();
        scaleValue = update.Scale;
        lora_dropout = dropout > 0 ? nn.Dropout(dropout) : null;
        if (useDora)
        {
            dora = new DoraMagnitude(weight, lora_A.dtype);
            lora_magnitude_vector = dora.Vector;
        }
        RegisterComponents();
    }

    /// <inheritdoc />
    public bool Merged { get; private set; }

    /// <summary>Whether the layer is DoRA's (a learned magnitude per output row) rather than plain LoRA's.</summary>
    public bool UsesDora => dora is not null;

    /// <summary>The frozen weight [out, in].</summary>
    public Parameter Weight => weight;

    /// <summary>ΔW = (alpha / r)·B·A, in the update's type.</summary>
    public Tensor Delta() => LoraUpdate.DeltaOf(lora_A, lora_B, scale);

    /// <summary>x [.., in] → [.., out].</summary>
    public override Tensor forward(Tensor x)
    {
        if (Merged) return nn.functional.linear(x, weight, bias);
        using var scope = NewDisposeScope();
        Tensor y;
        if (dora is not null)
        {
            var adapted = Scalars.Add(weight.to(lora_A.dtype), Delta());
            var rows = dora.Scale(adapted);
            if (weight.dtype == lora_A.dtype)
            {
                y = nn.functional.linear(x, adapted.mul(rows.unsqueeze(1)), bias);
            }
            else
            {
                // Under a bf16 backbone: the frozen product in bf16, the update and the rescaling in float32.
                var update = LoraUpdate.ApplyOf(x.to(lora_A.dtype), lora_A, lora_B, scale);
                y = nn.functional.linear(x, weight).to(lora_A.dtype).add_(update).mul_(rows);
                if (bias is not null) y = y.add_(bias.to(lora_A.dtype));
                y = y.to(x.dtype);
            }
        }
        else if (lora_dropout is null && weight.dtype == lora_A.dtype)
        {
            y = nn.functional.linear(x, Scalars.Add(weight, Delta()), bias);
        }
        else
        {
            // The update applied to the input in the trainable type. Under a bf16 backbone it is added to the frozen
            // product in float32 and rounded once with it: folded into the bf16 weight, a ΔW below half a bf16 step
            // of W would vanish.
            var input = (lora_dropout?.call(x) ?? x).to(lora_A.dtype);
            var update = LoraUpdate.ApplyOf(input, lora_A, lora_B, scale);
            var frozen = nn.functional.linear(x, weight, bias);
            y = frozen.to(update.dtype).add_(update).to(x.dtype);
        }
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The ONNX nodes of <see cref="forward"/> (dropout off). <see cref="Onnx.OnnxLoraMode.Merged"/>: one product with
    /// W + ΔW (the initializer <c>weight</c> holds the merged matrix); <see cref="Onnx.OnnxLoraMode.Separate"/>: the
    /// frozen W (ΔW taken out if the layer is merged) plus the branch x·Aᵀ·Bᵀ·(alpha / r).
    /// </summary>
    public Onnx.OnnxValue EmitOnnx(Onnx.OnnxGraph graph, Onnx.OnnxValue input)
    {
        string path = graph.PathOf(this) ?? "lora";
        var b = bias is null ? (Onnx.OnnxValue?)null : graph.Parameter(bias);
        using var scope = NewDisposeScope();
        if (dora is not null) return EmitDora(graph, input, path, b);
        if (graph.Options.Lora == Onnx.OnnxLoraMode.Merged)
        {
            // W + ΔW formed in the update's type (float32), so a bf16 backbone's small ΔW survives into a float32 file.
            var w = Merged
                ? graph.Parameter(weight)
                : graph.Constant($"{path}.weight", Scalars.Add(weight.to(lora_A.dtype), Delta()));
            return graph.Linear(input, w, b);
        }
        var frozen = Merged
            ? graph.Constant($"{path}.weight", weight.to(lora_A.dtype).sub(Delta()))
            : graph.Parameter(weight);
        return graph.Add(graph.Linear(input, frozen, b), graph.LoraBranch(input, lora_A, lora_B, scaleValue));
    }

    // DoRA's graph. Merged: one product with the rescaled W' (the initializer holds it when the layer is merged).
    // Separate: the frozen product plus LoRA's branch, multiplied row by row by m / ‖W + ΔW‖, then the bias.
    private Onnx.OnnxValue EmitDora(Onnx.OnnxGraph graph, Onnx.OnnxValue input, string path, Onnx.OnnxValue? b)
    {
        using var delta = Delta();
        if (graph.Options.Lora == Onnx.OnnxLoraMode.Merged)
        {
            if (Merged) return graph.Linear(input, graph.Parameter(weight), b);
            using var adapted = Scalars.Add(weight.to(lora_A.dtype), delta);
            using var rows = dora!.Scale(adapted).detach();
            return graph.Linear(input, graph.Constant($"{path}.weight", adapted.mul(rows.unsqueeze(1))), b);
        }
        var frozenWeight = Merged ? fold.Unmerged(weight, delta) : weight.to(lora_A.dtype);
        using var scaleRows = Merged ? fold.Scale.clone() : dora!.Scale(Scalars.Add(frozenWeight, delta)).detach();
        var frozen = Merged ? graph.Constant($"{path}.weight", frozenWeight) : graph.Parameter(weight);
        var sum = graph.Add(graph.Linear(input, frozen, null), graph.LoraBranch(input, lora_A, lora_B, scaleValue));
        var scaled = graph.Mul(sum, graph.Constant($"{path}.dora_scale", scaleRows));
        return b is { } bias1 ? graph.Add(scaled, bias1) : scaled;
    }

    /// <inheritdoc />
    public void Merge()
    {
        if (Merged) return;
        if (dora is not null)
        {
            using var delta = Delta();
            fold.Merge(weight, delta, dora.Scale);
        }
        else
        {
            LoraFold.Apply(weight, () => Delta().to(weight.dtype), merge: true);
        }
        Merged = true;
    }

    /// <inheritdoc />
    public void Unmerge()
    {
        if (!Merged) return;
        if (dora is not null)
        {
            using var delta = Delta();
            fold.Unmerge(weight, delta);
        }
        else
        {
            LoraFold.Apply(weight, () => Delta().to(weight.dtype), merge: false);
        }
        Merged = false;
    }

    /// <summary>After a backbone load: DoRA's magnitude, if nobody changed it yet, becomes ‖W‖ of the loaded W.</summary>
    public void FollowBackbone()
    {
        if (dora is not null && !Merged) dora.FollowWeight(weight);
    }
}
