namespace Pvp.Blocks;

/// <summary>The LayerNorm setting every generated ViT block and final norm uses.</summary>
public static class LayerNorms
{
    /// <summary>timm's ViT LayerNorm epsilon, 1e-6 (PyTorch's default is 1e-5; Hugging Face ViT uses 1e-12).</summary>
    public const double Eps = 1e-6;
}
