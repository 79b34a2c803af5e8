using Pvp;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Consumer;

/// <summary>The consumer's own PETuning module: a learnable per-channel gate on the MLP's output, starting at 1.</summary>
public sealed class ChannelGate : nn.Module<Tensor, Tensor>, IPetAttachment
{
    private readonly Parameter gate;

    public ChannelGate(AttachContext context) : base(nameof(ChannelGate))
    {
        gate = new Parameter(ones(new long[] { context.EmbedDim }, dtype: context.Dtype, device: context.Device));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => x.mul(gate);
}

/// <summary>The consumer's variant: deep prompts plus its own module, on the micro ViT's sizes (32×32, patch 4, width 64, 3 blocks).</summary>
[VisionTransformer(ImageSize = 32, PatchSize = 4, EmbedDim = 64, Depth = 3, Heads = 4)]
[Prompts(Length = 4, Deep = true)]
[Attach(typeof(ChannelGate), Site = AttachSite.AfterMlp, Blocks = "1..")]
public partial class ConsumerPromptGate;
