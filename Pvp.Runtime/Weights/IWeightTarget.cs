using static TorchSharp.torch;

namespace Pvp.Weights;

/// <summary>What a state-dict key of a <see cref="IWeightTarget"/> is to a backbone checkpoint.</summary>
[Flags]
public enum WeightRoles
{
    /// <summary>
    /// Neither: a PETuning module's tensor, which no backbone checkpoint holds (left at its initialisation).
    /// </summary>
    None = 0,

    /// <summary>A backbone tensor: a checkpoint without it does not fit.</summary>
    Backbone = 1,

    /// <summary>The classifier head: loaded when its shape fits, skipped otherwise.</summary>
    Head = 2,
}

/// <summary>
/// A model that <see cref="BackboneWeights"/> can load a checkpoint into. The loader knows tensors and roles only, so
/// the weights layer does not depend on the model classes (<see cref="PetModel"/> implements this).
/// </summary>
public interface IWeightTarget
{
    /// <summary>The model for messages, e.g. <c>VptDeepS16 (ViT-S/16 …)</c>.</summary>
    string WeightTargetName { get; }

    /// <summary>The model's state dict: the tensors a checkpoint's values are copied into.</summary>
    IReadOnlyDictionary<string, Tensor> WeightTargetState { get; }

    /// <summary>What the tensor at <paramref name="key"/> is to a backbone checkpoint.</summary>
    WeightRoles RoleOf(string key);

    /// <summary>
    /// Called once a backbone checkpoint has been copied in, for state that derives from the backbone's weights (DoRA's
    /// magnitudes start as the pre-trained weight's row norms). Does nothing by default.
    /// </summary>
    void BackboneLoaded()
    {
    }
}
