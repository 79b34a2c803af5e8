using System.Collections.Generic;
using System.Linq;
using System.Text;
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
        if (petuning.Prompts is { } prompts) lines.Add(Prompts(prompts, backbone.EmbedDim));
        lines.AddRange(petuning.Loras.Select(Methods.LoraMethod.CardLine));
        lines.AddRange(siteMethods.Select(m => m.Method.CardLine(m.Context, m.Range.Describe())));
        lines.AddRange(petuning.Markers.Select(Marker));
        return lines.ToEquatableArray();
    }

    private static string Prompts(PromptSpec spec, int d)
    {
        var line = new StringBuilder(spec.Deep && spec.DeepCount > 0 ? "VPT-deep: " : "VPT-shallow: ");
        line.Append($"{spec.Length} prompt tokens inserted before block {spec.FirstBlock}");
        if (spec.DeepCount > 0) line.Append($", replaced before blocks {spec.FirstBlock + 1} to {spec.LastBlock}");
        line.Append($" (prompt_embeddings [1, {spec.Length}, {d}]");
        if (spec.DeepCount > 0) line.Append($", deep_prompt_embeddings [{spec.DeepCount}, {spec.Length}, {d}]");
        line.Append(')');
        if (spec.Dropout > 0) line.Append($", dropout {Format.Num(spec.Dropout)}");
        return line.ToString();
    }

    private static string Marker(string attribute) => attribute switch
    {
        KnownNames.TrainBiasAttribute => "BitFit: every backbone bias trains",
        KnownNames.TrainNormsAttribute => "Every LayerNorm trains",
        KnownNames.LinearProbeAttribute => "Linear probe: only the head trains",
        _ => "Full fine-tune: every parameter trains",
    };
}
