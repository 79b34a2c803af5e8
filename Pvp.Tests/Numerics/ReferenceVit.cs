using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Pvp.Tests.Numerics;

/// <summary>Where a test's reference computation departs from the plain ViT.</summary>
internal sealed class ReferenceHooks
{
    /// <summary>Prompts [1, T, D] to place before block i: inserted after CLS the first time, replacing the previous T tokens after that.</summary>
    public Func<int, Tensor?>? PromptsBefore { get; init; }

    /// <summary>The weight actually used for a state-dict key (e.g. W + ΔW for LoRA).</summary>
    public Func<string, Tensor, Tensor>? Weight { get; init; }

    /// <summary>The MLP branch of block i: (i, norm2 output y, MLP output m) → new m.</summary>
    public Func<int, Tensor, Tensor, Tensor>? MlpBranch { get; init; }

    /// <summary>The MLP branch of block i given the residual stream after attention: (i, stream h, MLP output m) → new m.</summary>
    public Func<int, Tensor, Tensor, Tensor>? StreamBranch { get; init; }

    /// <summary>The attention branch of block i: (i, attention output a) → new a, before the residual add.</summary>
    public Func<int, Tensor, Tensor>? AttentionBranch { get; init; }

    /// <summary>Beside attention in block i: (i, attention's input y, attention output a) → new a, before the residual add.</summary>
    public Func<int, Tensor, Tensor, Tensor>? AttentionBeside { get; init; }

    /// <summary>norm1's output in block i → what attention reads.</summary>
    public Func<int, Tensor, Tensor>? Norm1Output { get; init; }

    /// <summary>norm2's output in block i → what the MLP reads.</summary>
    public Func<int, Tensor, Tensor>? Norm2Output { get; init; }

    /// <summary>The fused qkv projection's output [B, N, 3D] in block i → what attention splits into q, k, v.</summary>
    public Func<int, Tensor, Tensor>? QkvOutput { get; init; }

    /// <summary>
    /// Key and value prompts of block i, each [heads, P, head dim] as E2VPT stores them: concatenated before the keys and
    /// the values of each head (E2VPT's <c>torch.cat((prompt.expand(B, -1, -1, -1), key_layer), dim=2)</c>).
    /// </summary>
    public Func<int, (Tensor Key, Tensor Value)?>? KeyValuePrompts { get; init; }

    /// <summary>fc1's output in block i, before the GELU → what the GELU reads.</summary>
    public Func<int, Tensor, Tensor>? Fc1Output { get; init; }

    /// <summary>The GELU's output in block i → what fc2 reads.</summary>
    public Func<int, Tensor, Tensor>? ActivationOutput { get; init; }

    /// <summary>The input of block i → what the block sees.</summary>
    public Func<int, Tensor, Tensor>? BlockInput { get; init; }

    /// <summary>The output of block i, after both residual adds → what the next block (or the final norm) sees.</summary>
    public Func<int, Tensor, Tensor>? BlockOutput { get; init; }
}

