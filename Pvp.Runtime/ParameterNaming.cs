namespace Pvp;

/// <summary>
/// The backbone's classes of parameters by their timm state-dict names, and which of them take weight decay.
/// </summary>
public static class ParameterNaming
{
    /// <summary>
    /// The kinds of a parameter no PETuning method owns, most specific first: <c>head</c> for the head; for the
    /// backbone <c>norms</c> (a LayerNorm's), then <c>biases</c> (a bias), then <c>backbone</c>.
    /// </summary>
    /// <param name="name">A state-dict key such as <c>blocks.3.norm1.bias</c>.</param>
    public static IReadOnlyList<string> BackboneKindsOf(string name)
    {
        string[] parts = name.Split('.');
        if (parts[0] == "head") return HeadKinds;
        bool norm = parts.Any(p => p is "norm" or "norm1" or "norm2"), bias = parts[^1] == "bias";
        return norm ? bias ? NormBias : NormWeight : bias ? Bias : Weight;
    }

    private static readonly string[] HeadKinds = { KindNames.Head };
    private static readonly string[] NormBias = { KindNames.Norms, KindNames.Biases, KindNames.Backbone };
    private static readonly string[] NormWeight = { KindNames.Norms, KindNames.Backbone };
    private static readonly string[] Bias = { KindNames.Biases, KindNames.Backbone };
    private static readonly string[] Weight = { KindNames.Backbone };

    /// <summary>
    /// Whether weight decay suits this parameter by its nature: never for biases, norms, 1-D tensors, tokens.
    /// </summary>
    /// <param name="name">Its state-dict key.</param>
    /// <param name="dimensions">Its number of dimensions.</param>
    /// <param name="kinds">Its kinds.</param>
    public static bool DecayByDefault(string name, long dimensions, IReadOnlyList<string> kinds) =>
        dimensions > 1
        && !kinds.Contains(KindNames.Biases) && !kinds.Contains(KindNames.Norms)
        && name is not ("cls_token" or "pos_embed");
}
