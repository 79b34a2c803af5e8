using Pvp.Blocks;
using Pvp.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Pvp.Bench;

/// <summary>LoRA merged vs unmerged inference latency; fused (scaled_dot_product_attention) vs explicit softmax attention.</summary>
internal static class InferenceBench
{
    public static int Run()
    {
        manual_seed(0);
        using var x = randn(8, 3, 224, 224);

        // LoRA on ViT-B/16, inference: unmerged forms W + ΔW per layer per call; merged uses the folded weight.
        using var lora = new LoraB16(numClasses: 1000);
        using (no_grad())
            foreach (var (name, p) in lora.named_parameters())
                if (name.EndsWith("lora_B", StringComparison.Ordinal)) p.normal_(0, 0.01);
        lora.eval();
        Tensor? unmergedOut = null, mergedOut = null;
        var unmerged = Measure.Interleaved(1, 5, () =>
        {
            using var mode = inference_mode();
            unmergedOut?.Dispose();
            unmergedOut = lora.call(x);
        })[0];
        lora.MergeLora();
        var merged = Measure.Interleaved(1, 5, () =>
        {
            using var mode = inference_mode();
            mergedOut?.Dispose();
            mergedOut = lora.call(x);
        })[0];
        double diff = (unmergedOut! - mergedOut!).abs().max().item<float>();
        Console.WriteLine($"LoRA ViT-B/16 inference, batch 8: unmerged {1000 * unmerged:F0} ms, merged {1000 * merged:F0} ms, ratio unmerged/merged {unmerged / merged:F3} (max |Δlogits| {diff:E1})");

        // Attention of one ViT-S/16 block: the fused kernel against the explicit softmax(QKᵀ/√d)V.
        using var attention = new Attention(384, 6, qkvBias: true);
        using var tokens = randn(16, 197, 384);
        Tensor Explicit()
        {
            using var scope = NewDisposeScope();
            long b = tokens.shape[0], n = tokens.shape[1], d = tokens.shape[2], hd = d / 6;
            var qkv = attention.Qkv.call(tokens).reshape(b, n, 3, 6, hd).permute(2, 0, 3, 1, 4);
            using var scale = (1.0 / Math.Sqrt(hd)).ToScalar();
            var weights = qkv[0].matmul(qkv[1].transpose(-2, -1)).mul_(scale).softmax(-1);
            return attention.Proj.call(weights.matmul(qkv[2]).transpose(1, 2).reshape(b, n, d)).MoveToOuterDisposeScope();
        }
        Tensor? fusedOut = null, explicitOut = null;
        var times = Measure.Interleaved(2, 9,
            () => { using var m = inference_mode(); fusedOut?.Dispose(); fusedOut = attention.call(tokens); },
            () => { using var m = inference_mode(); explicitOut?.Dispose(); explicitOut = Explicit(); });
        double attentionDiff = (fusedOut! - explicitOut!).abs().max().item<float>();
        Console.WriteLine($"attention, ViT-S/16 block, 16×197 tokens: fused {1000 * times[0]:F1} ms, explicit {1000 * times[1]:F1} ms, ratio explicit/fused {times[1] / times[0]:F2} (max |Δ| {attentionDiff:E1})");
        return 0;
    }
}
