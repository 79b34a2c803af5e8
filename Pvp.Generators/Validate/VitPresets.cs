namespace Pvp.Generators.Validate;

/// <summary>A preset's sizes with its name, as the diagnostics quote them.</summary>
internal sealed record NamedPreset(
    string Name, int ImageSize, int PatchSize, int EmbedDim, int Depth, int Heads, double MlpRatio);

/// <summary>
/// Presets by numeric value, from the runtime's <see cref="VitPresetSizes"/> table (compiled in: the one table).
/// </summary>
internal static class VitPresets
{
    /// <summary>The preset with numeric value <paramref name="value"/>, or null when there is none.</summary>
    public static NamedPreset? Find(int value) => VitPresetSizes.Of((VitPreset)value) is { } s
        ? new NamedPreset(((VitPreset)value).ToString(), s.ImageSize, s.PatchSize, s.EmbedDim, s.Depth, s.Heads,
            s.MlpRatio)
        : null;
}
