using TorchSharp;
using static TorchSharp.torch;

namespace Pvp;

/// <summary>Small tensor operations that generated forward passes share.</summary>
public static class VitOps
{
    /// <summary>[B, N, D] patch tokens and a [1, 1, D] class token → [B, 1 + N, D].</summary>
    public static Tensor PrependClassToken(Tensor patches, Tensor classToken)
    {
        using var expanded = classToken.expand(patches.shape[0], -1, -1);
        return cat(new[] { expanded, patches }, 1);
    }

    /// <summary>The class token of each sequence: [B, N, D] → [B, D].</summary>
    public static Tensor ClassToken(Tensor tokens) => tokens.select(1, 0);
}
