using System.Globalization;

namespace Pvp.Weights.Hub;

/// <summary>How far a download has come.</summary>
/// <param name="Id">The model id.</param>
/// <param name="File">The file in the repository.</param>
/// <param name="Bytes">Bytes on disk so far (a resumed download counts what it had).</param>
/// <param name="Total">The file's size, when the server said it.</param>
/// <param name="BytesPerSecond">The rate of this transfer so far.</param>
/// <param name="Done">The last report of this file.</param>
public sealed record HubProgress(string Id, string File, long Bytes, long? Total, double BytesPerSecond, bool Done)
{
    private static readonly object ConsoleGate = new();
    private static DateTime lastDrawn;

    /// <summary>
    /// Draws one line on standard error, redrawn in place on a terminal (at most ten times a second) and
    /// written once at the end otherwise: <c>hf-hub:timm/x model.safetensors 45.2 / 330.3 MiB 12.4 MiB/s</c>.
    /// </summary>
    public static void Console(HubProgress p)
    {
        lock (ConsoleGate)
        {
            bool terminal = !System.Console.IsErrorRedirected;
            var now = DateTime.UtcNow;
            if (!p.Done && (!terminal || now - lastDrawn < TimeSpan.FromMilliseconds(100))) return;
            lastDrawn = now;
            string line = p.ToString();
            if (terminal) System.Console.Error.Write("\r" + line.PadRight(79) + (p.Done ? Environment.NewLine : ""));
            else System.Console.Error.WriteLine(line);
        }
    }

    /// <summary>One line: id, file, size so far of the total, rate.</summary>
    public override string ToString()
    {
        string total = Total is { } t ? $" / {Size(t)}" : "";
        string percent = Total is > 0 ? string.Create(CultureInfo.InvariantCulture, $" ({100.0 * Bytes / Total.Value:F0}%)") : "";
        return $"{(Done ? "downloaded" : "downloading")} {Id} {File}  {Size(Bytes)}{total}{percent}  " +
               $"{Size((long)BytesPerSecond)}/s";
    }

    /// <summary>A byte count in B, KiB, MiB or GiB.</summary>
    public static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1 << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KiB"),
        < 1 << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:F1} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1073741824.0:F2} GiB"),
    };
}
