// Declares a small Vision Transformer with one attribute and runs it: the generator writes the module at compile time.
using System.Diagnostics;
using Pvp;
using TorchSharp;
using static TorchSharp.torch;

manual_seed(0);
using var model = new HelloVit.SmallVit(numClasses: 10);
model.eval();

Console.WriteLine($"{nameof(HelloVit.SmallVit)}: {model.Backbone}");
Console.WriteLine($"parameters: {model.ParameterCount:N0}");
Console.WriteLine("state-dict keys (timm layout), first six:");
foreach (var (key, value) in model.state_dict().Take(6))
    Console.WriteLine($"  {key,-28} [{string.Join(", ", value.shape)}]");

using var images = randn(8, 3, 32, 32);
var clock = Stopwatch.StartNew();
using (no_grad())
{
    using var logits = model.call(images);
    Console.WriteLine($"logits: [{string.Join(", ", logits.shape)}] in {clock.Elapsed.TotalMilliseconds:F0} ms");
}

namespace HelloVit
{
    /// <summary>32×32 images cut into 4×4 patches, width 96, 4 blocks of 3 heads.</summary>
    [VisionTransformer(ImageSize = 32, PatchSize = 4, EmbedDim = 96, Depth = 4, Heads = 3)]
    public partial class SmallVit;
}
