using TorchSharp;
using static TorchSharp.torch;

namespace Pvp;

/// <summary>
/// Arithmetic that keeps its scalar operands alive. TorchSharp turns a C# number into a native <c>Scalar</c> and
/// passes only its handle to libtorch; nothing keeps the managed object alive during the call, so under allocation
/// pressure the garbage collector can finalize it — freeing the native scalar — while libtorch still reads it
/// ("Expected false to be true ... toFloat"). <c>a + b</c> has the same hidden scalar (alpha = 1). Pvp's modules, the
/// generated code and the optimizer therefore pass scalars they hold: static ones here, or fields of a module.
/// </summary>
public static class Scalars
{
    /// <summary>1, held for the process's lifetime (a static root is never finalized).</summary>
    public static readonly Scalar One = 1.0.ToScalar();

    /// <summary>
    /// <paramref name="a"/> + <paramref name="b"/>, safe against the finalizer race (use instead of <c>a + b</c>).
    /// </summary>
    public static Tensor Add(Tensor a, Tensor b) => a.add(b, One);

    /// <summary>
    /// <paramref name="tensor"/> · <paramref name="factor"/>, with the scalar kept alive across the call.
    /// </summary>
    public static Tensor Multiply(Tensor tensor, double factor)
    {
        using var scalar = factor.ToScalar();
        return tensor.mul(scalar);
    }

    /// <summary>
    /// In-place <paramref name="tensor"/> ·= <paramref name="factor"/>, with the scalar kept alive across the call.
    /// </summary>
    public static Tensor MultiplyInPlace(Tensor tensor, double factor)
    {
        using var scalar = factor.ToScalar();
        return tensor.mul_(scalar);
    }
}
