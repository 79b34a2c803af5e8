using Microsoft.CodeAnalysis;

namespace Pvp.Generators.Diagnostics;

/// <summary>
/// Every diagnostic the Pvp generator reports. Ids are stable: never renumber or reuse one.
/// </summary>
public static class DiagnosticCatalog
{
    private const string Category = "Pvp";

    /// <summary>PVP001: the annotated class is not partial.</summary>
    public static readonly DiagnosticDescriptor NotPartial = new(
        "PVP001", "Model class must be partial",
        "'{0}' must be declared 'partial' so that Pvp can generate its model code; add the 'partial' modifier",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>PVP002: the class has a shape the generator does not support (nested, generic, record, static, abstract).</summary>
    public static readonly DiagnosticDescriptor UnsupportedShape = new(
        "PVP002", "Unsupported model class shape",
        "Pvp cannot generate '{0}' because {1}; declare it as a non-generic, non-static partial class directly in a namespace",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>PVP003: the head count does not divide the embedding width.</summary>
    public static readonly DiagnosticDescriptor HeadsDoNotDivideWidth = new(
        "PVP003", "Heads must divide the embedding width",
        "Heads = {0} does not divide EmbedDim = {1}; choose a head count that divides the width, for example {2}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>PVP004: a size is zero or negative.</summary>
    public static readonly DiagnosticDescriptor NonPositiveSize = new(
        "PVP004", "Sizes must be positive",
        "{0} = {1} must be positive",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>PVP005: the image is not cut evenly into patches.</summary>
    public static readonly DiagnosticDescriptor ImageNotDivisibleByPatch = new(
        "PVP005", "Image size must be a multiple of the patch size",
        "ImageSize = {0} is not a multiple of PatchSize = {1}; use an image size such as {2}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>PVP006: an explicit value contradicts the preset.</summary>
    public static readonly DiagnosticDescriptor ContradictsPreset = new(
        "PVP006", "Explicit size contradicts the preset",
        "{0} = {1} contradicts preset {2}, whose {0} is {3}; remove the argument, or the preset and give every size",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>PVP007: without a preset a required size is missing.</summary>
    public static readonly DiagnosticDescriptor MissingSize = new(
        "PVP007", "Backbone size missing",
        "Without a preset, {0} must be given (for example [VisionTransformer(EmbedDim = 192, Depth = 12, Heads = 3)] or [VisionTransformer(VitPreset.Tiny16)])",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>PVP008: the preset value is not one the generator knows.</summary>
    public static readonly DiagnosticDescriptor UnknownPreset = new(
        "PVP008", "Unknown ViT preset",
        "{0} is not a known VitPreset; use Tiny16, Small16, Base16 or Large16",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
}
