// Compiled into the runtime and, as internal types, into the generator (PVP_GENERATOR): one source of truth for both.
using System;

namespace Pvp;

/// <summary>
/// Well-known ViT backbones, with the sizes of timm's <c>vit_*_patch16_224</c> models.
/// </summary>
/// <remarks>
/// Compiled into the generator too, with <see cref="VitPresetSizes"/>: the one table of preset sizes.
/// </remarks>
#if PVP_GENERATOR
internal
#else
public
#endif
enum VitPreset
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
    /// <summary>A micro ViT for tests and examples: width 64, 3 blocks, 4 heads, patch 4, 32×32 images.</summary>
    Micro = 5,
}

/// <summary>
/// The sizes of each <see cref="VitPreset"/>: timm's
/// <c>vit_{tiny,small,base,large}_patch16_224</c>, and Pvp's micro ViT.
/// </summary>
/// <param name="ImageSize">Input side in pixels.</param>
/// <param name="PatchSize">Patch side.</param>
/// <param name="EmbedDim">Token width D.</param>
/// <param name="Depth">Blocks.</param>
/// <param name="Heads">Attention heads.</param>
/// <param name="MlpRatio">MLP width / D.</param>
#if PVP_GENERATOR
internal
#else
public
#endif
sealed record VitPresetSizes(int ImageSize, int PatchSize, int EmbedDim, int Depth, int Heads, double MlpRatio)
{
    /// <summary>
    /// The sizes of <paramref name="preset"/>, or null for <see cref="VitPreset.None"/> and unknown values.
    /// </summary>
    public static VitPresetSizes? Of(VitPreset preset) => preset switch
    {
        VitPreset.Tiny16 => new(224, 16, 192, 12, 3, 4.0),
        VitPreset.Small16 => new(224, 16, 384, 12, 6, 4.0),
        VitPreset.Base16 => new(224, 16, 768, 12, 12, 4.0),
        VitPreset.Large16 => new(224, 16, 1024, 24, 16, 4.0),
        VitPreset.Micro => new(32, 4, 64, 3, 4, 4.0),
        _ => null,
    };
}
