namespace Pvp.Generators;

/// <summary>Names of the pipeline's tracked steps (asserted by the incremental-caching tests).</summary>
public static class TrackingNames
{
    /// <summary>Syntax and attributes → <c>VariantDeclaration</c>.</summary>
    public const string Parse = "Pvp.Parse";
    /// <summary><c>VariantDeclaration</c> → spec and diagnostics.</summary>
    public const string Validate = "Pvp.Validate";
    /// <summary>Spec → generated source.</summary>
    public const string Emit = "Pvp.Emit";
    /// <summary>PETuning attributes on a class without a backbone.</summary>
    public const string Orphans = "Pvp.Orphans";
}
