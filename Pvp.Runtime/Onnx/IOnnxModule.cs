namespace Pvp.Onnx;

/// <summary>
/// A module that can write itself into an ONNX graph: the export's counterpart of its <c>forward</c>. Pvp's blocks
/// implement it next to their forward; a user's <see cref="AttachAttribute"/> module implements it to take part in
/// <see cref="PetModel.ExportOnnx"/> (a model with an attached module that does not fails with
/// <see cref="OnnxExportException"/> and writes no file).
/// </summary>
/// <example>
/// SSF's scale and shift, y = x·γ + β:
/// <code>
/// public OnnxValue EmitOnnx(OnnxGraph graph, OnnxValue tokens) =>
///     graph.Add(graph.Mul(tokens, graph.Parameter(scale)), graph.Parameter(shift));
/// </code>
/// </example>
public interface IOnnxModule
{
    /// <summary>
    /// Adds the nodes that compute this module's inference forward (dropout off) on <paramref name="input"/> and
    /// returns the output. Parameters enter with <see cref="OnnxGraph.Parameter"/> (named by their state-dict keys),
    /// sub-modules with <see cref="OnnxGraph.Call"/>.
    /// </summary>
    /// <param name="graph">The graph being built.</param>
    /// <param name="input">The module's input, e.g. tokens [B, N, D].</param>
    OnnxValue EmitOnnx(OnnxGraph graph, OnnxValue input);
}

/// <summary>A tensor-valued edge of an ONNX graph under construction, named as in the file.</summary>
/// <param name="Name">The value's name in the graph.</param>
public readonly record struct OnnxValue(string Name)
{
    /// <inheritdoc />
    public override string ToString() => Name;
}

/// <summary>A model cannot be written as ONNX; nothing was written.</summary>
public sealed class OnnxExportException : Exception
{
    /// <summary>Creates it.</summary>
    public OnnxExportException(string message) : base(message)
    {
    }

    /// <summary>Creates it around the error that stopped the export.</summary>
    public OnnxExportException(string message, Exception inner) : base(message, inner)
    {
    }
}
