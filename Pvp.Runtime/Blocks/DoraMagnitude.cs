using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pvp.Blocks;

/// <summary>
/// DoRA's magnitude of one adapted weight (Liu et al. 2024; HF PEFT's <c>DoraLinearLayer</c> in
/// <c>peft/tuners/lora/dora.py</c>): a learned vector m, one entry per output row, that rescales the LoRA-updated
/// weight row by row, W' = (m / ‖W + ΔW‖) ⊙ (W + ΔW), the row norms detached from the gradient (the paper's §4.3). m is
/// initialised to ‖W‖; since a backbone is loaded after the model is built, a magnitude nobody changed yet follows the
/// loaded weight (<see cref="FollowWeight"/>), while a trained or imported one stays. Folding is <see cref="DoraFold"/>'s.
/// </summary>
internal sealed class DoraMagnitude
{
    private Tensor initial;

    /// <summary>Creates m = ‖<paramref name="weight"/>‖ per row, in <paramref name="dtype"/>.</summary>
    public DoraMagnitude(Tensor weight, ScalarType dtype)
    {
        using var noGrad = no_grad();
        Vector = new Parameter(RowNorm(weight.to(ScalarType.Float32)).to(dtype));
        initial = Vector.detach().clone();
    }

    /// <summary>m, [out] (PEFT's <c>lora_magnitude_vector</c>).</summary>
    public Parameter Vector { get; }

    /// <summary>‖w‖₂ over each row of <paramref name="w"/> [out, in] → [out].</summary>
    public static Tensor RowNorm(Tensor w) => w.norm(1, false, 2);

    /// <summary>m / ‖adapted‖ per row, the norm detached: what each output row of (W + ΔW)·x is multiplied by.</summary>
    public Tensor Scale(Tensor adapted)
    {
        using var norm = RowNorm(adapted.detach());
        return Vector.div(norm);
    }

    /// <summary>
    /// After a backbone load: if m is still its initial value, sets it to the norm of <paramref name="weight"/>'s rows
    /// (PEFT initialises m from the pre-trained weight); a magnitude that trained or was imported is left as it is.
    /// </summary>
    public void FollowWeight(Tensor weight)
    {
        using var noGrad = no_grad();
        using (var same = Vector.eq(initial).all())
            if (!same.item<bool>()) return;
        using var norm = RowNorm(weight.to(ScalarType.Float32));
        Vector.copy_(norm);
        initial.Dispose();
        initial = Vector.detach().clone();
    }
}
