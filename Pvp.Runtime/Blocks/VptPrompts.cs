using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pvp.Blocks;

/// <summary>
/// VPT's prompt tokens: their initialisation, which generated constructors call for the model's prompt parameters.
/// </summary>
public static class VptPrompts
{
    /// <summary>VPT's initialisation (KMnP/vpt): uniform(−v, v) with v = √(6 / (3·patch² + D)).</summary>
    /// <param name="prompts">The prompt tokens, e.g. <c>prompt_embeddings</c> [1, T, D].</param>
    /// <param name="backbone">The backbone (its patch size and width).</param>
    public static void Initialize(Parameter prompts, VitConfig backbone)
    {
        using var noGrad = no_grad();
        double v = Math.Sqrt(6.0 / (3.0 * backbone.PatchSize * backbone.PatchSize + backbone.EmbedDim));
        prompts.uniform_(-v, v);
    }
}
