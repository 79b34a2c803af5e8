using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Pvp.Tests.Numerics;

/// <summary>
/// An independent ViT forward written with functional ops over a timm-layout state dict: explicit softmax attention
/// (not scaled_dot_product_attention), separate q/k/v slices, no module code shared with the generated model.
/// </summary>
internal static class ReferenceVit
{
    public static Tensor Forward(IReadOnlyDictionary<string, Tensor> w, Tensor x, int depth, int heads, int patch)
    {
        using var scope = NewDisposeScope();
        var tokens = F.conv2d(x, w["patch_embed.proj.weight"], w["patch_embed.proj.bias"], strides: new long[] { patch, patch });
        tokens = tokens.flatten(2).transpose(1, 2);
        long b = tokens.shape[0], d = tokens.shape[2];
        var h = cat(new[] { w["cls_token"].expand(b, 1, d), tokens }, 1) + w["pos_embed"];
        for (int i = 0; i < depth; i++)
        {
            string p = $"blocks.{i}.";
            var y = LayerNorm(h, w, p + "norm1");
            h = h + F.linear(Attention(y, w, p + "attn.", heads), w[p + "attn.proj.weight"], w[p + "attn.proj.bias"]);
            y = LayerNorm(h, w, p + "norm2");
            var hidden = F.gelu(F.linear(y, w[p + "mlp.fc1.weight"], w[p + "mlp.fc1.bias"]));
            h = h + F.linear(hidden, w[p + "mlp.fc2.weight"], w[p + "mlp.fc2.bias"]);
        }
        h = LayerNorm(h, w, "norm");
        return F.linear(h.select(1, 0), w["head.weight"], w["head.bias"]).MoveToOuterDisposeScope();
    }

    private static Tensor LayerNorm(Tensor h, IReadOnlyDictionary<string, Tensor> w, string name)
    {
        var mean = h.mean(new long[] { -1 }, keepdim: true);
        var variance = (h - mean).pow(2).mean(new long[] { -1 }, keepdim: true);
        return (h - mean) / (variance + 1e-6).sqrt() * w[name + ".weight"] + w[name + ".bias"];
    }

    private static Tensor Attention(Tensor y, IReadOnlyDictionary<string, Tensor> w, string p, int heads)
    {
        long b = y.shape[0], n = y.shape[1], d = y.shape[2], hd = d / heads;
        var qkvWeight = w[p + "qkv.weight"];
        var qkvBias = w.TryGetValue(p + "qkv.bias", out var bias) ? bias : null;
        Tensor Project(int slot)
        {
            var weight = qkvWeight.narrow(0, slot * d, d);
            var sliceBias = qkvBias?.narrow(0, slot * d, d);
            return F.linear(y, weight, sliceBias).view(b, n, heads, hd).transpose(1, 2);
        }
        var q = Project(0);
        var k = Project(1);
        var v = Project(2);
        var scores = q.matmul(k.transpose(-2, -1)) / Math.Sqrt(hd);
        var attended = scores.softmax(-1).matmul(v);
        return attended.transpose(1, 2).reshape(b, n, d);
    }
}
