using System.Globalization;
using System.Runtime.InteropServices;
using Google.Protobuf;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pvp.Onnx;

/// <summary>
/// An ONNX graph under construction (ai.onnx, opset <see cref="OnnxExportOptions.Opset"/>): the one place that knows
/// how each operation Pvp's forward passes use is spelled in ONNX. Modules add their nodes through it
/// (<see cref="IOnnxModule.EmitOnnx"/>); parameters become initializers named by their state-dict keys.
/// </summary>
public sealed class OnnxGraph
{
    private readonly List<byte[]> nodes = new();
    private readonly List<(byte[] Header, Tensor Data)> initializers = new();
    private readonly HashSet<string> names = new(StringComparer.Ordinal);
    private readonly Dictionary<IntPtr, string> parameterNames = new();
    private readonly Dictionary<IntPtr, OnnxValue> parameterValues = new();
    private readonly Dictionary<nn.Module, string> modulePaths = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, OnnxValue> constants = new(StringComparer.Ordinal);
    private readonly Stack<string> scopes = new();
    private readonly List<byte[]> inputs = new();
    private readonly List<byte[]> outputs = new();
    private int counter;

    internal OnnxGraph(nn.Module root, OnnxExportOptions options)
    {
        Options = options;
        if (options.Opset < OnnxExportOptions.DefaultOpset)
            throw new ArgumentOutOfRangeException(nameof(options), options.Opset,
                $"Opset {options.Opset}: Pvp writes opset {OnnxExportOptions.DefaultOpset} or later " +
                "(LayerNormalization).");
        foreach (var (name, parameter) in root.named_parameters()) parameterNames[parameter.Handle] = name;
        foreach (var (name, buffer) in root.named_buffers()) parameterNames[buffer.Handle] = name;
        foreach (var (name, module) in root.named_modules()) modulePaths[module] = name;
        modulePaths[root] = "";
    }

    /// <summary>The export's options (e.g. how LoRA layers are written).</summary>
    public OnnxExportOptions Options { get; }

    /// <summary>
    /// The state-dict path of <paramref name="module"/> in the exported model (e.g. <c>blocks.1.attn</c>), or null.
    /// </summary>
    public string? PathOf(nn.Module module) => modulePaths.TryGetValue(module, out string? path) ? path : null;

    // ---- modules --------------------------------------------------------------------------------------------------

    /// <summary>
    /// The nodes of <paramref name="module"/>'s inference forward on <paramref name="input"/>: an
    /// <see cref="IOnnxModule"/> writes its own; TorchSharp's Linear, LayerNorm, Identity and Dropout are known here.
    /// </summary>
    /// <exception cref="OnnxExportException">
    /// The module is of another kind; the message names it and <see cref="IOnnxModule"/>.
    /// </exception>
    public OnnxValue Call(nn.Module module, OnnxValue input)
    {
        string path = PathOf(module) ?? module.GetName();
        scopes.Push(path);
        try
        {
            return module switch
            {
                IOnnxModule exportable => exportable.EmitOnnx(this, input),
                Linear linear => Linear(input, linear.weight!, linear.bias),
                LayerNorm norm => LayerNorm(input, norm.weight!, norm.bias!, norm.eps),
                Identity => input,
                Dropout => input, // inference: dropout is the identity
                _ => throw new OnnxExportException(
                    $"Cannot export '{path}' ({module.GetType().FullName}) to ONNX: " +
                    $"it does not implement {typeof(IOnnxModule).FullName}. " +
                    $"Implement {nameof(IOnnxModule)}.{nameof(IOnnxModule.EmitOnnx)} on it " +
                    "to add its nodes to the graph; no file was written."),
            };
        }
        finally
        {
            scopes.Pop();
        }
    }

    // ---- values -----------------------------------------------------------------------------------------------------

    /// <summary>
    /// A parameter (or buffer) of the exported model as an initializer named by its state-dict key, added once.
    /// </summary>
    /// <exception cref="OnnxExportException">The tensor is not a parameter or buffer of the exported model.</exception>
    public OnnxValue Parameter(Tensor parameter)
    {
        if (parameterValues.TryGetValue(parameter.Handle, out var known)) return known;
        if (!parameterNames.TryGetValue(parameter.Handle, out string? name))
            throw new OnnxExportException(
                $"A tensor of shape [{string.Join(", ", parameter.shape)}] in '{Scope}' " +
                "is not a parameter of the exported model; " +
                $"add it with {nameof(Constant)}.");
        var value = Constant(name, parameter);
        parameterValues[parameter.Handle] = value;
        return value;
    }

