using System.Collections;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Pvp.Weights;

/// <summary>
/// Reads a state dict from disk: safetensors (what timm and Hugging Face publish) or a PyTorch <c>torch.save</c>
/// pickle (<c>.pt</c>, <c>.pth</c>, <c>.bin</c>). The pickle reader builds tensors and plain containers only; it runs
/// no code from the file, and any value that is not a tensor is reported by key.
/// </summary>
public static class StateDictFile
{
    /// <summary>Loads every tensor of the file onto the CPU, keyed by name.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">
    /// The file cannot be read as a state dict; the message names file and problem.
    /// </exception>
    public static Dictionary<string, Tensor> Load(string path)
    {
        if (Directory.Exists(path))
        {
            var inside = Directory.EnumerateFiles(path)
                .Where(f => Path.GetExtension(f).ToLowerInvariant() is ".safetensors" or ".npz" or ".pt" or ".pth" or ".bin")
                .Select(Path.GetFileName).Take(5).ToList();
            throw new InvalidDataException($"'{path}' is a folder; give the weights file inside it" +
                                           (inside.Count > 0
                                               ? $" (it holds {string.Join(", ", inside)})."
                                               : " (it holds no .safetensors, .pt, .pth or .bin file)."));
        }
        if (!File.Exists(path)) throw new FileNotFoundException($"No weights file at '{path}'.", path);
        string extension = Path.GetExtension(path).ToLowerInvariant();
        return extension switch
        {
            ".safetensors" => SafeTensors.Load(path),
            ".npz" => NpzFile.Load(path),
            ".pt" or ".pth" or ".bin" or ".ckpt" => LoadPickle(path),
            _ => throw new InvalidDataException(
                $"'{path}': unknown weights format '{extension}'. Use .safetensors, Google's original .npz, " +
                "or a PyTorch state dict saved as .pt, .pth or .bin."),
        };
    }

    /// <summary>Writes a state dict as a PyTorch pickle that <c>torch.load</c> reads.</summary>
    public static void SavePickle(string path, IReadOnlyDictionary<string, Tensor> tensors)
    {
        var table = new Hashtable();
        foreach (var (key, value) in tensors) table[key] = value;
        PyTorchPickler.PickleStateDict(path, table);
    }

    /// <summary>
    /// The bytes the file's arrays take once read, from what it declares without inflating anything: a zip's (.npz,
    /// torch.save's format) central directory lists each entry's uncompressed size; other files are read as stored.
    /// </summary>
    public static long DeclaredBytes(string path)
    {
        long length = new FileInfo(path).Length;
        try
        {
            using var zip = System.IO.Compression.ZipFile.OpenRead(path);
            return zip.Entries.Sum(e => e.Length);
        }
        catch (InvalidDataException)
        {
            return length; // not a zip: safetensors or a legacy pickle, read as stored
        }
    }

    /// <summary>
    /// libtorch's messages carry its C++ frames after the first line: the first says what went wrong.
    /// </summary>
    internal static string FirstLine(string message) =>
        message.Split('\n', 2)[0].Trim() is { Length: > 0 } first ? first : message.Trim();

    private static Dictionary<string, Tensor> LoadPickle(string path)
    {
        Hashtable table;
        try
        {
            table = PyTorchUnpickler.UnpickleStateDict(path);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException(
                $"'{path}' could not be read as a PyTorch state dict ({e.GetType().Name}: {FirstLine(e.Message)}). " +
                "Save the model's state_dict() (not the whole model) with torch.save, or convert it to safetensors.", e);
        }
        // Training checkpoints often wrap the weights: {"state_dict": {...}} or {"model": {...}}.
        foreach (string wrapper in new[] { "state_dict", "model", "module" })
            if (table.Count == 1 && table[wrapper] is Hashtable inner) table = inner;

        var result = new Dictionary<string, Tensor>(table.Count);
        var notTensors = new List<string>();
        foreach (DictionaryEntry entry in table)
        {
            string key = entry.Key?.ToString() ?? "";
            if (entry.Value is Tensor tensor) result[key] = tensor;
            else notTensors.Add($"{key} ({entry.Value?.GetType().Name ?? "null"})");
        }
        if (notTensors.Count > 0)
            throw new InvalidDataException($"'{path}' holds values that are not tensors: " +
                                           $"{string.Join(", ", notTensors.Take(10))}" +
                                           (notTensors.Count > 10 ? $" and {notTensors.Count - 10} more" : "") +
                                           ". Only plain state dicts are loaded.");
        return result;
    }
}
