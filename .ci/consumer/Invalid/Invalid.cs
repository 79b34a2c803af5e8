using Pvp;

namespace Consumer;

// Prompt length 0 is no prompt at all: the generator reports PVP012 at this attribute.
[VisionTransformer(ImageSize = 32, PatchSize = 4, EmbedDim = 64, Depth = 3, Heads = 4)]
[Prompts(Length = 0)]
public partial class NoPrompts;
