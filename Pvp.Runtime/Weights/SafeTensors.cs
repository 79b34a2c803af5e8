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
    /// <exception cref="InvalidDataException">
    /// The file is not valid safetensors; the message names the file, the key and the problem.
    /// </exception>
    public static Dictionary<string, Tensor> Load(string path)
    {
        if (Directory.Exists(path))
            throw new InvalidDataException($"'{path}' is a folder, not a safetensors file; give the file inside it.");
        if (!File.Exists(path)) throw new FileNotFoundException($"No safetensors file at '{path}'.", path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        return Load(stream, path);
    }

    /// <summary>
    /// Loads every tensor of a safetensors stream onto the CPU; <paramref name="name"/> is used in errors. Every header
    /// field is checked before any tensor is allocated (known dtype, non-negative shape whose size does not overflow, a
    /// byte range inside the data that matches the shape and overlaps no other); tensors are then read one at a time,
    /// straight into their memory, so files of any size load without one whole-file buffer.
    /// </summary>
    /// <exception cref="InvalidDataException">
    /// The stream is not valid safetensors; the message names the key and the problem.
    /// </exception>
    public static Dictionary<string, Tensor> Load(Stream stream, string name = "<stream>")
    {
        var lengthBytes = new byte[8];
        if (ReadFully(stream, lengthBytes) != 8) throw Invalid(name, "it is shorter than the 8-byte header length");
        ulong headerLength = BitConverter.ToUInt64(lengthBytes);
        if (headerLength < 2 || headerLength > 100_000_000)
            throw Invalid(name, $"its header length {headerLength} is implausible");
        long? dataLength = stream.CanSeek ? stream.Length - 8 - (long)headerLength : null;
        if (dataLength < 0)
            throw Invalid(name, $"it is {stream.Length} bytes long, shorter than its {headerLength}-byte header says");
        var headerBytes = new byte[headerLength];
        if (ReadFully(stream, headerBytes) != headerBytes.Length) throw Invalid(name, "it ends inside its JSON header");

        var entries = ReadHeader(headerBytes, name, dataLength);
        var result = new Dictionary<string, Tensor>(entries.Count);
        try
        {
            long position = 0;
            var skip = new byte[1 << 16];
            foreach (var e in entries.OrderBy(e => e.Begin))
            {
                for (long gap = e.Begin - position; gap > 0;)
                {
                    int read = stream.Read(skip, 0, (int)Math.Min(gap, skip.Length));
                    if (read == 0) throw Invalid(name, $"it is truncated before tensor '{e.Key}'");
                    gap -= read;
                }
                var tensor = empty(e.Shape, dtype: e.Type);
                result[e.Key] = tensor;
                if (ReadFully(stream, tensor.bytes) != e.End - e.Begin)
                    throw Invalid(name,
                        $"it is truncated inside tensor '{e.Key}' (bytes {e.Begin} to {e.End} of the data)");
                position = e.End;
            }
        }
        catch
        {
            foreach (var tensor in result.Values) tensor.Dispose();
            throw;
        }
        return result;
    }

    /// <summary>The <c>__metadata__</c> strings of a safetensors file's header (empty when it has none).</summary>
    /// <exception cref="InvalidDataException">The header cannot be read.</exception>
    public static Dictionary<string, string> ReadMetadata(string path)
    {
        using var stream = File.OpenRead(path);
        var lengthBytes = new byte[8];
        if (ReadFully(stream, lengthBytes) != 8) throw Invalid(path, "it is shorter than the 8-byte header length");
        ulong headerLength = BitConverter.ToUInt64(lengthBytes);
        if (headerLength < 2 || headerLength > 100_000_000 || (long)headerLength > stream.Length - 8)
            throw Invalid(path, $"its header length {headerLength} is implausible");
        var headerBytes = new byte[headerLength];
        if (ReadFully(stream, headerBytes) != headerBytes.Length) throw Invalid(path, "it ends inside its JSON header");
        RequireUtf8(headerBytes, path);
        try
        {
            using var header = JsonDocument.Parse(headerBytes);
            return header.RootElement.ValueKind == JsonValueKind.Object
                   && header.RootElement.TryGetProperty("__metadata__", out var metadata)
                   && metadata.ValueKind == JsonValueKind.Object
                ? metadata.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String)
                    .ToDictionary(p => p.Name, p => p.Value.GetString()!)
                : new Dictionary<string, string>();
        }
        catch (JsonException e)
        {
            throw Invalid(path, $"its header is not valid JSON ({e.Message})");
        }
    }

    private sealed record Entry(string Key, ScalarType Type, long[] Shape, long Begin, long End);

    /// <summary>
    /// The header is JSON, so UTF-8 text: invalid bytes (a damaged file)
    /// are named here, not by a JSON reader's message that names no file.
    /// </summary>
    private static void RequireUtf8(byte[] headerBytes, string name)
    {
        if (!System.Text.Unicode.Utf8.IsValid(headerBytes))
            throw Invalid(name, "its JSON header is not valid UTF-8 text (the file is damaged)");
    }

    private static List<Entry> ReadHeader(byte[] headerBytes, string name, long? dataLength)
    {
        RequireUtf8(headerBytes, name);
        JsonDocument header;
        try { header = JsonDocument.Parse(headerBytes); }
        catch (JsonException e) { throw Invalid(name, $"its header is not valid JSON ({e.Message})"); }
        using (header)
        {
            if (header.RootElement.ValueKind != JsonValueKind.Object)
                throw Invalid(name,
                    $"its header is a JSON {header.RootElement.ValueKind.ToString().ToLowerInvariant()}, not an object of tensors");
            var entries = new List<Entry>();
            foreach (var property in header.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__") continue;
                string key = property.Name;
                var e = property.Value;
                if (e.ValueKind != JsonValueKind.Object)
                    throw Invalid(name, $"tensor '{key}' is described by a JSON " +
                                        $"{e.ValueKind.ToString().ToLowerInvariant()}, not an object");
                string code = e.TryGetProperty("dtype", out var d) && d.ValueKind == JsonValueKind.String
                    ? d.GetString()!
                    : throw Invalid(name, $"tensor '{key}' has no dtype");
                var dtype = DTypes.FirstOrDefault(t => t.Code == code);
                if (dtype.Code is null) throw Invalid(name, $"tensor '{key}' has unsupported dtype '{code}'");
                long[] shape = Integers(e, "shape", key, name);
                long[] offsets = Integers(e, "data_offsets", key, name);
                if (shape.Any(v => v < 0))
                    throw Invalid(name,
                        $"tensor '{key}' has a negative dimension in shape [{string.Join(", ", shape)}]");
                if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0])
                    throw Invalid(name, $"tensor '{key}' has data_offsets [{string.Join(", ", offsets)}]; " +
                                        "expected [begin, end] with 0 <= begin <= end");
                long bytes;
                try { bytes = checked(shape.Aggregate(1L, (a, b) => a * b) * dtype.Size); }
                catch (OverflowException)
                {
                    throw Invalid(name, $"tensor '{key}' has shape [{string.Join(", ", shape)}], whose size overflows");
                }
                if (offsets[1] - offsets[0] != bytes)
                    throw Invalid(name, $"tensor '{key}' has byte range [{offsets[0]}, {offsets[1]}] " +
                                        $"but shape [{string.Join(", ", shape)}] of {code} needs {bytes} bytes");
                if (bytes > int.MaxValue)
                    throw Invalid(name,
                        $"tensor '{key}' holds {bytes} bytes; one tensor of over 2 GiB is not supported");
                if (offsets[1] > dataLength)
                    throw Invalid(name, $"tensor '{key}' ends at byte {offsets[1]} of the data, " +
                                        $"but the file holds {dataLength} bytes of data (truncated?)");
                entries.Add(new Entry(key, dtype.Type, shape, offsets[0], offsets[1]));
            }
            var sorted = entries.OrderBy(e => e.Begin).ToList();
            for (int i = 1; i < sorted.Count; i++)
                if (sorted[i].Begin < sorted[i - 1].End)
                    throw Invalid(name, $"tensors '{sorted[i - 1].Key}' and '{sorted[i].Key}' overlap in the data");
            return entries;
        }
    }

    private static long[] Integers(JsonElement e, string field, string key, string name)
    {
        if (!e.TryGetProperty(field, out var value) || value.ValueKind != JsonValueKind.Array)
            throw Invalid(name, $"tensor '{key}' has no {field} list");
        return value.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long n)
            ? n : throw Invalid(name, $"tensor '{key}' has {field} entry {v.GetRawText()}, not a whole number")).ToArray();
    }

    /// <summary>
    /// Writes tensors to a safetensors file (moved to the CPU, made contiguous), with optional metadata.
    /// </summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
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
            if (dtype.Code is null)
                throw new ArgumentException($"Tensor '{key}' has dtype {cpu.dtype}, which safetensors cannot hold.",
                    nameof(tensors));
            byte[] blob = cpu.bytes.ToArray();
            header[key] = new
            {
                dtype = dtype.Code, shape = cpu.shape, data_offsets = new[] { offset, offset + blob.Length }
            };
            offset += blob.Length;
            blobs.Add(blob);
        }
        byte[] json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        using var stream = File.Create(path);
        stream.Write(BitConverter.GetBytes((ulong)json.Length));
        stream.Write(json);
        foreach (var blob in blobs) stream.Write(blob);
    }

    /// <summary>
    /// Reads until <paramref name="buffer"/> is full or the stream
    /// ends; returns the bytes read (also for <see cref="NpzFile"/>).
    /// </summary>
    internal static int ReadFully(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int read = stream.Read(buffer[total..]);
            if (read == 0) break;
            total += read;
        }
        return total;
    }

    private static InvalidDataException Invalid(string name, string problem) =>
        new($"'{name}' is not a valid safetensors file: {problem}.");
}
