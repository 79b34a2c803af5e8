using TorchSharp;
using static TorchSharp.torch;

namespace Pvp;

/// <summary>Weight initialisers, written here where TorchSharp's own do not match PyTorch.</summary>
public static class Init
{
    /// <summary>
    /// Fills <paramref name="tensor"/> in place from a normal distribution N(mean, std²) truncated to [a, b], with
    /// PyTorch's semantics (a and b are absolute bounds, not multiples of std). TorchSharp 0.107's
    /// <c>nn.init.trunc_normal_</c> returns a nearly constant tensor, so this is used instead.
    /// </summary>
    public static Tensor TruncatedNormal(Tensor tensor, double mean = 0, double std = 1, double a = -2, double b = 2)
    {
        if (!(std > 0)) throw new ArgumentOutOfRangeException(nameof(std), std, "std must be positive.");
        if (!(a < b)) throw new ArgumentException($"The lower bound a = {a} must be below the upper bound b = {b}.");
        using var noGrad = no_grad();
        // Inverse-CDF sampling: uniform over [Φ(α), Φ(β)], mapped back through Φ⁻¹ — in float32 whatever the
        // tensor's type (erfinv has no bfloat16 kernel on every backend), then copied in.
        double low = NormalCdf((a - mean) / std), high = NormalCdf((b - mean) / std);
        using var sample = empty(tensor.shape, dtype: ScalarType.Float32, device: tensor.device);
        sample.uniform_(2 * low - 1, 2 * high - 1);
        sample.erfinv_();
        Scalars.MultiplyInPlace(sample, std * Math.Sqrt(2.0));
        using var shift = mean.ToScalar();
        using var lower = a.ToScalar();
        using var upper = b.ToScalar();
        sample.add_(shift);
        sample.clamp_(lower, upper);
        tensor.copy_(sample);
        return tensor;
    }

    private static double NormalCdf(double x) => (1.0 + Erf(x / Math.Sqrt(2.0))) / 2.0;

    // Abramowitz–Stegun 7.1.26 is too coarse near the tails; use a series/continued fraction accurate to ~1e-15.
    private static double Erf(double x)
    {
        double t = Math.Abs(x);
        double result;
        if (t < 2.5)
        {
            // Maclaurin series: erf(x) = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1))
            double sum = 0, term = t;
            for (int n = 0; n < 200; n++)
            {
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
                term *= -t * t / (n + 1);
            }
            result = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            // Continued fraction for erfc, evaluated backwards.
            double f = 0;
            for (int k = 60; k >= 1; k--) f = k / 2.0 / (t + f);
            result = 1 - Math.Exp(-t * t) / Math.Sqrt(Math.PI) / (t + f);
        }
        return x < 0 ? -result : result;
    }
}
