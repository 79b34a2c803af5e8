using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace Pvp.Weights;

/// <summary>The key layouts of ViT state dicts that Pvp reads.</summary>
public enum KeyLayout
{
    /// <summary>timm's <c>VisionTransformer</c> (Pvp's own layout).</summary>
    Timm,
    /// <summary>
    /// torchvision's <c>VisionTransformer</c> (<c>class_token</c>,
    /// <c>conv_proj</c>, <c>encoder.layers.encoder_layer_{i}</c>, …).
    /// </summary>
    Torchvision,
    /// <summary>
    /// Google's original JAX/Flax checkpoints (<c>ViT-B_16.npz</c>:
    /// <c>embedding/kernel</c>, <c>Transformer/encoderblock_{i}/…</c>).
    /// </summary>
    Jax,
    /// <summary>
    /// Hugging Face <c>ViTModel</c>/<c>ViTForImageClassification</c>
    /// (<c>[vit.]embeddings.*</c>, <c>[vit.]encoder.layer.{i}.*</c>).
    /// </summary>
    HuggingFace,
}

/// <summary>Detects a state dict's layout and renames torchvision's keys to timm's.</summary>
public static partial class KeyLayouts
{
    /// <summary>The layout whose marker keys are present (torchvision, JAX, Hugging Face), timm otherwise.</summary>
    public static KeyLayout Detect(IReadOnlyDictionary<string, Tensor> weights)
    {
        if (weights.Keys.Any(k => k is "class_token" or "conv_proj.weight"
                                  || k.StartsWith("encoder.layers.", StringComparison.Ordinal)))
            return KeyLayout.Torchvision;
        if (weights.Keys.Any(k => k is "embedding/kernel" or "cls"
                                  || k.StartsWith("Transformer/", StringComparison.Ordinal)))
            return KeyLayout.Jax;
        if (weights.Keys.Any(k => k.Contains("embeddings.patch_embeddings.", StringComparison.Ordinal)
                                  || HfLayerKey().IsMatch(k)))
            return KeyLayout.HuggingFace;
        return KeyLayout.Timm;
    }

    /// <summary>
    /// The layout of the checkpoint at <paramref name="path"/> (read once; its tensors are freed at once).
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a readable state dict.</exception>
    public static KeyLayout DetectFile(string path)
    {
        var weights = StateDictFile.Load(path);
        try
        {
            return Detect(weights.ToDictionary(
                p => p.Key.StartsWith("module.", StringComparison.Ordinal) ? p.Key["module.".Length..] : p.Key, p => p.Value));
        }
        finally
        {
            foreach (var tensor in weights.Values) tensor.Dispose();
        }
    }

    /// <summary>
    /// The same tensors under timm's keys. Also drops a <c>module.</c> prefix (DataParallel checkpoints). torchvision's
    /// fused <c>in_proj_weight</c> has timm's row order [q; k; v], so tensors are renamed, never reshaped.
    /// </summary>
    public static Dictionary<string, Tensor> ToTimm(
        IReadOnlyDictionary<string, Tensor> weights, out KeyLayout detected) =>
        ToTimm(weights, out detected, out _);

    /// <summary>
    /// The same weights under timm's keys, and the keys left out on purpose: a JAX checkpoint's <c>pre_logits</c> layer
    /// (ImageNet-21k files) and a Hugging Face <c>pooler</c>, which no timm ViT has. JAX kernels are transposed and
    /// reshaped to PyTorch's layout (conv HWIO → OIHW; [in, out] → [out, in]; attention [D, heads, hd] → [heads·hd,
    /// D]); Hugging Face's separate query, key and value are stacked into timm's fused qkv in that order.
    /// </summary>
    public static Dictionary<string, Tensor> ToTimm(
        IReadOnlyDictionary<string, Tensor> weights, out KeyLayout detected, out IReadOnlyList<string> skipped)
    {
        var stripped = weights.ToDictionary(
            p => p.Key.StartsWith("module.", StringComparison.Ordinal) ? p.Key["module.".Length..] : p.Key, p => p.Value);
        detected = Detect(stripped);
        skipped = Array.Empty<string>();
        return detected switch
        {
            KeyLayout.Torchvision => stripped.ToDictionary(p => TorchvisionToTimm(p.Key), p => p.Value),
            KeyLayout.Jax => JaxToTimm(stripped, out skipped),
            KeyLayout.HuggingFace => HuggingFaceToTimm(stripped, out skipped),
            _ => stripped,
        };
    }

