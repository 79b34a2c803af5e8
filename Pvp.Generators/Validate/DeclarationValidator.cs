using System.Collections.Generic;
using System.Linq;
using Pvp.Generators.Diagnostics;
using Pvp.Generators.Model;

namespace Pvp.Generators.Validate;

/// <summary>
/// The validate step for the backbone: resolves a declaration's sizes (explicit value, else preset, else default) and
/// its precision plan, and reports every rule they break at the argument that broke it.
/// </summary>
internal static class DeclarationValidator
{
    // The attribute's own property defaults (the runtime's class, compiled in).
    private static readonly VisionTransformerAttribute Defaults = new();
    private static readonly int DefaultImageSize = Defaults.ImageSize;
    private static readonly int DefaultPatchSize = Defaults.PatchSize;
    private static readonly int DefaultInChannels = Defaults.InChannels;
    private static readonly double DefaultMlpRatio = Defaults.MlpRatio;

    /// <summary>
    /// The class's shape and its backbone: null when the backbone cannot be resolved (nothing else can be judged then).
    /// </summary>
    public static BackboneSpec? ValidateBackbone(VariantDeclaration declaration, List<DiagnosticInfo> diagnostics)
    {
        if (!declaration.IsPartial)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticCatalog.NotPartial, declaration.Location,
                declaration.ClassName));
        if (declaration.UnsupportedShape is { } shape)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticCatalog.UnsupportedShape, declaration.Location,
                declaration.ClassName, shape));
        return ResolveBackbone(declaration.Backbone, diagnostics);
    }

    /// <summary>The precision plan: bf16 allowed only when nothing in the backbone trains (PVP020).</summary>
    public static BackboneSpec ValidatePrecision(VariantDeclaration declaration, BackboneSpec backbone,
        EquatableArray<string> trainableKinds, List<DiagnosticInfo> diagnostics)
    {
        if (declaration.Backbone.Precision is not { } precision) return backbone;
        if (precision.Value is not (PrecisionPlan.Float32 or PrecisionPlan.BackboneBf16))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticCatalog.ValueOutOfRange, precision.Location, "Precision",
                (int)precision.Value, "Float32 or BackboneBf16"));
            return backbone;
        }
        if (precision.Value != PrecisionPlan.BackboneBf16) return backbone;
        if (!trainableKinds.Any(kind => kind is KindNames.Backbone or KindNames.Biases or KindNames.Norms))
            return backbone with { BackboneBf16 = true };
        string culprit = declaration.Markers.FirstOrDefault(m =>
                m.Name is KnownNames.FullFineTuneAttribute or KnownNames.TrainBiasAttribute or KnownNames.TrainNormsAttribute)
            is { } marker
            ? $"[{KnownNames.ShortName(marker.Name)}]"
            : "a declaration without PETuning attributes (a plain backbone, which trains everything)";
        diagnostics.Add(DiagnosticInfo.Create(DiagnosticCatalog.PrecisionNeedsFrozenBackbone, precision.Location,
            culprit));
        return backbone;
    }

    private static BackboneSpec? ResolveBackbone(BackboneDeclaration d, List<DiagnosticInfo> diagnostics)
    {
        int errorsBefore = diagnostics.Count;
        NamedPreset? preset = null;
        if (d.Preset is { Value: not 0 } presetArg)
        {
            preset = VitPresets.Find(presetArg.Value);
            if (preset is null)
            {
                // Nothing else can be judged without knowing which sizes were meant.
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticCatalog.UnknownPreset,
                    presetArg.Location ?? d.AttributeLocation, presetArg.Value));
                return null;
            }
        }

        // ImageSize may differ from the preset on purpose (tuning at another resolution); other sizes may not.
        int imageSize = Resolve(d.ImageSize, preset?.ImageSize, DefaultImageSize, "ImageSize", preset,
            checkPreset: false, d, diagnostics);
        int patchSize = Resolve(d.PatchSize, preset?.PatchSize, DefaultPatchSize, "PatchSize", preset,
            checkPreset: true, d, diagnostics);
        int inChannels = Resolve(d.InChannels, null, DefaultInChannels, "InChannels", preset, checkPreset: false, d,
            diagnostics);
        int embedDim = Resolve(d.EmbedDim, preset?.EmbedDim, null, "EmbedDim", preset, checkPreset: true, d,
            diagnostics);
        int depth = Resolve(d.Depth, preset?.Depth, null, "Depth", preset, checkPreset: true, d, diagnostics);
        int heads = Resolve(d.Heads, preset?.Heads, null, "Heads", preset, checkPreset: true, d, diagnostics);
        double mlpRatio = d.MlpRatio?.Value ?? preset?.MlpRatio ?? DefaultMlpRatio;
        if (preset is not null && d.MlpRatio is { } ratioArg && ratioArg.Value != preset.MlpRatio)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticCatalog.ContradictsPreset, ratioArg.Location, "MlpRatio",
                ratioArg.Value, preset.Name, preset.MlpRatio));
        if (preset is not null && d.QkvBias is { Value: false } biasArg)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticCatalog.ContradictsPreset, biasArg.Location, "QkvBias",
                "false", preset.Name, "true"));
        if (!(mlpRatio > 0))
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticCatalog.NonPositiveSize,
                d.MlpRatio?.Location ?? d.AttributeLocation, "MlpRatio", mlpRatio));

        if (diagnostics.Count > errorsBefore) return null;

        if (embedDim % heads != 0)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticCatalog.HeadsDoNotDivideWidth,
                d.Heads?.Location ?? d.EmbedDim?.Location ?? d.AttributeLocation, heads, embedDim,
                LargestDivisorAtMost(embedDim, heads)));
        if (imageSize % patchSize != 0)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticCatalog.ImageNotDivisibleByPatch,
                d.ImageSize?.Location ?? d.PatchSize?.Location ?? d.AttributeLocation, imageSize, patchSize,
                (imageSize / patchSize + 1) * patchSize));
        int mlpHidden = (int)(embedDim * mlpRatio); // timm: int(embed_dim * mlp_ratio)
        if (mlpHidden <= 0)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticCatalog.NonPositiveSize,
                d.MlpRatio?.Location ?? d.AttributeLocation, "EmbedDim × MlpRatio", mlpHidden));
        if (diagnostics.Count > errorsBefore) return null;

        return new BackboneSpec(imageSize, patchSize, inChannels, embedDim, depth, heads, mlpHidden,
            d.QkvBias?.Value ?? Defaults.QkvBias, preset?.Name);
    }

    /// <summary>
    /// Explicit value, else the preset's, else the default; reports a missing, contradicting or non-positive value.
    /// </summary>
    private static int Resolve(Declared<int>? explicitValue, int? presetValue, int? defaultValue, string name,
        NamedPreset? preset, bool checkPreset, BackboneDeclaration d, List<DiagnosticInfo> diagnostics)
    {
        if (explicitValue is not null && checkPreset && presetValue is { } fromPreset
            && explicitValue.Value != fromPreset)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticCatalog.ContradictsPreset, explicitValue.Location, name,
                explicitValue.Value, preset!.Name, fromPreset));
            return fromPreset;
        }
        int? value = explicitValue?.Value ?? presetValue ?? defaultValue;
        if (value is null)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticCatalog.MissingSize, d.AttributeLocation, name));
            return 1;
        }
        if (value <= 0)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticCatalog.NonPositiveSize,
                explicitValue?.Location ?? d.AttributeLocation, name, value));
            return 1;
        }
        return value.Value;
    }

    private static int LargestDivisorAtMost(int width, int limit)
    {
        for (int h = System.Math.Min(limit, width); h > 1; h--)
            if (width % h == 0) return h;
        return 1;
    }
}
