#!/usr/bin/python3
# Re-lays the torchvision fixture's weights (timm_state.safetensors, made by torchvision 0.14; see README.md) into the
# two other layouts people download, by their documented key mappings, with numpy's own .npz writer:
#   jax_layout.npz          Google's original ViT checkpoints (ViT-B_16.npz): JAX/Flax names, HWIO / [in, out] kernels,
#                           attention kernels as [D, heads, head_dim] and [heads, head_dim, D]; plus an ImageNet-21k
#                           style `pre_logits` layer that a backbone load must skip.
#   hf_layout.safetensors   Hugging Face ViTForImageClassification: `vit.` prefix, separate query/key/value, `classifier`,
#                           and an unused `vit.pooler` that a backbone load must skip.
# Run from this folder with Debian's python3 and python3-numpy: /usr/bin/python3 relay_layouts.py
import json, struct
import numpy as np

def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for key, e in header.items():
        if key == "__metadata__":
            continue
        assert e["dtype"] == "F32"
        a, b = e["data_offsets"]
        out[key] = np.frombuffer(data[a:b], dtype="<f4").reshape(e["shape"]).copy()
    return out

def save_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for key in sorted(tensors):
        blob = np.ascontiguousarray(tensors[key], dtype="<f4").tobytes()
        header[key] = {"dtype": "F32", "shape": list(tensors[key].shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))

t = load_safetensors("timm_state.safetensors")
D = t["cls_token"].shape[-1]
heads = 6
hd = D // heads
depth = len({k.split(".")[1] for k in t if k.startswith("blocks.")})

jax = {
    "cls": t["cls_token"],
    "Transformer/posembed_input/pos_embedding": t["pos_embed"],
    "embedding/kernel": t["patch_embed.proj.weight"].transpose(2, 3, 1, 0),  # [D, in, h, w] -> HWIO
    "embedding/bias": t["patch_embed.proj.bias"],
    "Transformer/encoder_norm/scale": t["norm.weight"],
    "Transformer/encoder_norm/bias": t["norm.bias"],
    "head/kernel": t["head.weight"].T,
    "head/bias": t["head.bias"],
    "pre_logits/kernel": np.eye(D, dtype="<f4"),
    "pre_logits/bias": np.zeros(D, dtype="<f4"),
}
hf = {
    "vit.embeddings.cls_token": t["cls_token"],
    "vit.embeddings.position_embeddings": t["pos_embed"],
    "vit.embeddings.patch_embeddings.projection.weight": t["patch_embed.proj.weight"],
    "vit.embeddings.patch_embeddings.projection.bias": t["patch_embed.proj.bias"],
    "vit.layernorm.weight": t["norm.weight"],
    "vit.layernorm.bias": t["norm.bias"],
    "classifier.weight": t["head.weight"],
    "classifier.bias": t["head.bias"],
    "vit.pooler.dense.weight": np.eye(D, dtype="<f4"),
    "vit.pooler.dense.bias": np.zeros(D, dtype="<f4"),
}
for i in range(depth):
    b = f"blocks.{i}."
    qkv_w, qkv_b = t[b + "attn.qkv.weight"], t[b + "attn.qkv.bias"]
    q_w, k_w, v_w = qkv_w[:D], qkv_w[D:2 * D], qkv_w[2 * D:]
    q_b, k_b, v_b = qkv_b[:D], qkv_b[D:2 * D], qkv_b[2 * D:]
    j = f"Transformer/encoderblock_{i}/"
    jax[j + "LayerNorm_0/scale"] = t[b + "norm1.weight"]
    jax[j + "LayerNorm_0/bias"] = t[b + "norm1.bias"]
    for name, w, bias in (("query", q_w, q_b), ("key", k_w, k_b), ("value", v_w, v_b)):
        jax[j + f"MultiHeadDotProductAttention_1/{name}/kernel"] = w.T.reshape(D, heads, hd)   # [out, in] -> [in, heads, hd]
        jax[j + f"MultiHeadDotProductAttention_1/{name}/bias"] = bias.reshape(heads, hd)
    jax[j + "MultiHeadDotProductAttention_1/out/kernel"] = t[b + "attn.proj.weight"].T.reshape(heads, hd, D)
    jax[j + "MultiHeadDotProductAttention_1/out/bias"] = t[b + "attn.proj.bias"]
    jax[j + "LayerNorm_2/scale"] = t[b + "norm2.weight"]
    jax[j + "LayerNorm_2/bias"] = t[b + "norm2.bias"]
    jax[j + "MlpBlock_3/Dense_0/kernel"] = t[b + "mlp.fc1.weight"].T
    jax[j + "MlpBlock_3/Dense_0/bias"] = t[b + "mlp.fc1.bias"]
    jax[j + "MlpBlock_3/Dense_1/kernel"] = t[b + "mlp.fc2.weight"].T
    jax[j + "MlpBlock_3/Dense_1/bias"] = t[b + "mlp.fc2.bias"]

    h = f"vit.encoder.layer.{i}."
    hf[h + "layernorm_before.weight"] = t[b + "norm1.weight"]
    hf[h + "layernorm_before.bias"] = t[b + "norm1.bias"]
    for name, w, bias in (("query", q_w, q_b), ("key", k_w, k_b), ("value", v_w, v_b)):
        hf[h + f"attention.attention.{name}.weight"] = w
        hf[h + f"attention.attention.{name}.bias"] = bias
    hf[h + "attention.output.dense.weight"] = t[b + "attn.proj.weight"]
    hf[h + "attention.output.dense.bias"] = t[b + "attn.proj.bias"]
    hf[h + "layernorm_after.weight"] = t[b + "norm2.weight"]
    hf[h + "layernorm_after.bias"] = t[b + "norm2.bias"]
    hf[h + "intermediate.dense.weight"] = t[b + "mlp.fc1.weight"]
    hf[h + "intermediate.dense.bias"] = t[b + "mlp.fc1.bias"]
    hf[h + "output.dense.weight"] = t[b + "mlp.fc2.weight"]
    hf[h + "output.dense.bias"] = t[b + "mlp.fc2.bias"]

np.savez("jax_layout.npz", **jax)
save_safetensors("hf_layout.safetensors", hf)
print(f"wrote jax_layout.npz ({len(jax)} arrays) and hf_layout.safetensors ({len(hf)} tensors)")
