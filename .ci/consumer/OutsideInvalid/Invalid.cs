using Consumer.Methods;
using Pvp;

namespace Consumer;

// An empty block range: the method would attach nowhere (PVP009 at the Blocks argument).
[VisionTransformer(ImageSize = 32, PatchSize = 4, EmbedDim = 64, Depth = 3, Heads = 4)]
[GatedScaleShift(Blocks = "2..2")]
public partial class EmptyRange;

// The method's module attached at a site that does not exist (PVP019 at the Site argument).
[VisionTransformer(ImageSize = 32, PatchSize = 4, EmbedDim = 64, Depth = 3, Heads = 4)]
[Attach(typeof(GatedScaleShift), Site = (AttachSite)99)]
public partial class UnknownSite;
