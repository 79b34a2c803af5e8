using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace Pvp.Weights;

/// <summary>The key layouts of ViT state dicts that Pvp reads.</summary>
public enum KeyLayout
{
    /// <summary>timm's <c>VisionTransformer</c> (Pvp's own layout).</summary>
    Timm,
    /// <summary>torchvision's <c>VisionTransformer</c> (<c>class_token</c>, <c>conv_proj</c>, <c>encoder.layers.encoder_layer_{i}</c>, …).</summary>
    Torchvision,
}

/// <summary>Detects a state dict's layout and renames torchvision's keys to timm's.</summary>
public static partial class KeyLayouts
{
    /// <summary>torchvision when its marker keys are present, timm otherwise.</summary>
    public static KeyLayout Detect(IReadOnlyDictionary<string, Tensor> weights) =>
        weights.Keys.Any(k => k is "class_token" or "conv_proj.weight" || k.StartsWith("encoder.layers.", StringComparison.Ordinal))
            ? KeyLayout.Torchvision
            : KeyLayout.Timm;

    /// <summary>
    /// The same tensors under timm's keys. Also drops a <c>module.</c> prefix (DataParallel checkpoints). torchvision's
    /// fused <c>in_proj_weight</c> has timm's row order [q; k; v], so tensors are renamed, never reshaped.
    /// </summary>
    public static Dictionary<string, Tensor> ToTimm(IReadOnlyDictionary<string, Tensor> weights, out KeyLayout detected)
    {
        var stripped = weights.ToDictionary(p => p.Key.StartsWith("module.", StringComparison.Ordinal) ? p.Key["module.".Length..] : p.Key, p => p.Value);
        detected = Detect(stripped);
        if (detected == KeyLayout.Timm) return stripped;
        return stripped.ToDictionary(p => TorchvisionToTimm(p.Key), p => p.Value);
    }

    private static string TorchvisionToTimm(string key)
    {
        switch (key)
        {
            case "class_token": return "cls_token";
            case "encoder.pos_embedding": return "pos_embed";
        }
        if (key.StartsWith("conv_proj.", StringComparison.Ordinal)) return "patch_embed.proj." + key["conv_proj.".Length..];
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
}
