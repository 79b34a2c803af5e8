using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Pvp.Weights;

/// <summary>
/// Reads and writes the safetensors format (an 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and byte range, then the raw little-endian data). Plain data only: nothing is executed.
/// </summary>
public static class SafeTensors
{
    private static readonly (string Code, ScalarType Type, int Size)[] DTypes =
    {
        ("F64", ScalarType.Float64, 8), ("F32", ScalarType.Float32, 4), ("F16", ScalarType.Float16, 2),
        ("BF16", ScalarType.BFloat16, 2), ("I64", ScalarType.Int64, 8), ("I32", ScalarType.Int32, 4),
        ("I16", ScalarType.Int16, 2), ("I8", ScalarType.Int8, 1), ("U8", ScalarType.Byte, 1), ("BOOL", ScalarType.Bool, 1),
    };

    /// <summary>Loads every tensor of a safetensors file onto the CPU, keyed by name.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not valid safetensors; the message names the file and the problem.</exception>
    public static Dictionary<string, Tensor> Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No safetensors file at '{path}'.", path);
        using var stream = File.OpenRead(path);
        return Load(stream, path);
    }

    /// <summary>Loads every tensor of a safetensors stream onto the CPU; <paramref name="name"/> is used in errors.</summary>
    public static Dictionary<string, Tensor> Load(Stream stream, string name = "<stream>")
    {
        var lengthBytes = new byte[8];
        if (ReadFully(stream, lengthBytes) != 8) throw Invalid(name, "it is shorter than the 8-byte header length");
        ulong headerLength = BitConverter.ToUInt64(lengthBytes);
        if (headerLength == 0 || headerLength > 100_000_000) throw Invalid(name, $"its header length {headerLength} is implausible");
        var headerBytes = new byte[headerLength];
        if (ReadFully(stream, headerBytes) != headerBytes.Length) throw Invalid(name, "it ends inside its JSON header");

        JsonDocument header;
        try { header = JsonDocument.Parse(headerBytes); }
        catch (JsonException e) { throw Invalid(name, $"its header is not valid JSON ({e.Message})"); }

        using (header)
        {
            var entries = new List<(string Key, ScalarType Type, int Size, long[] Shape, long Begin, long End)>();
            foreach (var property in header.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__") continue;
                var e = property.Value;
                string code = e.GetProperty("dtype").GetString() ?? "";
                var dtype = DTypes.FirstOrDefault(d => d.Code == code);
                if (dtype.Code is null) throw Invalid(name, $"tensor '{property.Name}' has unsupported dtype '{code}'");
                long[] shape = e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt64()).ToArray();
                long[] offsets = e.GetProperty("data_offsets").EnumerateArray().Select(v => v.GetInt64()).ToArray();
                long expected = shape.Aggregate(1L, (a, b) => a * b) * dtype.Size;
                if (offsets.Length != 2 || offsets[1] - offsets[0] != expected)
                    throw Invalid(name, $"tensor '{property.Name}' has byte range [{string.Join(", ", offsets)}] but shape [{string.Join(", ", shape)}] of {code} needs {expected} bytes");
                entries.Add((property.Name, dtype.Type, dtype.Size, shape, offsets[0], offsets[1]));
            }

            long dataLength = entries.Count == 0 ? 0 : entries.Max(e => e.End);
            var data = new byte[dataLength];
            if (ReadFully(stream, data) != data.Length) throw Invalid(name, $"it is truncated: the header promises {dataLength} bytes of data");

            var result = new Dictionary<string, Tensor>(entries.Count);
            foreach (var e in entries)
            {
                var tensor = empty(e.Shape, dtype: e.Type);
                data.AsSpan((int)e.Begin, (int)(e.End - e.Begin)).CopyTo(tensor.bytes);
                result[e.Key] = tensor;
            }
            return result;
        }
    }

    /// <summary>Writes tensors to a safetensors file (moved to the CPU, made contiguous), with optional metadata.</summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var ordered = tensors.OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
        var header = new Dictionary<string, object>();
        if (metadata is { Count: > 0 }) header["__metadata__"] = metadata;
        long offset = 0;
        var blobs = new List<byte[]>();
        foreach (var (key, tensor) in ordered)
        {
            using var cpu = tensor.detach().cpu().contiguous();
            var dtype = DTypes.FirstOrDefault(d => d.Type == cpu.dtype);
            if (dtype.Code is null) throw new ArgumentException($"Tensor '{key}' has dtype {cpu.dtype}, which safetensors cannot hold.", nameof(tensors));
            byte[] blob = cpu.bytes.ToArray();
            header[key] = new { dtype = dtype.Code, shape = cpu.shape, data_offsets = new[] { offset, offset + blob.Length } };
            offset += blob.Length;
            blobs.Add(blob);
        }
        byte[] json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        using var stream = File.Create(path);
        stream.Write(BitConverter.GetBytes((ulong)json.Length));
        stream.Write(json);
        foreach (var blob in blobs) stream.Write(blob);
    }

    private static int ReadFully(Stream stream, byte[] buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int read = stream.Read(buffer, total, buffer.Length - total);
            if (read == 0) break;
            total += read;
        }
        return total;
    }

    private static InvalidDataException Invalid(string name, string problem) =>
        new($"'{name}' is not a valid safetensors file: {problem}.");
}
