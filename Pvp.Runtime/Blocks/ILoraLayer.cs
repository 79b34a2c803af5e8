namespace Pvp.Blocks;

/// <summary>A layer whose frozen weight carries a LoRA update that can be folded in and out.</summary>
public interface ILoraLayer
{
    /// <summary>Whether the update is currently folded into the frozen weight.</summary>
    bool Merged { get; }

    /// <summary>Folds the update into the weight (W ← W + ΔW) so inference costs one matrix product. Idempotent.</summary>
    void Merge();

    /// <summary>Takes the update back out of the weight (W ← W − ΔW). Idempotent.</summary>
    void Unmerge();
}
