using System.Collections.Generic;
using System.Linq;
using System.Text;
using Pvp.Generators.Methods;
using Pvp.Generators.Model;
using Pvp.Generators.Validate;

namespace Pvp.Generators.Card;

/// <summary>
/// The card step: one line of prose per declared attachment, for the model card and the generated comments.
/// </summary>
internal static class ModelCardLines
{
    public static EquatableArray<string> Write(
        ResolvedPetuning petuning, IEnumerable<ResolvedSiteMethod> siteMethods, BackboneSpec backbone)
    {
        var lines = new List<string>();
        if (petuning.Prompts is { } prompts) lines.Add(Methods.PromptMethod.CardLine(prompts, backbone.EmbedDim));
        lines.AddRange(petuning.Loras.Select(Methods.LoraMethod.CardLine));
        lines.AddRange(siteMethods.Select(m => m.Method.CardLine(m.Context, m.Range.Describe())));
        lines.AddRange(petuning.Markers.Select(Marker));
        return lines.ToEquatableArray();
    }

    private static string Marker(string attribute) => attribute switch
    {
        KnownNames.TrainBiasAttribute => "BitFit: every backbone bias trains",
        KnownNames.TrainNormsAttribute => "Every LayerNorm trains",
        KnownNames.LinearProbeAttribute => "Linear probe: only the head trains",
        _ => "Full fine-tune: every parameter trains",
    };
}
