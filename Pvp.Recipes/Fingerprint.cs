using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Pvp.Checkpoints;
using Pvp.Training.Data;

namespace Pvp.Recipes;

/// <summary>
/// Everything that determines one stage's or one cell's result, by name (variant and its declaration, data, settings,
/// seed, the files it starts from, Pvp's version). A run folder keeps the fingerprint of each stage and cell beside its
/// outputs; a recipe that would now produce something else is stopped before an old result is reported as its own.
/// </summary>
internal sealed class Fingerprint
{
    /// <summary>The file a stage or cell folder keeps it in.</summary>
    public const string FileName = "fingerprint.json";

    private readonly SortedDictionary<string, string> components;

    /// <summary>A fingerprint of these named components.</summary>
    public Fingerprint(IEnumerable<KeyValuePair<string, string>> components) =>
        this.components = new SortedDictionary<string, string>(components.ToDictionary(p => p.Key, p => p.Value),
            StringComparer.Ordinal);

    /// <summary>The components, sorted by name.</summary>
    public IReadOnlyDictionary<string, string> Components => components;

    /// <summary>
    /// "name: was A, now B" for each component that differs from <paramref name="recorded"/> (empty when equal).
    /// </summary>
    public IReadOnlyList<string> DifferencesFrom(Fingerprint recorded) =>
        components.Keys.Union(recorded.components.Keys).Order(StringComparer.Ordinal)
            .Where(k => recorded.components.GetValueOrDefault(k) != components.GetValueOrDefault(k))
            .Select(k => $"{k}: was {Show(recorded.components.GetValueOrDefault(k))}, " +
                         $"now {Show(components.GetValueOrDefault(k))}")
            .ToList();

    private static string Show(string? value)
        => value is null ? "(absent)" : value.Length > 120 ? value[..117] + "…" : value;

    /// <summary>Writes it into <paramref name="folder"/> atomically.</summary>
    public void Save(string folder) =>
        AtomicFile.Write(Path.Combine(folder, FileName),
            temp => File.WriteAllText(temp,
                JsonSerializer.Serialize(components, new JsonSerializerOptions { WriteIndented = true })));

    /// <summary>The fingerprint kept in <paramref name="folder"/>, or null when it has none.</summary>
    /// <exception cref="InvalidDataException">The file is unreadable; the message names it.</exception>
    public static Fingerprint? Load(string folder)
    {
        string path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            var values = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path));
            return values is null ? throw new JsonException("empty") : new Fingerprint(values);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is unreadable ({e.Message}); " +
                                           "delete it together with its folder's results to redo them.", e);
        }
    }

    /// <summary>
    /// SHA-256 of a file's bytes, as hex (files are hashed once per path, size and write time in a process).
    /// </summary>
    public static string HashFile(string path)
    {
        var info = new FileInfo(path);
        var key = (info.FullName, info.Length, info.LastWriteTimeUtc);
        lock (FileHashes)
        {
            if (FileHashes.TryGetValue(key, out var cached)) return cached;
        }
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        string hash = Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
        lock (FileHashes) FileHashes[key] = hash;
        return hash;
    }

    private static readonly Dictionary<(string, long, DateTime), string> FileHashes = new();

    /// <summary>
    /// SHA-256 of a dataset's class names and of every image's name (its last two path segments: the same data mounted
    /// elsewhere hashes alike) and label, in order: what it holds, not where.
    /// </summary>
    public static string HashDataset(IImageDataset dataset)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (string name in dataset.Classes) sha.AppendData(Encoding.UTF8.GetBytes(name + "\n"));
        for (int i = 0; i < dataset.Count; i++)
        {
            var segments = dataset.NameOf(i).Split('/', '\\');
            string tail = string.Join('/', segments.Skip(Math.Max(0, segments.Length - 2)));
            sha.AppendData(Encoding.UTF8.GetBytes($"{tail}\t{dataset.LabelOf(i)}\n"));
        }
        return Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant()[..16];
    }
}

/// <summary>
/// A run folder holds results of another recipe than the one given; the message names what changed and the choices.
/// </summary>
public sealed class StaleRunException(string message) : Exception(message);
