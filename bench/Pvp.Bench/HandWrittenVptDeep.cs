using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Pvp.Bench;

/// <summary>
/// VPT-deep on a ViT written by hand with TorchSharp's own modules and nothing from Pvp: what a careful TorchSharp
/// user would write. The baseline the generated model is measured against.
/// </summary>
internal sealed class HandWrittenVptDeep : nn.Module<Tensor, Tensor>
{
    private sealed class HandBlock : nn.Module<Tensor, Tensor>
    {
        private readonly LayerNorm norm1, norm2;
        private readonly Linear qkv, proj, fc1, fc2;
        private readonly int heads;

        public HandBlock(int dim, int heads, int hidden) : base("block")
        {
            this.heads = heads;
            norm1 = nn.LayerNorm(dim, 1e-6);
            qkv = nn.Linear(dim, 3 * dim);
            proj = nn.Linear(dim, dim);
            norm2 = nn.LayerNorm(dim, 1e-6);
            fc1 = nn.Linear(dim, hidden);
            fc2 = nn.Linear(hidden, dim);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            long b = x.shape[0], n = x.shape[1], d = x.shape[2];
            var parts = qkv.call(norm1.call(x)).reshape(b, n, 3, heads, d / heads).permute(2, 0, 3, 1, 4);
            var attended = F.scaled_dot_product_attention(parts[0], parts[1], parts[2]).transpose(1, 2).reshape(b, n, d);
            var h = x.add(proj.call(attended), Scalars.One);
            var m = fc2.call(F.gelu(fc1.call(norm2.call(h))));
            return h.add(m, Scalars.One).MoveToOuterDisposeScope();
        }
    }

    private readonly Conv2d patch;
    private readonly Parameter cls, pos, prompts, deepPrompts;
    private readonly ModuleList<HandBlock> blocks;
    private readonly LayerNorm norm;
    private readonly Linear head;
    private readonly int tokens;

    public HandWrittenVptDeep(int classes, int imageSize = 224, int patchSize = 16, int dim = 384, int depth = 12, int heads = 6, int promptTokens = 50)
        : base("hand_written_vpt_deep")
    {
        tokens = promptTokens;
        patch = nn.Conv2d(3, dim, patchSize, stride: patchSize);
        int grid = imageSize / patchSize;
        cls = new Parameter(zeros(1, 1, dim));
        pos = new Parameter(randn(1, 1 + grid * grid, dim) * 0.02);
        prompts = new Parameter(rand(1, promptTokens, dim) * 0.1 - 0.05);
        deepPrompts = new Parameter(rand(depth - 1, promptTokens, dim) * 0.1 - 0.05);
        blocks = new ModuleList<HandBlock>(Enumerable.Range(0, depth).Select(_ => new HandBlock(dim, heads, 4 * dim)).ToArray());
        norm = nn.LayerNorm(dim, 1e-6);
        head = nn.Linear(dim, classes);
        RegisterComponents();
        foreach (var (name, p) in named_parameters())
            p.requires_grad = name is "prompts" or "deepPrompts" || name.StartsWith("head.", StringComparison.Ordinal);
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = patch.call(x).flatten(2).transpose(1, 2);
        long b = h.shape[0];
        h = cat(new[] { cls.expand(b, -1, -1), h }, 1).add(pos, Scalars.One);
        h = cat(new[] { h.narrow(1, 0, 1), prompts.expand(b, -1, -1), h.narrow(1, 1, h.shape[1] - 1) }, 1);
        for (int i = 0; i < blocks.Count; i++)
        {
            if (i > 0)
                h = cat(new[] { h.narrow(1, 0, 1), deepPrompts.narrow(0, i - 1, 1).expand(b, -1, -1), h.narrow(1, 1 + tokens, h.shape[1] - 1 - tokens) }, 1);
            h = blocks[i].call(h);
        }
        return head.call(norm.call(h).select(1, 0)).MoveToOuterDisposeScope();
    }
}
