namespace Pvp.MixedPrecision;

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

/// <summary>The names recipes and command lines use for <see cref="BackbonePrecision"/>: <c>auto</c>, <c>float32</c>, <c>bf16</c>.</summary>
public static class BackbonePrecisionNames
{
    /// <summary>The accepted names, for error messages.</summary>
    public const string Expected = "auto, float32 or bf16";

    /// <summary>The precision called <paramref name="name"/>, or null when it is none of <see cref="Expected"/>.</summary>
    public static BackbonePrecision? Parse(string name) => name switch
    {
        "auto" => BackbonePrecision.Auto,
        "float32" => BackbonePrecision.Float32,
        "bf16" => BackbonePrecision.Bf16,
        _ => null,
    };
}
