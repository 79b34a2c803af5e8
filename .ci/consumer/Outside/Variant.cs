using Consumer.Methods;
using Pvp;

namespace Consumer;

/// <summary>VPT-shallow plus the outside package's gated scale-shift on blocks 1 and 2 of the micro ViT's sizes.</summary>
[VisionTransformer(ImageSize = 32, PatchSize = 4, EmbedDim = 64, Depth = 3, Heads = 4)]
[Prompts(Length = 4)]
[GatedScaleShift(Blocks = "1..")]
public partial class OutsideGatedPrompts;
