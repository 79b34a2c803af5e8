using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pvp.Blocks;

/// <summary>
/// Folding a DoRA-adapted weight into the frozen one and back, shared by the LoRA layers: W ← r ⊙ (W + ΔW) with r the
/// rows' factors m / ‖W + ΔW‖, remembered so that the unmerge, W ← W / r − ΔW, undoes it as far as rounding allows.
/// </summary>
internal sealed class DoraFold
{
    private Tensor? scale;

    /// <summary>The row factors taken at the merge.</summary>
    /// <exception cref="InvalidOperationException">Not merged.</exception>
    public Tensor Scale => scale ?? throw new InvalidOperationException("The layer is not merged.");

    /// <summary>
    /// W ← r ⊙ (W + ΔW), r = <paramref name="rowScale"/>(W + ΔW), formed in <paramref name="delta"/>'s type.
    /// </summary>
    public void Merge(Parameter weight, Tensor delta, Func<Tensor, Tensor> rowScale)
    {
        using var noGrad = no_grad();
        using var dispose = NewDisposeScope();
        var adapted = Scalars.Add(weight.to(delta.dtype), delta);
        var rows = rowScale(adapted).detach();
        scale?.Dispose();
        scale = rows.clone().MoveToOuterDisposeScope();
        weight.copy_(adapted.mul(rows.unsqueeze(1)).to(weight.dtype));
    }

    /// <summary>W ← W / r − ΔW, with r remembered at the merge.</summary>
    public void Unmerge(Parameter weight, Tensor delta)
    {
        using var noGrad = no_grad();
        using var dispose = NewDisposeScope();
        weight.copy_(Unmerged(weight, delta).to(weight.dtype));
    }

    /// <summary>The frozen W of a merged weight (W / r − ΔW), in ΔW's type; the merged weight is left as it is.</summary>
    public Tensor Unmerged(Tensor mergedWeight, Tensor delta) =>
        mergedWeight.to(delta.dtype).div(Scale.unsqueeze(1)).sub(delta);
}
