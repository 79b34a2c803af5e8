using Spectre.Console;

namespace Pvp.Cli;

/// <summary>
/// Text that must reach the console byte for byte: scripts, manifests, tab-separated lists (no wrapping, no markup).
/// </summary>
internal static class Output
{
    /// <summary>Writes <paramref name="text"/> through the console's own writer, unwrapped.</summary>
    public static void Raw(string text)
    {
        AnsiConsole.Profile.Out.Writer.Write(text);
        AnsiConsole.Profile.Out.Writer.Flush();
    }
}