    /// <summary>
    /// A tensor computed at export time (e.g. a merged LoRA weight) as an initializer named <paramref name="name"/>.
    /// Floating tensors are stored as float32, bfloat16 ones as bfloat16 with a Cast when
    /// <see cref="OnnxExportOptions.Weights"/> says so.
    /// </summary>
    public OnnxValue Constant(string name, Tensor value)
    {
        if (!names.Add(name)) throw new OnnxExportException($"Two initializers would be named '{name}'.");
        bool keepBf16 = value.dtype == ScalarType.BFloat16 && Options.Weights == OnnxWeightType.KeepBFloat16;
        Tensor stored;
        using (var scope = NewDisposeScope())
        {
            stored = value.detach().cpu()
                .to(keepBf16 ? ScalarType.BFloat16
                    : value.dtype == ScalarType.Int64 ? ScalarType.Int64
                    : ScalarType.Float32)
                .contiguous().clone();
            stored.DetachFromDisposeScope(); // kept until the file is written, whatever scope the caller is in
        }
        int type = stored.dtype switch
        {
            ScalarType.BFloat16 => OnnxProto.BFloat16,
            ScalarType.Int64 => OnnxProto.Int64,
            _ => OnnxProto.Float,
        };
        initializers.Add((OnnxProto.TensorHeader(name, type, stored.shape), stored));
        if (!keepBf16) return new OnnxValue(name);
        var cast = Fresh("Cast");
        nodes.Add(OnnxProto.Node("Cast", cast, new[] { name }, new[] { cast },
            new[] { new OnnxAttribute("to", (long)OnnxProto.Float) }));
        return new OnnxValue(cast);
    }

    /// <summary>A float32 scalar constant (shared between uses of the same value).</summary>
    public OnnxValue Scalar(float value)
    {
        string key = "f:" + value.ToString("R", CultureInfo.InvariantCulture);
        if (constants.TryGetValue(key, out var known)) return known;
        using var scalar = torch.tensor(value);
        return constants[key] = Constant($"const.{constants.Count}", scalar);
    }

    /// <summary>A 1-D int64 constant (shapes, axes, indices), shared between uses of the same values.</summary>
    public OnnxValue Int64s(params long[] values)
    {
        string key = "i:" + string.Join(",", values);
        if (constants.TryGetValue(key, out var known)) return known;
        using var tensor = torch.tensor(values);
        return constants[key] = Constant($"const.{constants.Count}", tensor);
    }

    /// <summary>An int64 scalar constant (a Gather index that drops the axis).</summary>
    public OnnxValue Int64Scalar(long value)
    {
        string key = "s:" + value.ToString(CultureInfo.InvariantCulture);
        if (constants.TryGetValue(key, out var known)) return known;
        using var tensor = torch.tensor(value);
        return constants[key] = Constant($"const.{constants.Count}", tensor);
    }

    // ---- operations -------------------------------------------------------------------------------------------------

    /// <summary>Adds a node with one output and returns it.</summary>
    /// <param name="opType">The ai.onnx operator, e.g. <c>MatMul</c>.</param>
    /// <param name="inputs">Its inputs in the operator's order.</param>
    /// <param name="attributes">Its attributes.</param>
    public OnnxValue Node(string opType, IReadOnlyList<OnnxValue> inputs, params OnnxAttribute[] attributes)
    {
        string name = Fresh(opType);
        nodes.Add(OnnxProto.Node(opType, name, inputs.Select(i => i.Name).ToList(), new[] { name }, attributes));
        return new OnnxValue(name);
    }

    /// <summary>a + b (broadcasting), as <see cref="Scalars.Add"/>.</summary>
    public OnnxValue Add(OnnxValue a, OnnxValue b) => Node("Add", new[] { a, b });

    /// <summary>a − b (broadcasting).</summary>
    public OnnxValue Sub(OnnxValue a, OnnxValue b) => Node("Sub", new[] { a, b });

    /// <summary>a · b elementwise (broadcasting).</summary>
    public OnnxValue Mul(OnnxValue a, OnnxValue b) => Node("Mul", new[] { a, b });

    /// <summary>a · s for a scalar s.</summary>
    public OnnxValue Mul(OnnxValue a, double s) => Mul(a, Scalar((float)s));

    /// <summary>Matrix product with numpy broadcasting.</summary>
    public OnnxValue MatMul(OnnxValue a, OnnxValue b) => Node("MatMul", new[] { a, b });

    /// <summary>max(x, 0).</summary>
    public OnnxValue Relu(OnnxValue x) => Node("Relu", new[] { x });

