using Google.Protobuf;

namespace Pvp.Tests.Onnx;

/// <summary>
/// An independent reader of the parts of an ONNX file the tests check (field numbers from onnx/onnx.proto): IR version,
/// opset, node op types, initializers. Written apart from the exporter so that the two cannot share a mistake.
/// </summary>
internal sealed class OnnxFileReader
{
    public long IrVersion { get; private set; }
    public long Opset { get; private set; }
    public List<string> OpTypes { get; } = new();
    public Dictionary<string, Initializer> Initializers { get; } = new(StringComparer.Ordinal);

    public sealed record Initializer(long[] Dims, int DataType, float[]? Floats);

    public static OnnxFileReader Read(string path)
    {
        var file = new OnnxFileReader();
        var input = new CodedInputStream(File.ReadAllBytes(path));
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: file.IrVersion = input.ReadInt64(); break;
                case 7: file.ReadGraph(input.ReadBytes()); break;
                case 8:
                {
                    var opset = new CodedInputStream(input.ReadBytes().ToByteArray());
                    uint t;
                    string domain = "";
                    long version = 0;
                    while ((t = opset.ReadTag()) != 0)
                        if (WireFormat.GetTagFieldNumber(t) == 1) domain = opset.ReadString();
                        else if (WireFormat.GetTagFieldNumber(t) == 2) version = opset.ReadInt64();
                        else opset.SkipLastField();
                    if (domain.Length == 0) file.Opset = version;
                    break;
                }
                default: input.SkipLastField(); break;
            }
        }
        return file;
    }

    private void ReadGraph(ByteString bytes)
    {
        var graph = new CodedInputStream(bytes.ToByteArray());
        uint tag;
        while ((tag = graph.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1:
                {
                    var node = new CodedInputStream(graph.ReadBytes().ToByteArray());
                    uint t;
                    while ((t = node.ReadTag()) != 0)
                        if (WireFormat.GetTagFieldNumber(t) == 4) OpTypes.Add(node.ReadString());
                        else node.SkipLastField();
                    break;
                }
                case 5:
                {
                    var tensor = new CodedInputStream(graph.ReadBytes().ToByteArray());
                    var dims = new List<long>();
                    int type = 0;
                    string name = "";
                    byte[] raw = Array.Empty<byte>();
                    uint t;
                    while ((t = tensor.ReadTag()) != 0)
                        switch (WireFormat.GetTagFieldNumber(t))
                        {
                            case 1: dims.Add(tensor.ReadInt64()); break;
                            case 2: type = tensor.ReadInt32(); break;
                            case 8: name = tensor.ReadString(); break;
                            case 9: raw = tensor.ReadBytes().ToByteArray(); break;
                            default: tensor.SkipLastField(); break;
                        }
                    float[]? floats = type == 1 ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(raw).ToArray() : null;
                    long count = dims.Aggregate(1L, (a, d) => a * d);
                    int size = type switch { 1 => 4, 7 => 8, 16 => 2, _ => 0 };
                    if (raw.Length != count * size) throw new InvalidDataException($"{name}: {raw.Length} bytes for {count} elements of type {type}");
                    Initializers.Add(name, new Initializer(dims.ToArray(), type, floats));
                    break;
                }
                default: graph.SkipLastField(); break;
            }
        }
    }
}
