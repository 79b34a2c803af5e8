namespace Pvp;

/// <summary>How a generated model stores and computes its frozen backbone.</summary>
/// <remarks>The generator knows these values by number: keep them stable.</remarks>
public enum PrecisionPlan
{
    /// <summary>Everything in the constructor's dtype (float32 by default).</summary>
    Float32 = 0,

    /// <summary>
    /// The frozen backbone's weights and activations in bfloat16; the trainable modules (prompts, LoRA, adapters,
    /// attachments, head), their gradients, the optimizer state and the loss in the constructor's dtype. The generated
    /// forward casts at each boundary. On CPUs with AVX-512 BF16 and on GPUs bf16 matrix products are several times
    /// faster. Needs a frozen backbone: not with [FullFineTune], [TrainBias] or [TrainNorms].
    /// </summary>
    BackboneBf16 = 1,
}
