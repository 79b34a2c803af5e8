namespace Pvp.Generators.Layout;

/// <summary>What each block site is, as the layout checks it and messages, comments and the card describe it.</summary>
internal static class BlockSites
{
    /// <summary>Whether <paramref name="site"/> is one the generator knows.</summary>
    public static bool IsKnown(AttachSite site) => site is >= AttachSite.BlockInput and <= AttachSite.KeysValues;

    /// <summary>
    /// Whether a module may join at <paramref name="site"/> as <paramref name="combine"/> says: beside the MLP a module
    /// adds to the MLP's output, beside attention to attention's; elsewhere it replaces or adds to the value.
    /// </summary>
    public static bool Accepts(AttachSite site, SiteCombine combine) => site switch
    {
        AttachSite.BesideMlp => combine is SiteCombine.Beside or SiteCombine.BesideStream,
        AttachSite.KeysValues => combine == SiteCombine.Replace, // its output may be longer than its input
        AttachSite.BesideAttention => combine is SiteCombine.Beside,
        _ => combine is SiteCombine.Replace or SiteCombine.Residual,
    };

    /// <summary>The combine a module takes at <paramref name="site"/> when its declaration names none.</summary>
    public static SiteCombine DefaultCombine(AttachSite site)
        => site is AttachSite.BesideMlp or AttachSite.BesideAttention ? SiteCombine.Beside : SiteCombine.Replace;

    /// <summary>The combine modes <paramref name="site"/> accepts, for messages.</summary>
    public static string AcceptedCombines(AttachSite site) => site switch
    {
        AttachSite.BesideMlp => "Beside or BesideStream",
        AttachSite.BesideAttention => "Beside",
        AttachSite.KeysValues => "Replace",
        _ => "Replace or Residual",
    };

    /// <summary>
    /// The block's field a module at <paramref name="site"/> sits inside and is handed to (<c>attn</c> or <c>mlp</c>,
    /// also its state-dict segment); null for a site of the block itself.
    /// </summary>
    public static string? InnerLayer(AttachSite site) => site switch
    {
        AttachSite.AfterQkv or AttachSite.KeysValues => "attn",
        AttachSite.AfterFc1 or AttachSite.AfterActivation => "mlp",
        _ => null,
    };

    /// <summary>Whether the module sits inside attention or the MLP (the block hands it to them).</summary>
    public static bool IsInner(AttachSite site) => InnerLayer(site) is not null;

    /// <summary>For the forward's comments: "on the block input", "after attention".</summary>
    public static string Phrase(AttachSite site) => site switch
    {
        AttachSite.BlockInput => "on the block input",
        AttachSite.AfterNorm1 => "after norm1",
        AttachSite.AfterQkv => "after the qkv projection",
        AttachSite.KeysValues => "on the keys and values",
        AttachSite.AfterProj => "after the attention projection",
        AttachSite.BesideAttention => "beside attention",
        AttachSite.AfterAttention => "after attention",
        AttachSite.AfterNorm2 => "after norm2",
        AttachSite.AfterFc1 => "after fc1",
        AttachSite.AfterActivation => "after the MLP's activation",
        AttachSite.AfterFc2 => "after fc2",
        AttachSite.BesideMlp => "beside the MLP",
        AttachSite.AfterMlp => "after the MLP",
        _ => "on the block output",
    };

    /// <summary>For the model card, before "of blocks ...": "after the attention", "on the input".</summary>
    public static string CardPhrase(AttachSite site) => site switch
    {
        AttachSite.BlockInput => "on the input",
        AttachSite.AfterAttention => "after the attention",
        AttachSite.BlockOutput => "on the output",
        _ => Phrase(site),
    };
}
