namespace Pvp.Tests.Model;

/// <summary>
/// The trainable parameter names each catalog variant must have, written from the methods' definitions (not from
/// the generator's classification code).
/// </summary>
internal static class ExpectedTrainable
{
    public static SortedSet<string> For(PetModel model)
    {
        string variant = model.VariantName;
        int depth = model.Backbone.Depth;
        var all = model.state_dict().Keys.ToList();
        var head = new[] { "head.weight", "head.bias" };
        IEnumerable<int> Blocks(int from = 0) => Enumerable.Range(from, depth - from);

        IEnumerable<string> names = variant switch
        {
            _ when variant.StartsWith("LinearProbe", StringComparison.Ordinal) => head,
            _ when variant.StartsWith("FullFineTune", StringComparison.Ordinal) => all,
            _ when variant.StartsWith("BitFit", StringComparison.Ordinal) => all.Where(k => k.EndsWith(".bias", StringComparison.Ordinal)).Append("head.weight"),
            _ when variant.StartsWith("VptShallow", StringComparison.Ordinal) => head.Append("prompt_embeddings"),
            _ when variant.StartsWith("VptDeepLora", StringComparison.Ordinal) =>
                head.Concat(new[] { "prompt_embeddings", "deep_prompt_embeddings" })
                    .Concat(Blocks(depth == 3 ? 1 : depth / 2).SelectMany(LoraQv)),
            _ when variant.StartsWith("VptDeep", StringComparison.Ordinal) => head.Concat(new[] { "prompt_embeddings", "deep_prompt_embeddings" }),
            _ when variant.StartsWith("Lora", StringComparison.Ordinal) => head.Concat(Blocks().SelectMany(LoraQv)),
            _ when variant.StartsWith("Adapt", StringComparison.Ordinal) => head.Concat(Blocks().SelectMany(Adapter)),
            _ => throw new ArgumentException($"no expectation written for {variant}"),
        };
        return new SortedSet<string>(names, StringComparer.Ordinal);
    }

    private static IEnumerable<string> LoraQv(int block) =>
        new[] { "q", "v" }.SelectMany(s => new[] { $"blocks.{block}.attn.qkv.{s}.lora_A", $"blocks.{block}.attn.qkv.{s}.lora_B" });

    private static IEnumerable<string> Adapter(int block) =>
        new[] { "down_proj", "up_proj" }.SelectMany(p => new[] { $"blocks.{block}.adapter.{p}.weight", $"blocks.{block}.adapter.{p}.bias" });
}
