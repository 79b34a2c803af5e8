namespace Pvp.Models.Backbones;

/// <summary>ViT-Ti/16 at 224×224 (timm's <c>vit_tiny_patch16_224</c>), every weight trainable.</summary>
[VisionTransformer(VitPreset.Tiny16)]
public partial class VitTiny16;

/// <summary>ViT-S/16 at 224×224 (timm's <c>vit_small_patch16_224</c>), every weight trainable.</summary>
[VisionTransformer(VitPreset.Small16)]
public partial class VitSmall16;

/// <summary>ViT-B/16 at 224×224 (timm's <c>vit_base_patch16_224</c>), every weight trainable.</summary>
[VisionTransformer(VitPreset.Base16)]
public partial class VitBase16;

/// <summary>ViT-L/16 at 224×224 (timm's <c>vit_large_patch16_224</c>), every weight trainable.</summary>
[VisionTransformer(VitPreset.Large16)]
public partial class VitLarge16;

/// <summary>A tiny ViT for tests and the quick start: 32×32 images, patch 4, width 64, 3 blocks, 4 heads.</summary>
[VisionTransformer(VitPreset.Micro)]
public partial class VitMicro;
