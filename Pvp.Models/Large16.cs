// The catalog: the well-known PETuning variants on ViT-L/16, each a few attributes.
namespace Pvp.Models;

/// <summary>ViT-L/16 — Linear probe: only the head trains.</summary>
[VisionTransformer(VitPreset.Large16)]
[LinearProbe]
public partial class LinearProbeL16;

/// <summary>ViT-L/16 — Full fine-tuning: every parameter trains (the usual upper baseline).</summary>
[VisionTransformer(VitPreset.Large16)]
[FullFineTune]
public partial class FullFineTuneL16;

/// <summary>ViT-L/16 — BitFit: the backbone's biases and the head train.</summary>
[VisionTransformer(VitPreset.Large16)]
[TrainBias]
public partial class BitFitL16;

/// <summary>ViT-L/16 — VPT-shallow: 50 prompt tokens before the first block.</summary>
[VisionTransformer(VitPreset.Large16)]
[Prompts(Length = 50)]
public partial class VptShallowL16;

/// <summary>ViT-L/16 — VPT-deep: 50 new prompt tokens at every block (the PVP paper's main variant).</summary>
[VisionTransformer(VitPreset.Large16)]
[Prompts(Length = 50, Deep = true)]
public partial class VptDeepL16;

/// <summary>ViT-L/16 — LoRA r = 8 on the query and value slices of every block's qkv.</summary>
[VisionTransformer(VitPreset.Large16)]
[Lora(Rank = 8, Alpha = 8, Targets = LoraTargets.Query | LoraTargets.Value)]
public partial class LoraL16;

/// <summary>ViT-L/16 — Pfeiffer adapter (after the MLP, as VPT's adapter baseline), bottleneck 8.</summary>
[VisionTransformer(VitPreset.Large16)]
[Adapter(Bottleneck = 8, Placement = AdapterPlacement.Pfeiffer)]
public partial class AdapterL16;

/// <summary>ViT-L/16 — AdaptFormer: a parallel adapter beside the MLP, bottleneck 8, scale 0.1.</summary>
[VisionTransformer(VitPreset.Large16)]
[Adapter(Bottleneck = 8, Placement = AdapterPlacement.AdaptFormer, Scale = 0.1)]
public partial class AdaptFormerL16;

/// <summary>
/// ViT-L/16 — A combination (NOAH-style): VPT-deep with 10 tokens,
/// and LoRA r = 8 on q and v of the second half of the blocks.
/// </summary>
[VisionTransformer(VitPreset.Large16)]
[Prompts(Length = 10, Deep = true)]
[Lora(Rank = 8, Targets = LoraTargets.Query | LoraTargets.Value, Blocks = "6..")]
public partial class VptDeepLoraL16;

/// <summary>
/// ViT-L/16 — SSF (Lian et al. 2022): scale and shift after norm1, attention, norm2 and the MLP of every block.
/// </summary>
[VisionTransformer(VitPreset.Large16)]
[Ssf]
public partial class SsfL16;

/// <summary>
/// ViT-L/16 — SSF's full form (its official code): also after the qkv projection and after fc1 of every block.
/// </summary>
[VisionTransformer(VitPreset.Large16)]
[Ssf(Full = true)]
public partial class SsfFullL16;

/// <summary>
/// ViT-L/16 — IA³ (Liu et al. 2022): learned vectors, initialised to 1, rescale the keys, the values and the MLP's
/// activation of every block.
/// </summary>
[VisionTransformer(VitPreset.Large16)]
[Ia3]
public partial class Ia3L16;

/// <summary>
/// ViT-L/16 — Adapter+ (Steitz and Roth 2024): a bottleneck-8 adapter with a channel-wise scale on each block's output,
/// Houlsby's initialisation, drop-path 0.1 on its branch.
/// </summary>
[VisionTransformer(VitPreset.Large16)]
[AdapterPlus]
public partial class AdapterPlusL16;

/// <summary>
/// ViT-L/16 — E2VPT's key-value prompts (Han et al. 2023): 5 learned key and value tokens, one shared tensor, before the
/// keys and values of every block's attention; the stream keeps its length.
/// </summary>
[VisionTransformer(VitPreset.Large16)]
[KvPrompts]
public partial class KvPromptsL16;

/// <summary>
/// ViT-L/16 — E2VPT without its pruning (Han et al. 2023; the reference's FGVC runs): VPT-deep with 5 prompt tokens and
/// prompt dropout 0.1, and 5 key-value prompts in every block's attention.
/// </summary>
[VisionTransformer(VitPreset.Large16)]
[Prompts(Length = 5, Deep = true, Dropout = 0.1)]
[KvPrompts]
public partial class E2vptL16;

/// <summary>
/// ViT-L/16 — DoRA (Liu et al. 2024): LoRA r 8, alpha 8 on q and v with a learned magnitude per output row.
/// </summary>
[VisionTransformer(VitPreset.Large16)]
[Lora(Rank = 8, Alpha = 8, Targets = LoraTargets.Query | LoraTargets.Value, UseDora = true)]
public partial class DoraL16;

/// <summary>
/// ViT-L/16 — LN-tuning (HF PEFT's <c>LN_TUNING</c>): every LayerNorm's weight and bias trains (norm1 and norm2 of each
/// block and the final norm), and the head.
/// </summary>
[VisionTransformer(VitPreset.Large16)]
[TrainNorms]
public partial class LnTuningL16;

/// <summary>
/// ViT-L/16 — Convpass (Jie and Deng 2022): a bottleneck-8 convolutional bypass over the patch grid beside attention
/// and beside the MLP of every block, scale 1, identity-initialised convolution.
/// </summary>
[VisionTransformer(VitPreset.Large16)]
[Convpass]
public partial class ConvpassL16;
