using System.Globalization;
using System.Text.Json;

namespace Pvp.Training;

/// <summary>Appends one JSON object per line (step losses, epoch summaries, evaluations) to a run's metrics file.</summary>
public sealed class MetricsLog : IDisposable
{
    private readonly StreamWriter? writer;

    /// <summary>Opens (appending) <paramref name="path"/>, or logs nowhere when it is null.</summary>
    public MetricsLog(string? path)
    {
        if (path is null) return;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        writer = new StreamWriter(path, append: true) { AutoFlush = true };
    }

    /// <summary>Writes a record: <c>{"event": kind, "time": …, ...fields}</c>.</summary>
    public void Write(string kind, IReadOnlyDictionary<string, object?> fields)
    {
        if (writer is null) return;
        var record = new Dictionary<string, object?> { ["event"] = kind, ["time"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture) };
        foreach (var (key, value) in fields) record[key] = value is double d && !double.IsFinite(d) ? d.ToString(CultureInfo.InvariantCulture) : value;
        writer.WriteLine(JsonSerializer.Serialize(record));
    }

    /// <inheritdoc />
    public void Dispose() => writer?.Dispose();
}
