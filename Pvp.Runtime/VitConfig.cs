namespace Pvp;

/// <summary>The sizes of a ViT backbone, as the generator resolved them from a declaration.</summary>
/// <param name="ImageSize">Side of the square input image.</param>
/// <param name="PatchSize">Side of a square patch.</param>
/// <param name="InChannels">Image channels.</param>
/// <param name="EmbedDim">Token width D.</param>
/// <param name="Depth">Number of blocks.</param>
/// <param name="Heads">Attention heads per block.</param>
/// <param name="MlpHidden">Hidden width of each MLP.</param>
/// <param name="QkvBias">Whether the qkv projection has a bias.</param>
public sealed record VitConfig(
    int ImageSize, int PatchSize, int InChannels, int EmbedDim, int Depth, int Heads, int MlpHidden, bool QkvBias)
{
    /// <summary>Patches along one side of the image.</summary>
    public int GridSize => ImageSize / PatchSize;

    /// <summary>Patch tokens per image.</summary>
    public int PatchCount => GridSize * GridSize;

    /// <summary>A short human description, e.g. <c>ViT D=768 depth 12 heads 12 patch 16 @224</c>.</summary>
    public override string ToString() =>
        $"ViT D={EmbedDim} depth {Depth} heads {Heads} mlp {MlpHidden} patch {PatchSize} " +
        $"@{ImageSize}{(QkvBias ? "" : " (no qkv bias)")}";
}