    /// <summary>The exact GELU, x·½·(1 + erf(x / √2)) — PyTorch's default (not the tanh approximation).</summary>
    public OnnxValue Gelu(OnnxValue x)
    {
        var erf = Node("Erf", new[] { Node("Div", new[] { x, Scalar((float)Math.Sqrt(2.0)) }) });
        return Mul(Mul(x, Add(erf, Scalar(1f))), Scalar(0.5f));
    }

    /// <summary>Softmax along <paramref name="axis"/> (opset 13 semantics: that axis only).</summary>
    public OnnxValue Softmax(OnnxValue x, long axis = -1) =>
        Node("Softmax", new[] { x }, new OnnxAttribute("axis", axis));

    /// <summary>LayerNormalization over the last axis (one node, opset 17).</summary>
    public OnnxValue LayerNorm(OnnxValue x, Tensor weight, Tensor bias, double eps) =>
        Node("LayerNormalization", new[] { x, Parameter(weight), Parameter(bias) },
            new OnnxAttribute("axis", -1L), new OnnxAttribute("epsilon", (float)eps));

    /// <summary>Permutes axes.</summary>
    public OnnxValue Transpose(OnnxValue x, params long[] perm) =>
        Node("Transpose", new[] { x }, new OnnxAttribute("perm", perm));

    /// <summary>Reshape; 0 copies the input's dimension (keeps the batch dynamic), −1 is inferred.</summary>
    public OnnxValue Reshape(OnnxValue x, params long[] shape) => Node("Reshape", new[] { x, Int64s(shape) });

    /// <summary>Concatenation along <paramref name="axis"/>.</summary>
    public OnnxValue Concat(long axis, params OnnxValue[] values) =>
        Node("Concat", values, new OnnxAttribute("axis", axis));

    /// <summary>
    /// Elements [start, end) of <paramref name="axis"/> (end may be
    /// <see cref="long.MaxValue"/>: to the end), as <c>narrow</c>.
    /// </summary>
    public OnnxValue Slice(OnnxValue x, long axis, long start, long end) =>
        Node("Slice", new[] { x, Int64s(start), Int64s(end), Int64s(axis) });

    /// <summary>
    /// Index <paramref name="index"/> of <paramref name="axis"/>, dropping the axis, as <c>select</c>.
    /// </summary>
    public OnnxValue Select(OnnxValue x, long axis, long index) =>
        Node("Gather", new[] { x, Int64Scalar(index) }, new OnnxAttribute("axis", axis));

    /// <summary>
    /// <paramref name="value"/> [1, ...rest] broadcast to [B, ...rest], B being the
    /// first dimension of <paramref name="like"/> — as <c>expand(B, -1, ...)</c>;
    /// <paramref name="rest"/> are the static trailing dimensions.
    /// </summary>
    public OnnxValue ExpandBatch(OnnxValue value, OnnxValue like, params long[] rest)
    {
        var batch = Node("Shape", new[] { like }, new OnnxAttribute("start", 0L), new OnnxAttribute("end", 1L));
        return Node("Expand", new[] { value, Concat(0, batch, Int64s(rest)) });
    }

    /// <summary>
    /// x·Wᵀ + b, as <c>nn.functional.linear</c>: W [out, in] is stored as in the state dict and transposed by a node
    /// ONNX Runtime folds at load.
    /// </summary>
    public OnnxValue Linear(OnnxValue x, Tensor weight, Tensor? bias) =>
        Linear(x, Parameter(weight), bias is null ? null : Parameter(bias));

    /// <summary>x·Wᵀ + b for graph values W [out, in] and b [out].</summary>
    public OnnxValue Linear(OnnxValue x, OnnxValue weight, OnnxValue? bias)
    {
        var product = MatMul(x, Transpose(weight, 1, 0));
        return bias is { } b ? Add(product, b) : product;
    }

    /// <summary>
    /// LoRA's branch (alpha / r)·x·Aᵀ·Bᵀ for A [r, in], B [out, r] (the low-rank path, two thin products).
    /// </summary>
    public OnnxValue LoraBranch(OnnxValue x, Tensor loraA, Tensor loraB, double scale) =>
        Mul(MatMul(MatMul(x, Transpose(Parameter(loraA), 1, 0)), Transpose(Parameter(loraB), 1, 0)), scale);

    // ---- graph interface and file -----------------------------------------------------------------------------------

