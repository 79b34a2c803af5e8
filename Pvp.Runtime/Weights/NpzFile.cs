using System.Globalization;
using System.IO.Compression;
using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace Pvp.Weights;

/// <summary>
/// Reads numpy's <c>.npz</c> archives (a zip of <c>.npy</c> arrays) — the format of Google's original ViT checkpoints
/// (<c>ViT-B_16.npz</c>, what VPT and PVP start from). Plain arrays only: object arrays (pickles) are refused by name.
/// </summary>
public static partial class NpzFile
{
    private static readonly Dictionary<string, (ScalarType Type, int Size)> Types = new(StringComparer.Ordinal)
    {
        ["<f4"] = (ScalarType.Float32, 4), ["<f8"] = (ScalarType.Float64, 8), ["<f2"] = (ScalarType.Float16, 2),
        ["<i8"] = (ScalarType.Int64, 8), ["<i4"] = (ScalarType.Int32, 4), ["|u1"] = (ScalarType.Byte, 1), ["|b1"] = (ScalarType.Bool, 1),
    };

    /// <summary>Every array of the archive onto the CPU, keyed by its name without <c>.npy</c>.</summary>
    /// <exception cref="InvalidDataException">
    /// Not a zip of .npy arrays, or an array that cannot be read; names the file and the entry.
    /// </exception>
    public static Dictionary<string, Tensor> Load(string path)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            using var zip = ZipFile.OpenRead(path);
            foreach (var entry in zip.Entries)
            {
                if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal)) continue;
                string name = entry.FullName[..^".npy".Length];
                using var stream = entry.Open();
                result[name] = ReadArray(stream, $"'{path}' entry '{entry.FullName}'");
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            foreach (var tensor in result.Values) tensor.Dispose();
            if (e.Message.Contains(path, StringComparison.Ordinal)) throw;
            throw new InvalidDataException($"'{path}' is not a readable numpy .npz archive ({e.Message}).", e);
        }
        if (result.Count == 0)
            throw new InvalidDataException($"'{path}' holds no .npy arrays; is it a numpy .npz archive?");
        return result;
    }

    private static Tensor ReadArray(Stream stream, string where)
    {
        var prefix = new byte[8];
        if (SafeTensors.ReadFully(stream, prefix) != 8
            || prefix[0] != 0x93 || prefix[1] != (byte)'N' || prefix[2] != (byte)'U')
            throw new InvalidDataException($"{where} is not a .npy array (no magic string).");
        int major = prefix[6];
        var lengthBytes = new byte[major == 1 ? 2 : 4];
        if (SafeTensors.ReadFully(stream, lengthBytes) != lengthBytes.Length)
            throw new InvalidDataException($"{where} ends inside its header.");
        int headerLength = major == 1 ? BitConverter.ToUInt16(lengthBytes) : (int)BitConverter.ToUInt32(lengthBytes);
        if (headerLength is <= 0 or > 1 << 20)
            throw new InvalidDataException($"{where} has an implausible header length {headerLength}.");
        var headerBytes = new byte[headerLength];
        if (SafeTensors.ReadFully(stream, headerBytes) != headerLength)
            throw new InvalidDataException($"{where} ends inside its header.");
        string header = System.Text.Encoding.ASCII.GetString(headerBytes);

        string descr = DescrPattern().Match(header) is { Success: true } d ? d.Groups[1].Value
            : throw new InvalidDataException($"{where}: the header names no 'descr'.");
        if (!Types.TryGetValue(descr, out var type))
            throw new InvalidDataException($"{where} holds dtype '{descr}'; Pvp reads little-endian float and integer " +
                                           "arrays only (object arrays are pickles and are never read).");
        bool fortran = FortranPattern().Match(header) is { Success: true } f && f.Groups[1].Value == "True";
        var shapeMatch = ShapePattern().Match(header);
        if (!shapeMatch.Success) throw new InvalidDataException($"{where}: the header names no 'shape'.");
        long[] shape = shapeMatch.Groups[1].Value.Split(',',
            StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? n
                : throw new InvalidDataException($"{where}: shape entry '{s}' is not a whole number.")).ToArray();
        long bytes;
        try { bytes = checked(shape.Aggregate(1L, (a, b) => a * b) * type.Size); }
        catch (OverflowException) { throw new InvalidDataException($"{where}: shape ({string.Join(", ", shape)}) overflows."); }
        if (bytes > int.MaxValue)
            throw new InvalidDataException($"{where} holds {bytes} bytes; one array of over 2 GiB is not supported.");

        // Fortran order is the reversed shape in C order, transposed back.
        var stored = fortran ? shape.Reverse().ToArray() : shape;
        var tensor = empty(stored, dtype: type.Type);
        if (SafeTensors.ReadFully(stream, tensor.bytes) != bytes)
        {
            tensor.Dispose();
            throw new InvalidDataException($"{where} is truncated: its shape " +
                                           $"({string.Join(", ", shape)}) needs {bytes} bytes.");
        }
        if (!fortran) return tensor;
        using (tensor)
            return tensor.permute(Enumerable.Range(0, shape.Length).Reverse().Select(i => (long)i).ToArray())
                .contiguous();
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']+)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
