// Compiled into the runtime and, as internal types, into the generator (PVP_GENERATOR): one source of truth for both.
using System;

namespace Pvp;

/// <summary>How a generated model stores and computes its frozen backbone.</summary>
/// <remarks>The generator knows these values by number: keep them stable.</remarks>
#if PVP_GENERATOR
internal
#else
public
#endif
enum PrecisionPlan
{
    /// <summary>Everything in the constructor's dtype (float32 by default).</summary>
    Float32 = 0,

    /// <summary>
    /// A bf16 frozen backbone is allowed; the hardware decides when the model is built. Where the device computes bf16
    /// natively (a CPU with AVX-512 BF16 or AMX-BF16, CUDA compute capability 8.0 or newer) the frozen backbone's
    /// weights and activations are bfloat16 (2.7× faster steps measured on an AVX-512 BF16 CPU); elsewhere they stay in
    /// the constructor's dtype, since emulated bf16 is far slower (30× measured on an AVX2-only CPU). The constructor's
    /// <c>precision</c> argument (or a recipe's <c>precision:</c>) forces one or the other. The trainable modules
    /// (prompts, LoRA, adapters, attachments, head), their gradients, the optimizer state and the loss are always in
    /// the constructor's dtype; the generated forward casts at each boundary. <see cref="PetModel.Precision"/> says
    /// what was chosen and why. Needs a frozen backbone: not with [FullFineTune], [TrainBias] or [TrainNorms] (PVP020).
    /// </summary>
    BackboneBf16 = 1,
}
