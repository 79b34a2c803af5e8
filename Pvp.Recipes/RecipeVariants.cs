using YamlDotNet.RepresentationModel;

namespace Pvp.Recipes;

/// <summary>
/// Reads which variants a recipe runs: <c>variant: NAME</c> (one variant, the run folder laid out as ever) or
/// <c>variants: [A, B, …]</c> (methods side by side: one backbone, a stage 1 and a stage-2 grid per variant, every
/// cell id and folder naming its variant). Checks the names' form, duplicates, and — for the variants already
/// registered — that they exist and share one backbone (it is made or loaded once for all of them).
/// </summary>
internal static class RecipeVariants
{
    /// <summary>The variants as the recipe names them, each with where (<c>file:line:column</c>).</summary>
    /// <param name="Names">The variants, in the recipe's order.</param>
    /// <param name="Marks">Where each is named.</param>
    /// <param name="Listed">Whether the recipe used <c>variants:</c> (cell ids and folders then name the variant).</param>
    public sealed record Named(IReadOnlyList<string> Names, IReadOnlyList<string> Marks, bool Listed);

    /// <summary>What a name must look like: it is a folder under <c>stage1/</c> and <c>stage2/</c> and part of cell ids.</summary>
    private static readonly System.Text.RegularExpressions.Regex Form = new("^[A-Za-z_][A-Za-z0-9_]{0,127}$");

    /// <summary>Reads <c>variant:</c> or <c>variants:</c> from the recipe's top level.</summary>
    /// <exception cref="RecipeException">Both keys, neither, an empty or malformed list, a duplicate.</exception>
    public static Named Read(YamlSection root, string path)
    {
        string At(YamlNode node) => $"{path}:{node.Start.Line}:{node.Start.Column}";
        root.Expect("variant", "variants");
        bool single = root.Has("variant"), listed = root.Has("variants");
        if (single && listed)
            throw root.Error(root.NodeOf("variants")!,
                "variant: and variants: are both given; a recipe names one variant with 'variant: NAME' or several " +
                "side by side with 'variants: [A, B, …]': keep one of the two keys.");
        if (!listed)
        {
            string name = root.String("variant"); // missing: "missing key 'variant'", as ever
            var node = root.NodeOf("variant")!;
            return new Named(new[] { name }, new[] { At(node) }, Listed: false);
        }
        var value = root.NodeOf("variants")!;
        if (value is not YamlSequenceNode sequence)
            throw root.Error(value,
                "variants: expected a list of variant names, e.g. 'variants: [VptDeepMicro, LoraMicro]'; a single " +
                "variant can also be written 'variant: NAME'.");
        if (sequence.Children.Count == 0)
            throw root.Error(value, "variants: the list is empty; name at least one variant " +
                                    "('pvp variants' lists them), e.g. 'variants: [VptDeepMicro, LoraMicro]'.");
        var entries = root.StringList("variants");
        var seen = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        for (int i = 0; i < entries.Count; i++)
        {
            var (name, node) = entries[i];
            if (!Form.IsMatch(name))
                throw root.Error(node,
                    $"variants[{i}]: '{name}' is not a variant name (a class name: letters, digits and '_', not " +
                    "starting with a digit); it names folders and cell ids.");
            if (seen.TryGetValue(name, out var first))
                throw root.Error(node,
                    $"variants[{i}]: {name} is listed twice (first at {first.Start.Line}:{first.Start.Column}); " +
                    "each variant runs once: remove the repeat.");
            seen[name] = node;
        }
        return new Named(entries.Select(e => e.Value).ToList(), entries.Select(e => At(e.Node)).ToList(), Listed: true);
    }

    /// <summary>
    /// Every variant shares the first one's backbone: the backbone is pre-trained (or loaded) once, and every variant's
    /// stages load it. <paramref name="marks"/> are where the recipe names each.
    /// </summary>
    /// <exception cref="RecipeException">Two variants with different backbones; the message names both.</exception>
    public static void CheckSameBackbone(IReadOnlyList<string> variants, IReadOnlyList<string> marks)
    {
        if (variants.Count < 2) return;
        var first = VariantRegistry.Describe(variants[0]).Backbone;
        for (int i = 1; i < variants.Count; i++)
        {
            var backbone = VariantRegistry.Describe(variants[i]).Backbone;
            if (backbone != first)
                throw new RecipeException(
                    $"{marks[i]}: variants: {variants[i]} has backbone {backbone}, but {variants[0]} has {first}; the " +
                    "backbone is made or loaded once for every variant of a recipe, so all must declare the same one " +
                    "(same preset and sizes, e.g. all Micro or all B16). Give the others their own recipe.");
        }
    }
}
