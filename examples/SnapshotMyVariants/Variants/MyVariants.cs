using Pvp;

namespace MyApp;

/// <summary>The team's own variant: VPT-deep on the first half, AdaptFormer on the second half of ViT-S/16.</summary>
[VisionTransformer(VitPreset.Small16)]
[Prompts(Length = 20, Deep = true, Blocks = "..6")]
[Adapter(Bottleneck = 16, Placement = AdapterPlacement.Parallel, Blocks = "6..")]
public partial class HalfAndHalfS16;
