// Compiled into the runtime and, as internal types, into the generator (PVP_GENERATOR): one source of truth for both.
using System;

namespace Pvp;

/// <summary>
/// Declares that a partial class is a Vision Transformer (timm's <c>VisionTransformer</c>, class-token pooling)
/// whose TorchSharp module code the Pvp generator writes at compile time.
/// </summary>
/// <remarks>
/// Use a <see cref="VitPreset"/>, or give the sizes explicitly:
/// <code>
/// [VisionTransformer(VitPreset.Base16)]
/// public partial class MyVit;
///
/// [VisionTransformer(ImageSize = 32, PatchSize = 4, EmbedDim = 64, Depth = 3, Heads = 4)]
/// public partial class TinyVit;
/// </code>
/// With a preset, only <see cref="ImageSize"/> may differ from the preset's value (fine-tuning at another
/// resolution); any other explicit value that contradicts the preset is compile error PVP006.
/// Without a preset, <see cref="EmbedDim"/>, <see cref="Depth"/> and <see cref="Heads"/> are required.
/// </remarks>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
#if PVP_GENERATOR
internal
#else
public
#endif
sealed class VisionTransformerAttribute : Attribute
{
    /// <summary>A backbone whose sizes are all given by named arguments.</summary>
    public VisionTransformerAttribute() { }

    /// <summary>A well-known backbone.</summary>
    /// <param name="preset">The preset whose sizes to use.</param>
    public VisionTransformerAttribute(VitPreset preset) => Preset = preset;

    /// <summary>The preset, or <see cref="VitPreset.None"/>.</summary>
    public VitPreset Preset { get; }

    /// <summary>Height and width of the (square) input image in pixels. Default 224.</summary>
    public int ImageSize { get; set; } = 224;

    /// <summary>Side of the square patches the image is cut into. Default 16.</summary>
    public int PatchSize { get; set; } = 16;

    /// <summary>Colour channels of the input. Default 3.</summary>
    public int InChannels { get; set; } = 3;

    /// <summary>Token width D (timm's <c>embed_dim</c>).</summary>
    public int EmbedDim { get; set; }

    /// <summary>Number of transformer blocks.</summary>
    public int Depth { get; set; }

    /// <summary>Attention heads per block; must divide <see cref="EmbedDim"/>.</summary>
    public int Heads { get; set; }

    /// <summary>Hidden width of each MLP as a multiple of <see cref="EmbedDim"/>. Default 4.</summary>
    public double MlpRatio { get; set; } = 4.0;

    /// <summary>Whether the fused qkv projection has a bias. Default true (as timm).</summary>
    public bool QkvBias { get; set; } = true;

    /// <summary>
    /// Where the frozen backbone computes: <see cref="PrecisionPlan.Float32"/> (default) or
    /// <see cref="PrecisionPlan.BackboneBf16"/>.
    /// </summary>
    public PrecisionPlan Precision { get; set; }
}
