using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pvp.Recipe;

/// <summary>
/// One independent stage-2 run: a task, a shot count, a seed, and whether the PETuning modules start from stage 1 (PVP)
/// or at random. Its <see cref="Id"/> is deterministic, so cells can be spread over machines and merged by copying
/// their folders into one run folder.
/// </summary>
public sealed record GridCell(string Task, int Shots, int Seed, bool PvpInit)
{
    /// <summary>"pvp" or "random".</summary>
    public string Init => PvpInit ? "pvp" : "random";

    /// <summary>e.g. <c>shapes/4shot-seed1-pvp</c>; also the cell's folder under <c>stage2/</c>.</summary>
    public string Id => $"{Task}/{Shots}shot-seed{Seed}-{Init}";

    /// <summary>Parses an <see cref="Id"/>.</summary>
    /// <exception cref="FormatException">Not a cell id; the message shows the form.</exception>
    public static GridCell Parse(string id)
    {
        var match = System.Text.RegularExpressions.Regex.Match(id, @"^(?<task>[^/]+)/(?<shots>\d{1,9})shot-seed(?<seed>\d{1,9})-(?<init>pvp|random)$");
        if (!match.Success) throw new FormatException($"'{id}' is not a cell id; expected TASK/<k>shot-seed<s>-pvp or -random, e.g. shapes/4shot-seed1-pvp.");
        return new GridCell(match.Groups["task"].Value, int.Parse(match.Groups["shots"].Value, System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(match.Groups["seed"].Value, System.Globalization.CultureInfo.InvariantCulture), match.Groups["init"].Value == "pvp");
    }
}

/// <summary>A finished cell's outcome (its <c>result.json</c>); <c>Precision</c> is the frozen backbone's ("bf16" or "float32").</summary>
public sealed record CellResult(
    [property: JsonPropertyName("task")] string Task,
    [property: JsonPropertyName("shots")] int Shots,
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("init")] string Init,
    [property: JsonPropertyName("top1")] double Top1,
    [property: JsonPropertyName("top5")] double Top5,
    [property: JsonPropertyName("loss")] double Loss,
    [property: JsonPropertyName("steps")] long Steps,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("precision")] string Precision = "float32")
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>Writes the result atomically.</summary>
    public void Save(string path) => Checkpoints.AtomicFile.Write(path, temp => File.WriteAllText(temp, JsonSerializer.Serialize(this, Json)));

    /// <summary>Reads a result file.</summary>
    /// <exception cref="InvalidDataException">The file is empty or not a cell result; the message names it.</exception>
    public static CellResult Load(string path)
    {
        try
        {
            var result = JsonSerializer.Deserialize<CellResult>(File.ReadAllText(path));
            return result is { Task.Length: > 0, Init: "pvp" or "random" } ? result : throw new JsonException("fields are missing");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not a readable cell result ({e.Message}); delete it to run that cell again.", e);
        }
    }
}
