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

    /// <summary>
    /// PVP002: the class has a shape the generator does not support (nested, generic, record, static, abstract).
    /// </summary>
    public static readonly DiagnosticDescriptor UnsupportedShape = new(
        "PVP002", "Unsupported model class shape",
        "Pvp cannot generate '{0}' because {1}; declare it as a non-generic, " +
        "non-static partial class directly in a namespace",
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
        "Without a preset, {0} must be given (for example [VisionTransformer(EmbedDim = 192, Depth = 12, " +
        "Heads = 3)] or [VisionTransformer(VitPreset.Tiny16)])",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>PVP008: the preset value is not one the generator knows.</summary>
    public static readonly DiagnosticDescriptor UnknownPreset = new(
        "PVP008", "Unknown ViT preset",
        "{0} is not a known VitPreset; use Tiny16, Small16, Base16 or Large16",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>PVP009: a block range selects blocks the backbone does not have, or none.</summary>
    public static readonly DiagnosticDescriptor BlockRangeOutsideDepth = new(
        "PVP009", "Block range outside the backbone",
        "Blocks = \"{0}\" selects {1}, but the backbone has blocks 0 to {2}; choose a non-empty range inside them",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>PVP010: a block range does not parse.</summary>
    public static readonly DiagnosticDescriptor InvalidBlockRange = new(
        "PVP010", "Invalid block range",
        "Blocks = \"{0}\" is not a block range; use C# range syntax such as \"0..12\", \"6..\", \"..^2\", " +
        "or one index such as \"3\"",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>PVP011: the LoRA rank is not in 1..width.</summary>
    public static readonly DiagnosticDescriptor InvalidLoraRank = new(
        "PVP011", "Invalid LoRA rank",
        "Rank = {0} must be at least 1 and at most the layer width {1}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>PVP012: the prompt length is not positive.</summary>
    public static readonly DiagnosticDescriptor InvalidPromptLength = new(
        "PVP012", "Invalid prompt length",
        "Length = {0} must be at least 1 prompt token",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>PVP013: an attached type is not an attachment module.</summary>
    public static readonly DiagnosticDescriptor NotAnAttachment = new(
        "PVP013", "Attached type is not an attachment",
        "'{0}' cannot be attached: " +
        "it must derive from TorchSharp's nn.Module<Tensor, Tensor> and implement Pvp.IPetAttachment",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>PVP014: attributes whose training scopes contradict each other.</summary>
    public static readonly DiagnosticDescriptor ScopeConflict = new(
        "PVP014", "Contradictory training scope",
        "[{0}] cannot be combined with [{1}]: {2}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>PVP015: an attached type cannot be constructed by generated code.</summary>
    public static readonly DiagnosticDescriptor AttachmentNotConstructible = new(
        "PVP015", "Attached type cannot be constructed",
        "'{0}' cannot be constructed by the generated model: give it a public constructor taking Pvp.AttachContext, " +
        "and make it a non-abstract, non-generic class",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>PVP016: two attributes claim one layer or site of one block.</summary>
    public static readonly DiagnosticDescriptor ConflictingClaims = new(
        "PVP016", "Conflicting claims on one site",
        "{0} of {1} is already claimed by another attribute; give each layer or site of a block to one module",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>PVP017: PETuning attributes without a backbone.</summary>
    public static readonly DiagnosticDescriptor NoBackbone = new(
        "PVP017", "PETuning module without a backbone",
        "'{0}' declares [{1}] but no backbone; add [VisionTransformer(...)] to the class",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>PVP018: an attribute that may appear once appears again.</summary>
    public static readonly DiagnosticDescriptor DuplicateAttribute = new(
        "PVP018", "Duplicate attribute",
        "[{0}] appears more than once on '{1}'; declare it once",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>PVP020: a bf16 backbone plan on a declaration that trains part of the backbone.</summary>
    public static readonly DiagnosticDescriptor PrecisionNeedsFrozenBackbone = new(
        "PVP020", "Precision plan needs a frozen backbone",
        "Precision = BackboneBf16 keeps the backbone frozen in bfloat16, but {0} trains backbone parameters; " +
        "drop one of them or declare PETuning modules",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>PVP019: a value outside its allowed range.</summary>
    public static readonly DiagnosticDescriptor ValueOutOfRange = new(
        "PVP019", "Value out of range",
        "{0} = {1} is out of range: it must be {2}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>PVP021: a site method's descriptor misses something the generator needs.</summary>
    public static readonly DiagnosticDescriptor IncompleteMethod = new(
        "PVP021", "Incomplete PETuning method",
        "[{0}] cannot be placed: its [SiteMethod] {1}; {2}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>
    /// PVP022: a method names a site it cannot act at, or joins a site in a way the site does not take.
    /// </summary>
    public static readonly DiagnosticDescriptor SiteNotActable = new(
        "PVP022", "Method cannot act at that site",
        "[{0}] cannot act at {1}: {2}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>PVP023: a method's kind name is owned by another method or by the backbone.</summary>
    public static readonly DiagnosticDescriptor KindNameTaken = new(
        "PVP023", "Kind name owned by another method",
        "[{0}] declares kind '{1}', which {2} owns; give the method a kind name of its own " +
        "(its parameter group and freezing class)",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
}
