namespace Pvp.Blocks;

/// <summary>
/// A PETuning module with state derived from the frozen backbone weights it sits on (DoRA's magnitudes start as the
/// pre-trained weight's row norms). A model calls <see cref="FollowBackbone"/> on each such module after a backbone
/// checkpoint is loaded, so the base model names no method.
/// </summary>
public interface IFollowsBackbone
{
    /// <summary>
    /// Re-derives the state from the weights now loaded, where it was not changed since it was last derived (trained
    /// or imported state is kept).
    /// </summary>
    void FollowBackbone();
}
