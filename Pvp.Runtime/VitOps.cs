using TorchSharp;
using static TorchSharp.torch;

namespace Pvp;

/// <summary>Small tensor operations that generated forward passes share.</summary>
public static class VitOps
{
    /// <summary>[B, N, D] patch tokens and a [1, 1, D] class token → [B, 1 + N, D].</summary>
    public static Tensor PrependClassToken(Tensor patches, Tensor classToken)
    {
        using var expanded = classToken.expand(patches.shape[0], -1, -1);
        return cat(new[] { expanded, patches }, 1);
    }

    /// <summary>
    /// VPT: [B, 1 + N, D] and prompts [1, T, D] → [B, 1 + T + N, D], the prompts after the class token.
    /// </summary>
    public static Tensor InsertPrompts(Tensor tokens, Tensor prompts)
    {
        using var scope = NewDisposeScope();
        long b = tokens.shape[0];
        var joined = cat(
            new[] { tokens.narrow(1, 0, 1), prompts.expand(b, -1, -1), tokens.narrow(1, 1, tokens.shape[1] - 1) }, 1);
        return joined.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// VPT-deep: drops the T prompt outputs of [B, 1 + T + N, D] and
    /// puts <paramref name="prompts"/> [1, T, D] in their place.
    /// </summary>
    public static Tensor ReplacePrompts(Tensor tokens, Tensor prompts)
    {
        using var scope = NewDisposeScope();
        long b = tokens.shape[0], t = prompts.shape[1];
        var rest = tokens.narrow(1, 1 + t, tokens.shape[1] - 1 - t);
        var joined = cat(new[] { tokens.narrow(1, 0, 1), prompts.expand(b, -1, -1), rest }, 1);
        return joined.MoveToOuterDisposeScope();
    }

    /// <summary>The class token of each sequence: [B, N, D] → [B, D].</summary>
    public static Tensor ClassToken(Tensor tokens) => tokens.select(1, 0);

    // The same operations as ONNX nodes, for the exported graph (one overload beside each tensor version).

    /// <summary>ONNX: [B, N, D] patch tokens and a [1, 1, D] class token → [B, 1 + N, D].</summary>
    public static Onnx.OnnxValue PrependClassToken(
        Onnx.OnnxGraph graph, Onnx.OnnxValue patches, Onnx.OnnxValue classToken, long dim) =>
        graph.Concat(1, graph.ExpandBatch(classToken, patches, 1, dim), patches);

    /// <summary>ONNX: [B, 1 + N, D] and prompts [1, T, D] → [B, 1 + T + N, D].</summary>
    public static Onnx.OnnxValue InsertPrompts(
        Onnx.OnnxGraph graph, Onnx.OnnxValue tokens, Onnx.OnnxValue prompts, long length, long dim) =>
        graph.Concat(1,
            graph.Slice(tokens, 1, 0, 1),
            graph.ExpandBatch(prompts, tokens, length, dim),
            graph.Slice(tokens, 1, 1, long.MaxValue));

    /// <summary>
    /// ONNX: drops the T prompt outputs of [B, 1 + T + N, D] and
    /// puts <paramref name="prompts"/> [1, T, D] in their place.
    /// </summary>
    public static Onnx.OnnxValue ReplacePrompts(
        Onnx.OnnxGraph graph, Onnx.OnnxValue tokens, Onnx.OnnxValue prompts, long length, long dim) =>
        graph.Concat(1,
            graph.Slice(tokens, 1, 0, 1),
            graph.ExpandBatch(prompts, tokens, length, dim),
            graph.Slice(tokens, 1, 1 + length, long.MaxValue));

    /// <summary>ONNX: the class token of each sequence, [B, N, D] → [B, D].</summary>
    public static Onnx.OnnxValue ClassToken(Onnx.OnnxGraph graph, Onnx.OnnxValue tokens) => graph.Select(tokens, 1, 0);
}
