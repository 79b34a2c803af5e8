using Pvp.Recipe;
using Spectre.Console;

namespace Pvp.Cli;

/// <summary>
/// The one place every failure of a command ends: one line naming the file or key and the fix, and an exit code
/// (2: the recipe is wrong; 130: cancelled; 1: anything else — a Ctrl+C or SIGTERM stop exits 130 or 143 from the command).
/// Set PVP_DEBUG=1 to also print the stack trace.
/// </summary>
internal static class Failure
{
    /// <summary>Prints <paramref name="e"/> and returns the exit code.</summary>
    public static int Report(Exception e)
    {
        if (e is AggregateException { InnerExceptions.Count: 1 } single) e = single.InnerExceptions[0];
        int code;
        switch (e)
        {
            case RecipeException:
                AnsiConsole.MarkupLineInterpolated($"[red]recipe error:[/] {e.Message}");
                code = 2;
                break;
            case OperationCanceledException:
                AnsiConsole.MarkupLineInterpolated($"[yellow]{e.Message}[/]");
                code = 130;
                break;
            case UnauthorizedAccessException:
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] permission denied: {e.Message} Choose a folder you may write to (--output).");
                code = 1;
                break;
            case IOException when e.Message.Contains("Read-only file system", StringComparison.Ordinal):
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message} (a read-only file system: choose another output folder with --output)");
                code = 1;
                break;
            case System.Runtime.InteropServices.ExternalException:
                // libtorch's message: its first line says what went wrong; the C++ frames after it help nobody here.
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message.Split('\n', 2)[0].Trim()} (libtorch; PVP_DEBUG=1 shows its frames)");
                code = 1;
                break;
            default:
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
                code = 1;
                break;
        }
        if (Environment.GetEnvironmentVariable("PVP_DEBUG") == "1") AnsiConsole.WriteException(e);
        return code;
    }
}
