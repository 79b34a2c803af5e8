namespace Pvp.Precision;

/// <summary>
/// Which precision a model's frozen backbone is built in, as a recipe (<c>precision:</c>) or a constructor asks for it.
/// Only variants that declare <c>Precision = PrecisionPlan.BackboneBf16</c> may use bf16; the others are float32 always.
/// </summary>
public enum BackbonePrecision
{
    /// <summary>bf16 where the device computes it natively (CPU with AVX-512 BF16 or AMX; CUDA compute capability 8.0 or newer), float32 elsewhere.</summary>
    Auto = 0,

    /// <summary>float32 (the constructor's dtype), whatever the hardware.</summary>
    Float32 = 1,

    /// <summary>bf16 even where the hardware has no native bf16 (then it can be much slower than float32: it warns once).</summary>
    Bf16 = 2,
}
