using System.Security.Cryptography;
using System.Text.Json;

namespace Pvp.Recipes;

/// <summary>
/// What a finished cell's training wrote, sealed: the SHA-256 of its <c>result.json</c> and of its
/// <c>tuned.safetensors</c>, recorded in <c>seal.json</c> when the cell ends. <c>report</c>, <c>status</c>, <c>eval</c>
/// and <c>export</c> compare them, so a result edited by hand (or a model swapped in) is never published as the cell's.
/// </summary>
internal static class CellSeal
{
    /// <summary>The file a cell folder keeps the seal in.</summary>
    public const string FileName = "seal.json";

    /// <summary>The result's file name in a cell folder.</summary>
    public const string ResultFile = "result.json";

    /// <summary>The tuned model's file name in a cell folder.</summary>
    public const string TunedFile = "tuned.safetensors";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>
    /// Writes <paramref name="result"/> as the cell's <c>result.json</c>, sealed with its tuned model. The seal
    /// is written first: a process that stops between the two leaves no result, so the cell simply runs again.
    /// </summary>
    public static void Save(string folder, CellResult result)
    {
        byte[] bytes = result.ToJsonBytes();
        var seal = new Dictionary<string, string>
        {
            ["result.json"] = Hash(bytes),
            ["tuned.safetensors"] = File.Exists(Path.Combine(folder, TunedFile))
                ? Fingerprint.HashFile(Path.Combine(folder, TunedFile))
                : "(none)",
        };
        Checkpoints.AtomicFile.Write(Path.Combine(folder, FileName),
            temp => File.WriteAllText(temp, JsonSerializer.Serialize(seal, Indented)));
        Checkpoints.AtomicFile.Write(Path.Combine(folder, ResultFile), temp => File.WriteAllBytes(temp, bytes));
    }

    /// <summary>
    /// Null when the folder's result and tuned model are what training wrote; otherwise what no longer matches.
    /// </summary>
    public static string? Broken(string folder)
    {
        string sealPath = Path.Combine(folder, FileName);
        if (!File.Exists(sealPath))
            return "it records no seal of what training wrote (an older Pvp, or a result.json written by hand)";
        Dictionary<string, string>? seal;
        try
        {
            seal = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(sealPath));
        }
        catch (JsonException)
        {
            seal = null;
        }
        if (seal is null || !seal.TryGetValue("result.json", out string? resultHash)
            || !seal.TryGetValue("tuned.safetensors", out string? tunedHash))
            return $"its seal '{sealPath}' is unreadable";
        string result = Path.Combine(folder, ResultFile), tuned = Path.Combine(folder, TunedFile);
        if (Hash(File.ReadAllBytes(result)) != resultHash) return "its result.json was changed after training wrote it";
        string tunedNow = File.Exists(tuned) ? Fingerprint.HashFile(tuned) : "(none)";
        if (tunedNow != tunedHash)
            return tunedNow == "(none)"
                ? "its tuned.safetensors is missing"
                : "its tuned.safetensors was changed after training wrote it";
        return null;
    }

    private static string Hash(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();
}
