"""The VPT-deep ViT-S/16 training step in PyTorch eager, for bench/Pvp.Bench `step` (which runs it and prints the ratio).

The same model and step as the generated VptDeepS16: timm's ViT-S/16 (width 384, 12 blocks, 6 heads, MLP 1536,
LayerNorm eps 1e-6, exact GELU, scaled_dot_product_attention where this torch has it), 50 deep prompt tokens
replacing the previous block's prompt outputs, backbone frozen, AdamW on prompts and head, batch 16, 224x224.
"""
import argparse
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        b, n, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        if hasattr(F, "scaled_dot_product_attention"):
            a = F.scaled_dot_product_attention(q, k, v)
        else:  # torch 1.13 has no fused attention: the explicit form
            a = (q @ k.transpose(-2, -1) / math.sqrt(d // self.heads)).softmax(-1) @ v
        x = x + self.proj(a.transpose(1, 2).reshape(b, n, d))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class VptDeep(nn.Module):
    def __init__(self, classes=100, dim=384, depth=12, heads=6, tokens=50, patch=16, image=224):
        super().__init__()
        self.tokens = tokens
        self.patch = nn.Conv2d(3, dim, patch, patch)
        grid = image // patch
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, 1 + grid * grid, dim) * 0.02)
        self.prompts = nn.Parameter(torch.rand(1, tokens, dim) * 0.1 - 0.05)
        self.deep = nn.Parameter(torch.rand(depth - 1, tokens, dim) * 0.1 - 0.05)
        self.blocks = nn.ModuleList(Block(dim, heads, 4 * dim) for _ in range(depth))
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)
        for name, p in self.named_parameters():
            p.requires_grad = name in ("prompts", "deep") or name.startswith("head.")

    def forward(self, x):
        h = self.patch(x).flatten(2).transpose(1, 2)
        b = h.shape[0]
        h = torch.cat([self.cls.expand(b, -1, -1), h], 1) + self.pos
        h = torch.cat([h[:, :1], self.prompts.expand(b, -1, -1), h[:, 1:]], 1)
        for i, block in enumerate(self.blocks):
            if i > 0:
                h = torch.cat([h[:, :1], self.deep[i - 1:i].expand(b, -1, -1), h[:, 1 + self.tokens:]], 1)
            h = block(h)
        return self.head(self.norm(h)[:, 0])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = VptDeep()
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3, weight_decay=1e-4)
    x = torch.randn(args.batch, 3, 224, 224)
    y = torch.randint(0, 100, (args.batch,))

    def step():
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()

    step()  # warm-up
    times = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    blas = "BLAS unknown"
    try:
        import os
        import re
        info = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
        # Debian's torch links the generic libblas.so.3; update-alternatives points it at OpenBLAS when installed.
        target = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
        blas = f"BLAS_INFO={info.group(1) if info else '?'}, libblas.so.3 -> {target}"
    except Exception:
        pass
    print(f"pytorch: torch {torch.__version__}, threads {torch.get_num_threads()}, {blas}")
    print(f"images_per_second={args.batch / median:.4f}")


if __name__ == "__main__":
    main()
