using Pvp;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CustomVariant;

/// <summary>
/// A PETuning module Pvp has never heard of: SSF-style per-channel scale and shift (Lian et al. 2022),
/// y = x·γ + β, starting as the identity (γ = 1, β = 0). Implementing <see cref="IPetAttachment"/> and taking an
/// <see cref="AttachContext"/> is all it needs to be placed by <c>[Attach]</c>.
/// </summary>
public sealed class ScaleShift : nn.Module<Tensor, Tensor>, IPetAttachment
{
    private readonly Parameter scale;
    private readonly Parameter shift;

    public ScaleShift(AttachContext context) : base(nameof(ScaleShift))
    {
        scale = new Parameter(ones(new long[] { context.EmbedDim }, dtype: context.Dtype, device: context.Device));
        shift = new Parameter(zeros(new long[] { context.EmbedDim }, dtype: context.Dtype, device: context.Device));
        RegisterComponents();
    }

    // Pvp.Scalars.Add rather than '+': TorchSharp's operator passes a temporary scalar the GC may free mid-call.
    public override Tensor forward(Tensor x) => Pvp.Scalars.Add(x.mul(scale), shift);
}

/// <summary>The new variant: scale-shift after every attention and every MLP of a small ViT.</summary>
[VisionTransformer(VitPreset.Micro)]
[Attach(typeof(ScaleShift), Site = AttachSite.AfterAttention)]
[Attach(typeof(ScaleShift), Site = AttachSite.AfterMlp)]
public partial class ScaleShiftMicro;
