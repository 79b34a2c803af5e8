// Micro variants: a 32×32, patch-4, width-64, 3-block ViT for tests, the quick start and benchmarks on a CPU.
namespace Pvp.Models;

/// <summary>Micro ViT — linear probe.</summary>
[VisionTransformer(VitPreset.Micro)]
[LinearProbe]
public partial class LinearProbeMicro;

/// <summary>Micro ViT — VPT-shallow with 8 prompt tokens.</summary>
[VisionTransformer(VitPreset.Micro)]
[Prompts(Length = 8)]
public partial class VptShallowMicro;

/// <summary>Micro ViT — VPT-deep with 8 prompt tokens per block.</summary>
[VisionTransformer(VitPreset.Micro)]
[Prompts(Length = 8, Deep = true)]
public partial class VptDeepMicro;

/// <summary>Micro ViT — LoRA r = 4 on q and v.</summary>
[VisionTransformer(VitPreset.Micro)]
[Lora(Rank = 4, Alpha = 8)]
public partial class LoraMicro;

/// <summary>Micro ViT — AdaptFormer, bottleneck 8.</summary>
[VisionTransformer(VitPreset.Micro)]
[Adapter(Bottleneck = 8, Placement = AdapterPlacement.AdaptFormer)]
public partial class AdaptFormerMicro;

/// <summary>Micro ViT — full fine-tuning.</summary>
[VisionTransformer(VitPreset.Micro)]
[FullFineTune]
public partial class FullFineTuneMicro;

/// <summary>Micro ViT — BitFit.</summary>
[VisionTransformer(VitPreset.Micro)]
[TrainBias]
public partial class BitFitMicro;

/// <summary>Micro ViT — sequential adapter, bottleneck 8.</summary>
[VisionTransformer(VitPreset.Micro)]
[Adapter(Bottleneck = 8)]
public partial class AdapterMicro;

/// <summary>Micro ViT — VPT-deep (4 tokens) with LoRA r = 4 on q and v of blocks 1 and 2.</summary>
[VisionTransformer(VitPreset.Micro)]
[Prompts(Length = 4, Deep = true)]
[Lora(Rank = 4, Alpha = 8, Blocks = "1..")]
public partial class VptDeepLoraMicro;

/// <summary>
/// Micro ViT — VPT-deep with 8 tokens, the frozen backbone in bfloat16 where the hardware computes it natively
/// (Precision = BackboneBf16).
/// </summary>
[VisionTransformer(VitPreset.Micro, Precision = PrecisionPlan.BackboneBf16)]
[Prompts(Length = 8, Deep = true)]
public partial class VptDeepBf16Micro;

/// <summary>
/// Micro ViT — SSF: a learnable scale and shift after norm1, attention, norm2 and the MLP of every block.
/// </summary>
[VisionTransformer(VitPreset.Micro)]
[Ssf]
public partial class SsfMicro;

/// <summary>
/// Micro ViT — SSF's full form (its official code): also after the qkv projection and after fc1 of every block.
/// </summary>
[VisionTransformer(VitPreset.Micro)]
[Ssf(Full = true)]
public partial class SsfFullMicro;

/// <summary>
/// Micro ViT — IA³ (Liu et al. 2022): learned vectors, initialised to 1, rescale the keys, the values and the MLP's
/// activation of every block.
/// </summary>
[VisionTransformer(VitPreset.Micro)]
[Ia3]
public partial class Ia3Micro;

/// <summary>
/// Micro ViT — Adapter+ (Steitz and Roth 2024): a bottleneck-8 adapter with a channel-wise scale on each block's output,
/// Houlsby's initialisation, drop-path 0.1 on its branch.
/// </summary>
[VisionTransformer(VitPreset.Micro)]
[AdapterPlus]
public partial class AdapterPlusMicro;

/// <summary>
/// Micro ViT — E2VPT's key-value prompts (Han et al. 2023): 5 learned key and value tokens, one shared tensor, before the
/// keys and values of every block's attention; the stream keeps its length.
/// </summary>
[VisionTransformer(VitPreset.Micro)]
[KvPrompts]
public partial class KvPromptsMicro;

/// <summary>
/// Micro ViT — E2VPT without its pruning (Han et al. 2023; the reference's FGVC runs): VPT-deep with 5 prompt tokens and
/// prompt dropout 0.1, and 5 key-value prompts in every block's attention.
/// </summary>
[VisionTransformer(VitPreset.Micro)]
[Prompts(Length = 5, Deep = true, Dropout = 0.1)]
[KvPrompts]
public partial class E2vptMicro;

/// <summary>
/// Micro ViT — DoRA (Liu et al. 2024): LoRA r 4, alpha 8 on q and v with a learned magnitude per output row.
/// </summary>
[VisionTransformer(VitPreset.Micro)]
[Lora(Rank = 4, Alpha = 8, Targets = LoraTargets.Query | LoraTargets.Value, UseDora = true)]
public partial class DoraMicro;

/// <summary>
/// Micro ViT — LN-tuning (HF PEFT's <c>LN_TUNING</c>): every LayerNorm's weight and bias trains (norm1 and norm2 of each
/// block and the final norm), and the head.
/// </summary>
[VisionTransformer(VitPreset.Micro)]
[TrainNorms]
public partial class LnTuningMicro;

/// <summary>
/// Micro ViT — Convpass (Jie and Deng 2022): a bottleneck-8 convolutional bypass over the patch grid beside attention
/// and beside the MLP of every block, scale 1, identity-initialised convolution.
/// </summary>
[VisionTransformer(VitPreset.Micro)]
[Convpass]
public partial class ConvpassMicro;