    internal OnnxValue AddInput(string name, IReadOnlyList<object> dims)
    {
        if (!names.Add(name)) throw new OnnxExportException($"Two values would be named '{name}'.");
        inputs.Add(OnnxProto.ValueInfo(name, OnnxProto.Float, dims));
        return new OnnxValue(name);
    }

    internal void AddOutput(OnnxValue value, string name, IReadOnlyList<object> dims)
    {
        if (!names.Add(name)) throw new OnnxExportException($"Two values would be named '{name}'.");
        nodes.Add(OnnxProto.Node("Identity", name, new[] { value.Name }, new[] { name }, Array.Empty<OnnxAttribute>()));
        outputs.Add(OnnxProto.ValueInfo(name, OnnxProto.Float, dims));
    }

    /// <summary>Node count so far (for reports and tests).</summary>
    public int NodeCount => nodes.Count;

    /// <summary>Writes the ModelProto to <paramref name="stream"/>.</summary>
    internal void Write(Stream stream, string graphName, string producerVersion, string docString,
        IReadOnlyList<KeyValuePair<string, string>> metadata)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("ONNX raw_data is little-endian; this host is not.");
        var graphHead = new List<(int Field, byte[] Bytes)>();
        graphHead.AddRange(nodes.Select(n => (1, n)));
        graphHead.Add((2, System.Text.Encoding.UTF8.GetBytes(graphName)));
        long graphSize = graphHead.Sum(f => OnnxProto.FieldSize(f.Field, f.Bytes.Length));
        var tensorSizes = initializers
            .Select(t => OnnxProto.TensorSize(t.Header, t.Data.NumberOfElements * t.Data.ElementSize))
            .ToList();
        graphSize += tensorSizes.Sum(size => OnnxProto.FieldSize(5, size));
        var graphTail = inputs.Select(i => (11, i)).Concat(outputs.Select(o => (12, o))).ToList();
        graphSize += graphTail.Sum(f => OnnxProto.FieldSize(f.Item1, f.Item2.Length));
        if (graphSize > int.MaxValue)
            throw new OnnxExportException(
                $"The graph is {graphSize / (1 << 20)} MiB; a protobuf message holds under 2 GiB " +
                "(ONNX's external data is not written by Pvp).");

        using var output = new CodedOutputStream(stream, leaveOpen: true);
        void Raw(byte[] bytes)
        {
            output.Flush();
            stream.Write(bytes);
        }
        output.Int64Field(1, OnnxProto.IrVersion);
        output.String(2, "Pvp");
        output.String(3, producerVersion);
        output.String(4, "org.pvp");
        output.Int64Field(5, 1);
        output.String(6, docString);
        output.WriteTag(7, WireFormat.WireType.LengthDelimited);
        output.WriteLength((int)graphSize);
        foreach (var (field, bytes) in graphHead) output.Bytes(field, bytes);
        for (int i = 0; i < initializers.Count; i++)
        {
            var (header, data) = initializers[i];
            output.WriteTag(5, WireFormat.WireType.LengthDelimited);
            output.WriteLength((int)tensorSizes[i]);
            Raw(header);
            output.WriteTag(9, WireFormat.WireType.LengthDelimited);
            output.WriteLength((int)(data.NumberOfElements * data.ElementSize));
            output.Flush();
            WriteRaw(stream, data);
        }
        foreach (var (field, bytes) in graphTail) output.Bytes(field, bytes);
        output.Bytes(8, OnnxProto.OpsetId("", Options.Opset));
        foreach (var (key, value) in metadata) output.Bytes(14, OnnxProto.Entry(key, value));
        output.Flush();
    }

    /// <summary>The tensor's elements, little-endian, straight from its storage.</summary>
    private static void WriteRaw(Stream stream, Tensor data)
    {
        switch (data.dtype)
        {
            case ScalarType.Float32: stream.Write(MemoryMarshal.AsBytes(data.data<float>().ToArray().AsSpan())); break;
            case ScalarType.Int64: stream.Write(MemoryMarshal.AsBytes(data.data<long>().ToArray().AsSpan())); break;
            case ScalarType.BFloat16: stream.Write(data.bytes); break;
            default: throw new OnnxExportException($"Cannot store a {data.dtype} tensor.");
        }
    }

    internal void DisposeTensors()
    {
        foreach (var (_, data) in initializers) data.Dispose();
    }

    private string Scope => scopes.Count > 0 ? scopes.Peek() : "";

    private string Fresh(string opType)
    {
        string name;
        do name = $"{(Scope.Length > 0 ? Scope + "/" : "")}{opType}_{counter++}";
        while (!names.Add(name));
        return name;
    }
}
