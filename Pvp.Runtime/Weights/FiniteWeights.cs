using static TorchSharp.torch;

namespace Pvp.Weights;

/// <summary>
/// Weights are finite numbers: a NaN or an infinity read from a file (flipped bytes, a run that diverged) would
/// otherwise evaluate to chance with exit 0, or be diagnosed hours later as a diverging training. Every load and every
/// export checks.
/// </summary>
public static class FiniteWeights
{
    /// <summary>
    /// Throws, naming <paramref name="source"/> and the first keys, when a floating-point tensor holds a NaN or ±inf.
    /// </summary>
    /// <param name="tensors">Tensors by name.</param>
    /// <param name="source">The file (or what holds them), as errors name it.</param>
    /// <param name="fix">What the user can do, appended to the message.</param>
    /// <exception cref="InvalidDataException">
    /// Some tensor is not finite; the message names the file, each key and its count.
    /// </exception>
    public static void Require(IEnumerable<KeyValuePair<string, Tensor>> tensors, string source, string fix)
    {
        var bad = new List<string>();
        using var scope = NewDisposeScope();
        foreach (var (key, tensor) in tensors)
        {
            if (!is_floating_point(tensor) || tensor.numel() == 0) continue;
            long nonFinite = (~isfinite(tensor)).sum().item<long>();
            if (nonFinite > 0) bad.Add($"'{key}' ({nonFinite} of {tensor.numel()} values)");
        }
        if (bad.Count > 0)
            throw new InvalidDataException($"'{source}' holds non-finite weights (NaN or ±inf): {string.Join(", ", bad.Take(5))}" +
                                           $"{(bad.Count > 5 ? $" and {bad.Count - 5} more tensors" : "")}. {fix}");
    }
}
