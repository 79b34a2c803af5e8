using Pvp.MixedPrecision;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Pvp.Bench;

/// <summary>
/// Where a VPT-deep ViT-S/16 training step's time goes, op by op, in float32 and in bf16: one block's operations at the
/// step's shape (batch 16, 197 + 50 tokens, width 384, 6 heads, MLP 1536), each timed forward and forward + backward with
/// the frozen weights taking no gradient and the input taking one (as the prompts' gradient needs), the median of
/// interleaved rounds; plus the casts a bf16 backbone pays at its boundaries and the prompt replacement each block
/// does. Matrix products print their GFLOP/s as a share of this host's peak of their type.
/// </summary>
internal static class OpsBench
{
    private const int Batch = 16, Tokens = 197 + 50, Width = 384, Heads = 6, Hidden = 1536, Depth = 12;

    // InputWidth: the last dimension of what the op reads ([B, N, InputWidth]). Alternative: another way to compute one
    // of the block's ops, printed beside it and left out of the block's sum.
    private sealed record Op(string Name, double Flops, Func<Tensor, Tensor> Forward, bool Alternative = false)
    {
        public int InputWidth { get; init; } = Width;
    }

    public static int Run(string[] args)
    {
        int rounds = args.Length > 0 && int.TryParse(args[0], out int r) ? r : 7;
        var cpu = CpuFeatures.Current;
        Console.WriteLine($"ops: one VPT-deep ViT-S/16 block at batch {Batch}, {Tokens} tokens, width {Width}; median of {rounds} " +
                          "interleaved rounds; forward and forward + backward (input gradient only, frozen weights)");
        Console.WriteLine($"cpu: {cpu.Model}, flags {cpu.ReportedFlagsPresent}");
        var peak = Peak.Measure();
        var types = cpu.HasNativeBf16 ? new[] { ScalarType.Float32, ScalarType.BFloat16 } : new[] { ScalarType.Float32 };
        var results = types.ToDictionary(t => t, t => Profile(t, rounds));
        Console.WriteLine();
        Console.WriteLine("| op | GFLOP a call | " + string.Join(" | ", types.Select(t => $"{Name(t)} fwd ms | {Name(t)} fwd+bwd ms | {Name(t)} share"))
                          + (types.Length > 1 ? " | bf16 / float32 (fwd+bwd) |" : " |"));
        Console.WriteLine("| --- | ---: | " + string.Join(" | ", types.Select(_ => "---: | ---: | ---:")) + (types.Length > 1 ? " | ---: |" : " |"));
        var names = results.Values.SelectMany(list => list.Select(x => x.Name)).Distinct().ToList();
        var totals = types.ToDictionary(t => t, t => results[t].Where(x => !x.Alternative).Sum(x => x.Both));
        foreach (string name in names)
        {
            var row = types.Select(t => results[t].FirstOrDefault(x => x.Name == name)).ToList();
            string cells = string.Join(" | ", types.Zip(row, (t, x) =>
            {
                if (x is null) return "— | — | —";
                string share = x.Flops > 0 ? $"{100 * x.Flops / x.Both / 1e9 / (t == ScalarType.BFloat16 ? peak.Bf16Gflops ?? peak.Float32Gflops : peak.Float32Gflops):F0}% of peak"
                                           : x.Alternative ? "not in the block's sum" : $"{100 * x.Both / totals[t]:F0}% of block";
                return $"{1e3 * x.Forward:F2} | {1e3 * x.Both:F2} | {share}";
            }));
            string ratio = types.Length > 1 && row[0] is { } f && row[1] is { } h ? $" | {h.Both / f.Both:F2} |" : " | — |";
            Console.WriteLine($"| {name} | {row.First(x => x is not null)!.Flops / 1e9:F2} | {cells}{(types.Length > 1 ? ratio : " |")}");
        }
        foreach (var t in types)
            Console.WriteLine($"{Name(t)}: one block's ops {1e3 * totals[t]:F1} ms; × {Depth} blocks = {Depth * totals[t]:F3} s " +
                              $"(matrix products {100 * results[t].Where(x => x.Flops > 0 && !x.Alternative).Sum(x => x.Both) / totals[t]:F0}% of it)");
        if (types.Length > 1)
            Console.WriteLine($"bf16 / float32, the block's ops: {totals[ScalarType.Float32] / totals[ScalarType.BFloat16]:F2}× faster");
        return 0;
    }

    private static string Name(ScalarType t) => t == ScalarType.BFloat16 ? "bf16" : "float32";

    private sealed record Timing(string Name, double Flops, double Forward, double Both, bool Alternative);

