namespace Pvp.Tests.Numerics;

/// <summary>The tiny ViT of the numerical tests: 32×32, patch 4, width 64, 3 blocks, 4 heads.</summary>
[VisionTransformer(ImageSize = 32, PatchSize = 4, EmbedDim = 64, Depth = 3, Heads = 4)]
public partial class TinyVit;

/// <summary>The shape of torchvision's reference fixture: 48×48, patch 8, width 96, 2 blocks, 6 heads, MLP 384.</summary>
[VisionTransformer(ImageSize = 48, PatchSize = 8, EmbedDim = 96, Depth = 2, Heads = 6)]
public partial class FixtureVit;
