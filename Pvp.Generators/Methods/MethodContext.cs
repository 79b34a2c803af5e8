using System.Collections.Generic;

namespace Pvp.Generators.Methods;

/// <summary>
/// What a site method is told when the generator reads it: the backbone's widths and which properties were written.
/// </summary>
/// <param name="EmbedDim">Token width D.</param>
/// <param name="MlpHidden">The MLP's hidden width.</param>
/// <param name="GridSize">The patch grid's side (image size / patch size).</param>
/// <param name="Heads">The attention's number of heads.</param>
/// <param name="Declared">
/// The attribute's properties written in the declaration (an unset one takes the method's default).
/// </param>
internal sealed record MethodContext(int EmbedDim, int MlpHidden, int GridSize, int Heads, IReadOnlyCollection<string> Declared)
{
    /// <summary>The width of the values at <paramref name="site"/>.</summary>
    public int WidthAt(AttachSite site) => site switch
    {
        AttachSite.AfterQkv => 3 * EmbedDim,
        AttachSite.KeysValues => 2 * EmbedDim,
        AttachSite.AfterFc1 or AttachSite.AfterActivation => MlpHidden,
        _ => EmbedDim,
    };

    /// <summary>Whether <paramref name="property"/> was written.</summary>
    public bool IsDeclared(string property) => System.Linq.Enumerable.Contains(Declared, property);
}
