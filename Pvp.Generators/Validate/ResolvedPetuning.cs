using Pvp.Generators.Model;

namespace Pvp.Generators.Validate;

/// <summary>A valid <c>[Lora]</c> with every default applied.</summary>
/// <param name="Order">Its position among the declaration's <c>[Lora]</c> attributes (which claim came first).</param>
internal sealed record ResolvedLora(int Order, int Rank, double Alpha, int Targets, double Dropout, BlockRange Range, LocationInfo? Location);

/// <summary>A valid <c>[Adapter]</c> with its design's defaults applied.</summary>
internal sealed record ResolvedAdapter(AdapterPlacement Placement, int Bottleneck, double Scale, double Dropout, bool NormInput, BlockRange Range, LocationInfo? Location)
{
    /// <summary>The block sites the design occupies.</summary>
    public AttachSite[] Sites => Placement switch
    {
        AdapterPlacement.AdaptFormer => new[] { AttachSite.BesideMlp },
        AdapterPlacement.Houlsby => new[] { AttachSite.AfterAttention, AttachSite.AfterMlp },
        _ => new[] { AttachSite.AfterMlp },
    };
}

/// <summary>A valid <c>[Attach]</c>: the user's module type at a site of a range of blocks.</summary>
internal sealed record ResolvedAttachment(string TypeFullName, string TypeName, AttachSite Site, BlockRange Range, LocationInfo? Location);

/// <summary>A valid <c>[Ssf]</c>: the blocks whose operations it scales and shifts.</summary>
internal sealed record ResolvedSsf(BlockRange Range, LocationInfo? Location);

/// <summary>
/// The validate step's reading of the PETuning attributes: each valid attribute with its defaults applied, what trains,
/// and the groups' scales. Invalid attributes are left out (their diagnostics say why).
/// </summary>
internal sealed record ResolvedPetuning(
    PromptSpec? Prompts,
    EquatableArray<ResolvedLora> Loras,
    EquatableArray<ResolvedAdapter> Adapters,
    EquatableArray<ResolvedAttachment> Attachments,
    EquatableArray<ResolvedSsf> Ssfs,
    EquatableArray<string> Markers,
    int TrainableKinds,
    EquatableArray<ScaleEntry> LearningRateScales,
    bool DecayPrompts);