    private static Dictionary<string, Tensor> JaxToTimm(
        Dictionary<string, Tensor> jax, out IReadOnlyList<string> skipped)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var dropped = new List<string>();
        foreach (var (key, value) in jax)
        {
            if (key.StartsWith("pre_logits/", StringComparison.Ordinal))
            {
                dropped.Add(key);
                continue;
            }
            switch (key)
            {
                case "cls": result["cls_token"] = value; continue;
                case "Transformer/posembed_input/pos_embedding": result["pos_embed"] = value; continue;
                case "embedding/kernel": result["patch_embed.proj.weight"] = value.permute(3, 2, 0, 1).contiguous(); continue; // HWIO → OIHW
                case "embedding/bias": result["patch_embed.proj.bias"] = value; continue;
                case "Transformer/encoder_norm/scale": result["norm.weight"] = value; continue;
                case "Transformer/encoder_norm/bias": result["norm.bias"] = value; continue;
                case "head/kernel": result["head.weight"] = value.t().contiguous(); continue;
                case "head/bias": result["head.bias"] = value; continue;
            }
            var match = JaxBlockKey().Match(key);
            if (!match.Success)
            {
                result[key] = value; // left as is: reported as unexpected
                continue;
            }
            string block = $"blocks.{match.Groups[1].Value}.";
            switch (match.Groups[2].Value)
            {
                case "LayerNorm_0/scale": result[block + "norm1.weight"] = value; break;
                case "LayerNorm_0/bias": result[block + "norm1.bias"] = value; break;
                case "LayerNorm_2/scale": result[block + "norm2.weight"] = value; break;
                case "LayerNorm_2/bias": result[block + "norm2.bias"] = value; break;
                case "MlpBlock_3/Dense_0/kernel": result[block + "mlp.fc1.weight"] = value.t().contiguous(); break;
                case "MlpBlock_3/Dense_0/bias": result[block + "mlp.fc1.bias"] = value; break;
                case "MlpBlock_3/Dense_1/kernel": result[block + "mlp.fc2.weight"] = value.t().contiguous(); break;
                case "MlpBlock_3/Dense_1/bias": result[block + "mlp.fc2.bias"] = value; break;
                case "MultiHeadDotProductAttention_1/out/kernel": // [heads, hd, D] → [D, heads·hd]
                    result[block + "attn.proj.weight"] = value.reshape(-1, value.shape[^1]).t().contiguous(); break;
                case "MultiHeadDotProductAttention_1/out/bias": result[block + "attn.proj.bias"] = value; break;
                case "MultiHeadDotProductAttention_1/query/kernel" or "MultiHeadDotProductAttention_1/key/kernel"
                    or "MultiHeadDotProductAttention_1/value/kernel":
                case "MultiHeadDotProductAttention_1/query/bias" or "MultiHeadDotProductAttention_1/key/bias"
                    or "MultiHeadDotProductAttention_1/value/bias":
                    break; // stacked into qkv below
                default: result[key] = value; break;
            }
        }
        foreach (var prefix in jax.Keys.Select(k => JaxBlockKey().Match(k)).Where(m => m.Success)
                     .Select(m => m.Groups[1].Value).Distinct())
        {
            string attention = $"Transformer/encoderblock_{prefix}/MultiHeadDotProductAttention_1/";
            var names = new[] { "query", "key", "value" };
            if (names.All(n => jax.ContainsKey(attention + n + "/kernel")))
                result[$"blocks.{prefix}.attn.qkv.weight"] = cat(names.Select(n => // [D, heads, hd] → [heads·hd, D]
                    jax[attention + n + "/kernel"].reshape(jax[attention + n + "/kernel"].shape[0], -1).t()).ToArray(), 0)
                        .contiguous();
            if (names.All(n => jax.ContainsKey(attention + n + "/bias")))
                result[$"blocks.{prefix}.attn.qkv.bias"] =
                    cat(names.Select(n => jax[attention + n + "/bias"].reshape(-1)).ToArray(), 0).contiguous();
        }
        skipped = dropped;
        return result;
    }

    private static Dictionary<string, Tensor> HuggingFaceToTimm(
        Dictionary<string, Tensor> hf, out IReadOnlyList<string> skipped)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var dropped = new List<string>();
        string Strip(string key) => key.StartsWith("vit.", StringComparison.Ordinal) ? key["vit.".Length..] : key;
        foreach (var (original, value) in hf)
        {
            string key = Strip(original);
            if (key.StartsWith("pooler.", StringComparison.Ordinal))
            {
                dropped.Add(original);
                continue;
            }
            string? mapped = key switch
            {
                "embeddings.cls_token" => "cls_token",
                "embeddings.position_embeddings" => "pos_embed",
                "embeddings.patch_embeddings.projection.weight" => "patch_embed.proj.weight",
                "embeddings.patch_embeddings.projection.bias" => "patch_embed.proj.bias",
                "layernorm.weight" => "norm.weight",
                "layernorm.bias" => "norm.bias",
                "classifier.weight" => "head.weight",
                "classifier.bias" => "head.bias",
                _ => null,
            };
            if (mapped is not null)
            {
                result[mapped] = value;
                continue;
            }
            var match = HfLayerKey().Match(key);
            if (!match.Success)
            {
                result[original] = value; // left as is: reported as unexpected
                continue;
            }
            string block = $"blocks.{match.Groups[1].Value}.";
            string? rest = match.Groups[2].Value switch
            {
                "layernorm_before.weight" => "norm1.weight",
                "layernorm_before.bias" => "norm1.bias",
                "layernorm_after.weight" => "norm2.weight",
                "layernorm_after.bias" => "norm2.bias",
                "attention.output.dense.weight" => "attn.proj.weight",
                "attention.output.dense.bias" => "attn.proj.bias",
                "intermediate.dense.weight" => "mlp.fc1.weight",
                "intermediate.dense.bias" => "mlp.fc1.bias",
                "output.dense.weight" => "mlp.fc2.weight",
                "output.dense.bias" => "mlp.fc2.bias",
                _ => null,
            };
            if (rest is not null) result[block + rest] = value;
            else if (!match.Groups[2].Value.StartsWith("attention.attention.", StringComparison.Ordinal))
                result[original] = value;
        }
        foreach (string layer in hf.Keys.Select(k => HfLayerKey().Match(Strip(k))).Where(m => m.Success)
                     .Select(m => m.Groups[1].Value).Distinct())
        {
            string prefix = hf.Keys.Any(k => k.StartsWith("vit.", StringComparison.Ordinal)) ? "vit." : "";
            string attention = $"{prefix}encoder.layer.{layer}.attention.attention.";
            foreach (string part in new[] { "weight", "bias" })
            {
                var names = new[] { "query", "key", "value" }.Select(n => $"{attention}{n}.{part}").ToList();
                if (names.All(hf.ContainsKey))
                    result[$"blocks.{layer}.attn.qkv.{part}"] = cat(names.Select(n => hf[n]).ToArray(), 0).contiguous();
            }
        }
        skipped = dropped;
        return result;
    }

    private static string TorchvisionToTimm(string key)
    {
        switch (key)
        {
            case "class_token": return "cls_token";
            case "encoder.pos_embedding": return "pos_embed";
        }
        if (key.StartsWith("conv_proj.", StringComparison.Ordinal))
            return "patch_embed.proj." + key["conv_proj.".Length..];
        if (key.StartsWith("encoder.ln.", StringComparison.Ordinal)) return "norm." + key["encoder.ln.".Length..];
        if (key.StartsWith("heads.head.", StringComparison.Ordinal)) return "head." + key["heads.head.".Length..];
        var match = LayerKey().Match(key);
        if (!match.Success) return key; // left as is: reported as unexpected if the model has no such key
        string block = $"blocks.{match.Groups[1].Value}.";
        string rest = match.Groups[2].Value;
        string? mapped = rest switch
        {
            "ln_1.weight" => "norm1.weight",
            "ln_1.bias" => "norm1.bias",
            "ln_2.weight" => "norm2.weight",
            "ln_2.bias" => "norm2.bias",
            "self_attention.in_proj_weight" => "attn.qkv.weight",
            "self_attention.in_proj_bias" => "attn.qkv.bias",
            "self_attention.out_proj.weight" => "attn.proj.weight",
            "self_attention.out_proj.bias" => "attn.proj.bias",
            "mlp.0.weight" or "mlp.linear_1.weight" => "mlp.fc1.weight",
            "mlp.0.bias" or "mlp.linear_1.bias" => "mlp.fc1.bias",
            "mlp.3.weight" or "mlp.linear_2.weight" => "mlp.fc2.weight",
            "mlp.3.bias" or "mlp.linear_2.bias" => "mlp.fc2.bias",
            _ => null,
        };
        return mapped is null ? key : block + mapped;
    }

    [GeneratedRegex(@"^encoder\.layers\.encoder_layer_(\d+)\.(.+)$")]
    private static partial Regex LayerKey();

    [GeneratedRegex(@"^Transformer/encoderblock_(\d+)/(.+)$")]
    private static partial Regex JaxBlockKey();

    [GeneratedRegex(@"^(?:vit\.)?encoder\.layer\.(\d+)\.(.+)$")]
    private static partial Regex HfLayerKey();
}
