using Google.Protobuf;

namespace Pvp.Onnx;

/// <summary>
/// The subset of onnx.proto (ONNX IR version 8) that Pvp writes, encoded by hand on Google.Protobuf's
/// <see cref="CodedOutputStream"/>. Field numbers are those of onnx/onnx.proto; small messages are encoded into byte
/// arrays, and tensor payloads are streamed once, straight from the tensor's bytes into the file.
/// </summary>
internal static class OnnxProto
{
    /// <summary>IR version 8 is the one that goes with opset 17 (onnx/docs/Versioning.md).</summary>
    public const long IrVersion = 8;

    // TensorProto.DataType
    public const int Float = 1;
    public const int Int64 = 7;
    public const int BFloat16 = 16;

    // AttributeProto.AttributeType
    private const int AttrFloat = 1, AttrInt = 2, AttrString = 3, AttrInts = 7;

    /// <summary>A message body written by <paramref name="write"/>, as bytes.</summary>
    public static byte[] Message(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        using (var output = new CodedOutputStream(buffer, leaveOpen: true))
        {
            write(output);
            output.Flush();
        }
        return buffer.ToArray();
    }

    /// <summary>Writes field <paramref name="field"/> as a length-delimited sub-message or byte string.</summary>
    public static void Bytes(this CodedOutputStream output, int field, ReadOnlySpan<byte> bytes)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(bytes));
    }

    public static void String(this CodedOutputStream output, int field, string value)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteString(value);
    }

    public static void Int64Field(this CodedOutputStream output, int field, long value)
    {
        output.WriteTag(field, WireFormat.WireType.Varint);
        output.WriteInt64(value);
    }

    public static void Int32Field(this CodedOutputStream output, int field, int value)
    {
        output.WriteTag(field, WireFormat.WireType.Varint);
        output.WriteInt32(value);
    }

    /// <summary>StringStringEntryProto (metadata_props): key = 1, value = 2.</summary>
    public static byte[] Entry(string key, string value) => Message(o => { o.String(1, key); o.String(2, value); });

    /// <summary>OperatorSetIdProto: domain = 1, version = 2.</summary>
    public static byte[] OpsetId(string domain, long version) =>
        Message(o => { o.String(1, domain); o.Int64Field(2, version); });

    /// <summary>
    /// ValueInfoProto (name = 1, type = 2) of a tensor: TypeProto.tensor_type = 1 {elem_type = 1, shape = 2 {dim = 1
    /// {dim_value = 1 | dim_param = 2}}}.
    /// </summary>
    public static byte[] ValueInfo(string name, int elemType, IReadOnlyList<object> dims) => Message(o =>
    {
        o.String(1, name);
        var shape = Message(s =>
        {
            foreach (var dim in dims)
                s.Bytes(1, Message(d =>
                {
                    if (dim is string param) d.String(2, param);
                    else d.Int64Field(1, Convert.ToInt64(dim, System.Globalization.CultureInfo.InvariantCulture));
                }));
        });
        var tensorType = Message(t => { t.Int32Field(1, elemType); t.Bytes(2, shape); });
        o.Bytes(2, Message(t => t.Bytes(1, tensorType)));
    });

    /// <summary>NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5, domain = 7.</summary>
    public static byte[] Node(string opType, string name, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs,
        IReadOnlyList<OnnxAttribute> attributes) => Message(o =>
    {
        foreach (string input in inputs) o.String(1, input);
        foreach (string output in outputs) o.String(2, output);
        o.String(3, name);
        o.String(4, opType);
        foreach (var attribute in attributes) o.Bytes(5, Attribute(attribute));
    });

    /// <summary>AttributeProto: name = 1, f = 2, i = 3, s = 4, ints = 8, type = 20.</summary>
    private static byte[] Attribute(OnnxAttribute attribute) => Message(o =>
    {
        o.String(1, attribute.Name);
        switch (attribute.Value)
        {
            case float f:
                o.WriteTag(2, WireFormat.WireType.Fixed32);
                o.WriteFloat(f);
                o.Int32Field(20, AttrFloat);
                break;
            case long i:
                o.Int64Field(3, i);
                o.Int32Field(20, AttrInt);
                break;
            case string s:
                o.Bytes(4, System.Text.Encoding.UTF8.GetBytes(s));
                o.Int32Field(20, AttrString);
                break;
            case long[] ints:
                foreach (long i in ints) o.Int64Field(8, i);
                o.Int32Field(20, AttrInts);
                break;
            default:
                throw new ArgumentException(
                    $"Attribute {attribute.Name}: unsupported value type {attribute.Value.GetType().Name}.");
        }
    });

    /// <summary>The bytes of a TensorProto before its raw_data: dims = 1, data_type = 2, name = 8.</summary>
    public static byte[] TensorHeader(string name, int dataType, IReadOnlyList<long> dims) => Message(o =>
    {
        foreach (long dim in dims) o.Int64Field(1, dim);
        o.Int32Field(2, dataType);
        o.String(8, name);
    });

    /// <summary>
    /// Size of a TensorProto with <paramref name="header"/> and
    /// <paramref name="rawLength"/> bytes of raw_data (field 9).
    /// </summary>
    public static long TensorSize(byte[] header, long rawLength) =>
        header.Length + CodedOutputStream.ComputeTagSize(9)
            + CodedOutputStream.ComputeLengthSize(checked((int)rawLength)) + rawLength;

    /// <summary>
    /// Size of a length-delimited field <paramref name="field"/> whose body is <paramref name="length"/> bytes.
    /// </summary>
    public static long FieldSize(int field, long length) =>
        CodedOutputStream.ComputeTagSize(field) + CodedOutputStream.ComputeLengthSize(checked((int)length)) + length;
}

/// <summary>A node attribute: a float, an int64, a string or an int64 list.</summary>
/// <param name="Name">The attribute's name, e.g. <c>axis</c>.</param>
/// <param name="Value">
/// A <see cref="float"/>, <see cref="long"/>, <see cref="string"/> or <see cref="T:long[]"/>.
/// </param>
public readonly record struct OnnxAttribute(string Name, object Value);
