using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace Pvp.Generators.Model;

/// <summary>How numbers and block sets are written, in code, messages and the model card alike.</summary>
internal static class Format
{
    /// <summary>A double as C# and people read it back exactly ("0.1", "1E-05").</summary>
    public static string Num(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>
    /// The layers a <c>LoraTargets</c> value names, as messages and the card write them: "q, v, attn.proj".
    /// </summary>
    public static string LoraTargets(Pvp.LoraTargets targets) => string.Join(", ", new[]
    {
        (Pvp.LoraTargets.Query, "q"), (Pvp.LoraTargets.Key, "k"), (Pvp.LoraTargets.Value, "v"),
        (Pvp.LoraTargets.Output, "attn.proj"),
        (Pvp.LoraTargets.MlpFc1, "mlp.fc1"), (Pvp.LoraTargets.MlpFc2, "mlp.fc2"),
    }.Where(p => (targets & p.Item1) != 0).Select(p => p.Item2));

    /// <summary>Block indices as ranges: "0–5, 8".</summary>
    public static string Ranges(IEnumerable<int> indices)
    {
        var sorted = indices.OrderBy(i => i).ToList();
        var parts = new List<string>();
        for (int i = 0; i < sorted.Count;)
        {
            int j = i;
            while (j + 1 < sorted.Count && sorted[j + 1] == sorted[j] + 1) j++;
            parts.Add(j == i ? $"{sorted[i]}" : $"{sorted[i]}–{sorted[j]}");
            i = j + 1;
        }
        return string.Join(", ", parts);
    }
}
