using Pvp.Blocks;

namespace Pvp;

/// <summary>
/// LoRA's inference step on a whole model: every <see cref="ILoraLayer"/> folded into (or out of) its frozen weight.
/// </summary>
public static class LoraMerging
{
    /// <summary>
    /// Folds every LoRA update of <paramref name="model"/> into its frozen weight (for inference); see
    /// <see cref="UnmergeLora"/>.
    /// </summary>
    public static void MergeLora(this PetModel model)
    {
        foreach (var layer in model.modules().OfType<ILoraLayer>()) layer.Merge();
    }

    /// <summary>Takes every LoRA update of <paramref name="model"/> back out of its frozen weight.</summary>
    public static void UnmergeLora(this PetModel model)
    {
        foreach (var layer in model.modules().OfType<ILoraLayer>()) layer.Unmerge();
    }
}