/// <summary>
/// An independent ViT forward written with functional ops over a timm-layout state dict: explicit softmax attention
/// (not scaled_dot_product_attention), separate q/k/v slices, LayerNorm by hand, no module code shared with the
/// generated model. PETuning departures come in as <see cref="ReferenceHooks"/>.
/// </summary>
internal static class ReferenceVit
{
    public static Tensor Forward(IReadOnlyDictionary<string, Tensor> w, Tensor x, int depth, int heads, int patch, ReferenceHooks? hooks = null)
    {
        hooks ??= new ReferenceHooks();
        Tensor W(string key) => hooks.Weight?.Invoke(key, w[key]) ?? w[key];
        using var scope = NewDisposeScope();
        var tokens = F.conv2d(x, w["patch_embed.proj.weight"], w["patch_embed.proj.bias"], strides: new long[] { patch, patch });
        tokens = tokens.flatten(2).transpose(1, 2);
        long b = tokens.shape[0], n = tokens.shape[1], d = tokens.shape[2];
        var h = cat(new[] { w["cls_token"].expand(b, 1, d), tokens }, 1) + w["pos_embed"];
        for (int i = 0; i < depth; i++)
        {
            if (hooks.PromptsBefore?.Invoke(i) is { } prompts)
            {
                long t = prompts.shape[1];
                bool present = h.shape[1] > 1 + n;
                var after = present ? h[.., (int)(1 + t)..] : h[.., 1..];
                h = cat(new[] { h[.., ..1], prompts.expand(b, t, d), after }, 1);
            }
            if (hooks.BlockInput is { } input) h = input(i, h);
            string p = $"blocks.{i}.";
            var y = LayerNorm(h, w, p + "norm1");
            if (hooks.Norm1Output is { } norm1) y = norm1(i, y);
            int block = i;
            Func<Tensor, Tensor>? onQkv = hooks.QkvOutput is { } qkvHook ? fused => qkvHook(block, fused) : null;
            var kvPrompts = hooks.KeyValuePrompts?.Invoke(i);
            var a = F.linear(Attention(y, W(p + "attn.qkv.weight"), w.GetValueOrDefault(p + "attn.qkv.bias"), heads, onQkv, kvPrompts),
                W(p + "attn.proj.weight"), w[p + "attn.proj.bias"]);
            if (hooks.AttentionBeside is { } beside) a = beside(i, y, a);
            if (hooks.AttentionBranch is { } attention) a = attention(i, a);
            h = h + a;
            y = LayerNorm(h, w, p + "norm2");
            if (hooks.Norm2Output is { } norm2) y = norm2(i, y);
            var fc1 = F.linear(y, W(p + "mlp.fc1.weight"), w[p + "mlp.fc1.bias"]);
            if (hooks.Fc1Output is { } fc1Hook) fc1 = fc1Hook(i, fc1);
            var hidden = F.gelu(fc1);
            if (hooks.ActivationOutput is { } activation) hidden = activation(i, hidden);
            var m = F.linear(hidden, W(p + "mlp.fc2.weight"), w[p + "mlp.fc2.bias"]);
            if (hooks.MlpBranch is { } branch) m = branch(i, y, m);
            if (hooks.StreamBranch is { } stream) m = stream(i, h, m);
            h = h + m;
            if (hooks.BlockOutput is { } output) h = output(i, h);
        }
        h = LayerNorm(h, w, "norm");
        return F.linear(h[.., 0], w["head.weight"], w["head.bias"]).MoveToOuterDisposeScope();
    }

    private static Tensor LayerNorm(Tensor h, IReadOnlyDictionary<string, Tensor> w, string name)
    {
        var mean = h.mean(new long[] { -1 }, keepdim: true);
        var variance = (h - mean).pow(2).mean(new long[] { -1 }, keepdim: true);
        return (h - mean) / (variance + 1e-6).sqrt() * w[name + ".weight"] + w[name + ".bias"];
    }

    private static Tensor Attention(Tensor y, Tensor qkvWeight, Tensor? qkvBias, int heads, Func<Tensor, Tensor>? onQkv = null,
        (Tensor Key, Tensor Value)? kvPrompts = null)
    {
        long b = y.shape[0], n = y.shape[1], d = y.shape[2], hd = d / heads;
        // With a hook on the fused output, q, k and v are its thirds; without, each slot is projected by its own rows.
        var fused = onQkv is null ? null : onQkv(F.linear(y, qkvWeight, qkvBias));
        Tensor Project(int slot) =>
            (fused is null
                ? F.linear(y, qkvWeight[(int)(slot * d)..(int)((slot + 1) * d)], qkvBias?[(int)(slot * d)..(int)((slot + 1) * d)])
                : fused[.., .., (int)(slot * d)..(int)((slot + 1) * d)])
                .reshape(b, n, heads, hd).transpose(1, 2);
        var q = Project(0);
        var k = Project(1);
        var v = Project(2);
        if (kvPrompts is { } extra)
        {
            // [B, heads, N, hd] → [B, heads, P + N, hd]: the prompts first, per head; queries keep their N tokens.
            k = cat(new[] { extra.Key.unsqueeze(0).expand(b, -1, -1, -1), k }, 2);
            v = cat(new[] { extra.Value.unsqueeze(0).expand(b, -1, -1, -1), v }, 2);
        }
        var scores = q.matmul(k.transpose(-2, -1)) / Math.Sqrt(hd);
        return scores.softmax(-1).matmul(v).transpose(1, 2).reshape(b, n, d);
    }
}
