// Compiled into the runtime and, as internal types, into the generator (PVP_GENERATOR): one source of truth for both.
namespace Pvp;

/// <summary>
/// The kind names of the backbone's own parameters. A PETuning method's parameters have its kind name instead (its
/// attribute's <c>KindName</c>, or a <see cref="SiteMethodAttribute"/>'s <c>Kind</c>): kind names are the parameter
/// groups and the freezing classes.
/// </summary>
#if PVP_GENERATOR
internal
#else
public
#endif
static class KindNames
{
    /// <summary>The classification head.</summary>
    public const string Head = "head";

    /// <summary>LayerNorm weights and biases of the backbone.</summary>
    public const string Norms = "norms";

    /// <summary>Biases of the backbone (BitFit's set), LayerNorm biases included.</summary>
    public const string Biases = "biases";

    /// <summary>Every other backbone weight (patch embedding, blocks, final norm, tokens).</summary>
    public const string Backbone = "backbone";

    /// <summary>
    /// Whether <paramref name="kind"/> is one of the backbone's (or the head's) kinds, which no method may take.
    /// </summary>
    public static bool IsBackbone(string kind) => kind is Head or Norms or Biases or Backbone;
}
