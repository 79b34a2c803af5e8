namespace Pvp;

/// <summary>
/// Well-known ViT backbones, with the sizes of timm's <c>vit_*_patch16_224</c> models.
/// </summary>
/// <remarks>The generator knows these values by the enum's numeric value: keep the numbers stable.</remarks>
public enum VitPreset
{
    /// <summary>No preset: every size comes from the attribute's named arguments.</summary>
    None = 0,
    /// <summary>ViT-Ti/16: width 192, 12 blocks, 3 heads, 224×224 images.</summary>
    Tiny16 = 1,
    /// <summary>ViT-S/16: width 384, 12 blocks, 6 heads, 224×224 images.</summary>
    Small16 = 2,
    /// <summary>ViT-B/16: width 768, 12 blocks, 12 heads, 224×224 images.</summary>
    Base16 = 3,
    /// <summary>ViT-L/16: width 1024, 24 blocks, 16 heads, 224×224 images.</summary>
    Large16 = 4,
}
