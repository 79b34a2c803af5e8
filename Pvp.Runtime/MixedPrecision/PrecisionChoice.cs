using TorchSharp;
using static TorchSharp.torch;

namespace Pvp.MixedPrecision;

/// <summary>The precision a model's frozen backbone was built in, and why.</summary>
/// <param name="UsesBf16">True: the frozen backbone is in bf16; false: in the constructor's dtype.</param>
/// <param name="Requested">What the constructor or recipe asked for.</param>
/// <param name="Reason">Why, in words (the declaration, the request, the hardware).</param>
public sealed record PrecisionChoice(bool UsesBf16, BackbonePrecision Requested, string Reason)
{
    private static int warned;

    /// <summary>The declaration allows a bf16 backbone (the choice was the hardware's or the request's).</summary>
    public bool AllowsBf16 { get; init; } = true;

    /// <summary>The kind of device the choice was made for (a model trained on another kind may deserve another choice).</summary>
    public DeviceType DecidedFor { get; init; } = DeviceType.CPU;

    /// <summary>What a variant that does not declare <c>Precision = PrecisionPlan.BackboneBf16</c> uses.</summary>
    public static PrecisionChoice DeclaredFloat32 { get; } = new(false, BackbonePrecision.Auto, "the declaration allows float32 only") { AllowsBf16 = false };

    /// <summary>"bf16" or "float32": how results, metrics and run folders record it.</summary>
    public string Name => UsesBf16 ? "bf16" : "float32";

    /// <summary>
    /// Decides the frozen backbone's precision: the declaration permits (<paramref name="allowsBf16"/>), the request
    /// forces, and otherwise the hardware decides — bf16 only where <paramref name="support"/> says it is native.
    /// Forcing bf16 where it is not native warns once per process on standard error, with the reason.
    /// </summary>
    /// <exception cref="ArgumentException">bf16 requested for a variant that does not allow it.</exception>
    public static PrecisionChoice Decide(bool allowsBf16, BackbonePrecision requested, Bf16Support support, string variant = "this variant")
    {
        if (!allowsBf16)
        {
            if (requested == BackbonePrecision.Bf16)
                throw new ArgumentException($"{variant} does not allow a bf16 backbone: declare it with Precision = PrecisionPlan.BackboneBf16 " +
                                            "(possible when nothing in the backbone trains, PVP020), or ask for float32 or auto.");
            return DeclaredFloat32 with { Requested = requested };
        }
        switch (requested)
        {
            case BackbonePrecision.Float32:
                return new(false, requested, "float32 was asked for");
            case BackbonePrecision.Bf16:
                if (!support.Native && Interlocked.Exchange(ref warned, 1) == 0)
                    Console.Error.WriteLine($"warning: a bf16 backbone was forced, but {support.Reason}: bf16 is emulated there and can be far " +
                                            "slower than float32 (30x measured on an AVX2-only CPU). Use precision auto or float32.");
                return new(true, requested, $"bf16 was asked for ({(support.Native ? "" : "not native: ")}{support.Reason})");
            default:
                return support.Native
                    ? new(true, requested, $"bf16 is native: {support.Reason}")
                    : new(false, requested, $"float32, since bf16 is not native: {support.Reason}");
        }
    }

    /// <summary>Decides for <paramref name="device"/> on this machine (see <see cref="Decide(bool, BackbonePrecision, Bf16Support, string)"/>).</summary>
    public static PrecisionChoice Decide(bool allowsBf16, BackbonePrecision requested, Device? device, string variant = "this variant") =>
        Decide(allowsBf16, requested, allowsBf16 && requested != BackbonePrecision.Float32 ? Bf16Support.Of(device) : new Bf16Support(false, "not asked"), variant)
            with { DecidedFor = device?.type ?? DeviceType.CPU };

    /// <inheritdoc />
    public override string ToString() => $"{Name} backbone ({Reason})";
}
