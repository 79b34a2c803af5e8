using Pvp.Generators.Methods;

namespace Pvp.Generators.Model;

/// <summary>A value written in an attribute argument, with where it was written.</summary>
internal sealed record Declared<T>(T Value, LocationInfo? Location);

/// <summary>
/// What a <c>[VisionTransformer]</c> attribute says, exactly as written: the preset and each explicit named
/// argument (null where absent). Nothing is resolved or checked yet; that is the validator's job.
/// </summary>
internal sealed record BackboneDeclaration(
    LocationInfo? AttributeLocation,
    Declared<int>? Preset,
    Declared<int>? ImageSize,
    Declared<int>? PatchSize,
    Declared<int>? InChannels,
    Declared<int>? EmbedDim,
    Declared<int>? Depth,
    Declared<int>? Heads,
    Declared<double>? MlpRatio,
    Declared<bool>? QkvBias,
    Declared<PrecisionPlan>? Precision);

/// <summary>
/// The parse step's output for one annotated class: its name and shape as facts, plus its backbone declaration.
/// Holds only values (no symbols, syntax or compilation), so the pipeline can cache it.
/// </summary>
/// <param name="Namespace">The containing namespace, or null for the global namespace.</param>
/// <param name="ClassName">The class name.</param>
/// <param name="Location">The class identifier.</param>
/// <param name="IsPartial">Whether the declaration carries the <c>partial</c> modifier.</param>
/// <param name="UnsupportedShape">Why the type cannot be generated (nested, generic, …), or null.</param>
/// <param name="Backbone">The backbone attribute as written.</param>
/// <param name="Prompts">Each <c>[Prompts]</c>.</param>
/// <param name="Loras">Each <c>[Lora]</c>.</param>
/// <param name="SiteMethods">Each site method's attribute, in source order.</param>
/// <param name="Markers">Each argument-less attribute, in source order.</param>
internal sealed record VariantDeclaration(
    string? Namespace,
    string ClassName,
    LocationInfo? Location,
    bool IsPartial,
    string? UnsupportedShape,
    BackboneDeclaration Backbone,
    EquatableArray<PromptsDeclaration> Prompts,
    EquatableArray<LoraDeclaration> Loras,
    EquatableArray<SiteMethodDeclaration> SiteMethods,
    EquatableArray<MarkerDeclaration> Markers);