    private static List<Timing> Profile(ScalarType dtype, int rounds)
    {
        manual_seed(0);
        Tensor W(params long[] shape) => (randn(shape) * 0.02).to(dtype);
        var normW = ones(Width).to(dtype);
        var normB = zeros(Width).to(dtype);
        var qkvW = W(3 * Width, Width);
        var qkvB = W(3 * Width);
        var projW = W(Width, Width);
        var projB = W(Width);
        var fc1W = W(Hidden, Width);
        var fc1B = W(Hidden);
        var fc2W = W(Width, Hidden);
        var fc2B = W(Width);
        var prompts = randn(1, 50, Width, requires_grad: true); // float32, trainable
        long bn = (long)Batch * Tokens;
        double Linear(long inDim, long outDim) => 2.0 * bn * inDim * outDim;
        // The fused qkv output [B, N, 3D] as [3, B, heads, N, hd], as Attention splits it.
        Tensor SplitHeads(Tensor x) => x.reshape(Batch, Tokens, 3, Heads, Width / Heads).permute(2, 0, 3, 1, 4);
        Tensor MergeHeads(Tensor x) => x.transpose(1, 2).reshape(Batch, Tokens, Width);
        var ops = new List<Op>
        {
            new("norm1 (LayerNorm)", 0, x => F.layer_norm(x, new long[] { Width }, normW, normB, 1e-6)),
            new("qkv (linear 384→1152)", Linear(Width, 3 * Width), x => F.linear(x, qkvW, qkvB)),
            new("attention (sdpa, heads split and merged)", 2.0 * 2 * Batch * Tokens * Tokens * Width, x =>
            {
                var heads = SplitHeads(x);
                return MergeHeads(F.scaled_dot_product_attention(heads[0], heads[1], heads[2]));
            }) { InputWidth = 3 * Width },
            new("attention (explicit softmax(QKᵀ/√d)·V)", 2.0 * 2 * Batch * Tokens * Tokens * Width, x =>
            {
                var heads = SplitHeads(x);
                var scores = heads[0].matmul(heads[1].transpose(-2, -1)).mul(1.0 / Math.Sqrt(Width / Heads));
                return MergeHeads(scores.softmax(-1).matmul(heads[2]));
            }) { Alternative = true, InputWidth = 3 * Width },
            new("proj (linear 384→384)", Linear(Width, Width), x => F.linear(x, projW, projB)),
            new("residual add", 0, x => x + x),
            new("fc1 (linear 384→1536)", Linear(Width, Hidden), x => F.linear(x, fc1W, fc1B)),
            new("GELU", 0, x => F.gelu(x)) { InputWidth = Hidden },
            new("fc2 (linear 1536→384)", Linear(Hidden, Width), x => F.linear(x, fc2W, fc2B)) { InputWidth = Hidden },
            new("prompt replacement (narrow + cat)", 0, x => cat(new[] { x.narrow(1, 0, 1), prompts.to(dtype).expand(Batch, -1, -1), x.narrow(1, 51, Tokens - 51) }, 1)),
        };
        if (dtype == ScalarType.BFloat16)
        {
            // The casts a bf16 backbone pays at its boundaries (the prompts' is in the replacement above), sized as the
            // stream for scale: a round trip through float32.
            ops.Add(new("cast bf16 → float32 → bf16 (stream-sized)", 0, x => x.to(ScalarType.Float32).to(ScalarType.BFloat16))
                { Alternative = true });
        }
        var actions = new List<Action>();
        foreach (var op in ops)
        {
            var x = randn(Batch, Tokens, op.InputWidth).to(dtype).requires_grad_(true);
            Tensor grad;
            using (var probe = op.Forward(x)) grad = randn_like(probe);
            actions.Add(() => { using var d = NewDisposeScope(); op.Forward(x); });
            actions.Add(() =>
            {
                using var d = NewDisposeScope();
                var y = op.Forward(x);
                y.backward(new[] { grad });
                x.grad?.zero_();
            });
        }
        var seconds = Measure.Interleaved(2, rounds, actions.ToArray());
        var timings = ops.Select((op, i) => new Timing(op.Name, op.Flops, seconds[2 * i], seconds[2 * i + 1], op.Alternative)).ToList();
        // Both LayerNorms of a block, both adds: count each op as often as a block runs it.
        var norm = timings.First(t => t.Name.StartsWith("norm1", StringComparison.Ordinal));
        var add = timings.First(t => t.Name == "residual add");
        timings.Insert(timings.IndexOf(add), norm with { Name = "norm2 (LayerNorm)" });
        timings.Add(add with { Name = "residual add (MLP)" });
        return timings;
    }
}
