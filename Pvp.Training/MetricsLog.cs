using System.Globalization;
using System.Text.Json;

namespace Pvp.Training;

/// <summary>
/// Appends one JSON object per line (step losses, epoch summaries, evaluations) to a run's metrics file.
/// </summary>
public sealed class MetricsLog : IDisposable
{
    private readonly FileStream? stream;

    /// <summary>Opens (appending) <paramref name="path"/>, or logs nowhere when it is null.</summary>
    public MetricsLog(string? path)
    {
        if (path is null) return;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        // Append mode: each record goes to the end of the file in one write, so a line is never split or interleaved.
        stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete,
            bufferSize: 1);
    }

    /// <summary>Writes a record: <c>{"event": kind, "time": …, ...fields}</c>.</summary>
    public void Write(string kind, IReadOnlyDictionary<string, object?> fields)
    {
        if (stream is null) return;
        var record = new Dictionary<string, object?>
        {
            ["event"] = kind, ["time"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture)
        };
        foreach (var (key, value) in fields)
            record[key] = value is double d && !double.IsFinite(d) ? d.ToString(CultureInfo.InvariantCulture) : value;
        stream.Write(System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(record) + "\n"));
        stream.Flush();
    }

    /// <inheritdoc />
    public void Dispose() => stream?.Dispose();
}
