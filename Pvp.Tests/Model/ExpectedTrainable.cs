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
            _ when variant.StartsWith("Vit", StringComparison.Ordinal) => all, // a plain backbone trains like any module
            _ when variant.StartsWith("BitFit", StringComparison.Ordinal) => all.Where(k => k.EndsWith(".bias", StringComparison.Ordinal)).Append("head.weight"),
            _ when variant.StartsWith("VptShallow", StringComparison.Ordinal) => head.Append("prompt_embeddings"),
            // E2VPT (Han et al. 2023): one shared key-value prompt tensor in each block's attention; with VPT-deep's tokens.
            _ when variant.StartsWith("KvPrompts", StringComparison.Ordinal) => head.Concat(Blocks().Select(KvPrompt)),
            _ when variant.StartsWith("E2vpt", StringComparison.Ordinal) =>
                head.Concat(new[] { "prompt_embeddings", "deep_prompt_embeddings" }).Concat(Blocks().Select(KvPrompt)),
            _ when variant.StartsWith("VptDeepLora", StringComparison.Ordinal) =>
                head.Concat(new[] { "prompt_embeddings", "deep_prompt_embeddings" })
                    .Concat(Blocks(depth == 3 ? 1 : depth / 2).SelectMany(LoraQv)),
            _ when variant.StartsWith("VptDeep", StringComparison.Ordinal) => head.Concat(new[] { "prompt_embeddings", "deep_prompt_embeddings" }),
            _ when variant.StartsWith("Lora", StringComparison.Ordinal) => head.Concat(Blocks().SelectMany(LoraQv)),
            // DoRA (Liu et al. 2024): LoRA's pair and a magnitude per output row (PEFT's lora_magnitude_vector) on q and v.
            _ when variant.StartsWith("Dora", StringComparison.Ordinal) =>
                head.Concat(Blocks().SelectMany(b => LoraQv(b).Concat(new[] { "q", "v" }
                    .Select(s => $"blocks.{b}.attn.qkv.{s}.lora_magnitude_vector")))),
            // Adapter+ (Steitz and Roth 2024): the reference's bottleneck.1 (down), bottleneck.4 (up) and the channel scale.
            _ when variant.StartsWith("AdapterPlus", StringComparison.Ordinal) =>
                head.Concat(Blocks().SelectMany(b => new[] { "1", "4" }
                    .SelectMany(i => new[] { $"blocks.{b}.adapter.bottleneck.{i}.weight", $"blocks.{b}.adapter.bottleneck.{i}.bias" })
                    .Append($"blocks.{b}.adapter.scaling"))),
            _ when variant.StartsWith("Adapt", StringComparison.Ordinal) => head.Concat(Blocks().SelectMany(Adapter)),
            // SSF (Lian et al. 2022): a scale and a shift after norm1, attention, norm2 and the MLP; its official form also after qkv and fc1.
            _ when variant.StartsWith("SsfFull", StringComparison.Ordinal) =>
                head.Concat(Blocks().SelectMany(b => ScaleShift(b, "ssf_norm1", "attn.ssf_qkv", "ssf_attn", "ssf_norm2", "mlp.ssf_fc1", "ssf_mlp"))),
            _ when variant.StartsWith("Ssf", StringComparison.Ordinal) =>
                head.Concat(Blocks().SelectMany(b => ScaleShift(b, "ssf_norm1", "ssf_attn", "ssf_norm2", "ssf_mlp"))),
            // LN-tuning (PEFT's LN_TUNING on a ViT's norms): each block's norm1 and norm2 and the final norm.
            _ when variant.StartsWith("LnTuning", StringComparison.Ordinal) =>
                head.Concat(new[] { "norm.weight", "norm.bias" })
                    .Concat(Blocks().SelectMany(b => new[] { "norm1", "norm2" }.SelectMany(n => new[] { $"blocks.{b}.{n}.weight", $"blocks.{b}.{n}.bias" }))),
            // IA³ (Liu et al. 2022): l_k and l_v on the keys and values, l_ff on the MLP's activation.
            _ when variant.StartsWith("Ia3", StringComparison.Ordinal) =>
                head.Concat(Blocks().SelectMany(b => new[] { $"blocks.{b}.attn.ia3_kv.l_k", $"blocks.{b}.attn.ia3_kv.l_v", $"blocks.{b}.mlp.ia3_ff.l_ff" })),
            // Convpass (Jie and Deng 2022): down, the 3×3 conv and up of the bypass beside attention and beside the MLP.
            _ when variant.StartsWith("Convpass", StringComparison.Ordinal) =>
                head.Concat(Blocks().SelectMany(b => new[] { "adapter_attn", "adapter_mlp" }
                    .SelectMany(m => new[] { "adapter_down", "adapter_conv", "adapter_up" }
                        .SelectMany(l => new[] { $"blocks.{b}.{m}.{l}.weight", $"blocks.{b}.{m}.{l}.bias" })))),
            _ => throw new ArgumentException($"no expectation written for {variant}"),
        };
        return new SortedSet<string>(names, StringComparer.Ordinal);
    }

    private static string KvPrompt(int block) => $"blocks.{block}.attn.kv_prompt.deep_QKV_embeddings";

    private static IEnumerable<string> LoraQv(int block) =>
        new[] { "q", "v" }.SelectMany(s => new[] { $"blocks.{block}.attn.qkv.{s}.lora_A", $"blocks.{block}.attn.qkv.{s}.lora_B" });

    private static IEnumerable<string> ScaleShift(int block, params string[] modules) =>
        modules.SelectMany(m => new[] { $"blocks.{block}.{m}.scale", $"blocks.{block}.{m}.shift" });

    private static IEnumerable<string> Adapter(int block) =>
        new[] { "down_proj", "up_proj" }.SelectMany(p => new[] { $"blocks.{block}.adapter.{p}.weight", $"blocks.{block}.adapter.{p}.bias" });
}
