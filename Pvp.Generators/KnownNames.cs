namespace Pvp.Generators;

/// <summary>
/// Metadata names of the runtime's types. The generator never references Pvp.Runtime; it knows these names.
/// </summary>
internal static class KnownNames
{
    public const string VisionTransformerAttribute = "Pvp.VisionTransformerAttribute";
}

/// <summary>Names of the pipeline's tracked steps (asserted by the incremental-caching tests).</summary>
public static class TrackingNames
{
    /// <summary>Syntax and attributes → <c>VariantDeclaration</c>.</summary>
    public const string Parse = "Pvp.Parse";
    /// <summary><c>VariantDeclaration</c> → spec and diagnostics.</summary>
    public const string Validate = "Pvp.Validate";
    /// <summary>Spec → generated source.</summary>
    public const string Emit = "Pvp.Emit";
}
