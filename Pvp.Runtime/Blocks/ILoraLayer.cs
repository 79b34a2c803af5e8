namespace Pvp.Blocks;

/// <summary>A layer whose frozen weight carries a LoRA update that can be folded in and out.</summary>
public interface ILoraLayer
{
    /// <summary>Whether the update is currently folded into the frozen weight.</summary>
    bool Merged { get; }

    /// <summary>
    /// Folds the update into the weight (W ← W + ΔW) so inference costs one matrix product. Idempotent. Under a bf16
    /// backbone the sum is rounded to bf16, so a ΔW below half a bf16 step of W is lost; keep such a model unmerged
    /// (its forward adds the update in float32) or export it to float32 ONNX, which merges in float32.
    /// </summary>
    void Merge();

    /// <summary>Takes the update back out of the weight (W ← W − ΔW). Idempotent.</summary>
    void Unmerge();
}

/// <summary>Folding a LoRA update into its frozen weight and back, shared by the LoRA layers.</summary>
internal static class LoraFold
{
    /// <summary>W ← W + ΔW (<paramref name="merge"/>) or W ← W − ΔW, without recording gradients.</summary>
    public static void Apply(TorchSharp.Modules.Parameter weight, Func<TorchSharp.torch.Tensor> delta, bool merge)
    {
        using var noGrad = TorchSharp.torch.no_grad();
        using var update = delta();
        if (merge) weight.add_(update, Scalars.One);
        else weight.sub_(update);
    }
}
