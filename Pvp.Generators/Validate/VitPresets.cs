namespace Pvp.Generators.Validate;

/// <summary>The sizes of a preset (mirrors the runtime's <c>VitPreset</c> by numeric value).</summary>
internal sealed record VitPresetSizes(string Name, int ImageSize, int PatchSize, int EmbedDim, int Depth, int Heads, double MlpRatio);

internal static class VitPresets
{
    /// <summary>timm's vit_{tiny,small,base,large}_patch16_224.</summary>
    public static VitPresetSizes? Find(int value) => value switch
    {
        1 => new("Tiny16", 224, 16, 192, 12, 3, 4.0),
        2 => new("Small16", 224, 16, 384, 12, 6, 4.0),
        3 => new("Base16", 224, 16, 768, 12, 12, 4.0),
        4 => new("Large16", 224, 16, 1024, 24, 16, 4.0),
        _ => null,
    };
}
