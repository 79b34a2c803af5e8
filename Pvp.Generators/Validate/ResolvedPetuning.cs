using Pvp.Generators.Methods;
using Pvp.Generators.Model;

namespace Pvp.Generators.Validate;

/// <summary>A valid site method: what it is, read with the backbone's widths, over which blocks.</summary>
/// <param name="ShortName">Its attribute's name, as messages write it.</param>
/// <param name="Method">The method.</param>
/// <param name="Context">What it is read with.</param>
/// <param name="Range">Its blocks.</param>
/// <param name="Location">Its attribute.</param>
internal sealed record ResolvedSiteMethod(string ShortName, Methods.ISiteMethod Method, Methods.MethodContext Context,
    BlockRange Range, LocationInfo? Location);

/// <summary>
/// The validate step's reading of the PETuning attributes: each valid attribute with its defaults applied, what trains,
/// and the groups' scales. Invalid attributes are left out (their diagnostics say why).
/// </summary>
internal sealed record ResolvedPetuning(
    PromptSpec? Prompts,
    EquatableArray<ResolvedLora> Loras,
    EquatableArray<ResolvedSiteMethod> SiteMethods,
    EquatableArray<string> Markers,
    EquatableArray<string> TrainableKinds,
    EquatableArray<ScaleEntry> LearningRateScales,
    bool DecayPrompts);
