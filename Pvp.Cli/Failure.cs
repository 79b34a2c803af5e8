using System.Reflection;
using System.Text.RegularExpressions;
using Pvp.Recipes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Pvp.Cli;

/// <summary>
/// The one place every failure of a command ends: one line naming the file or key and the fix, and an exit code (2: the
/// recipe is wrong; 130: cancelled; 1: anything else — a Ctrl+C or SIGTERM stop exits 130 or 143 from the command). Set
/// PVP_DEBUG=1 to also print the stack trace.
/// </summary>
internal static class Failure
{
    /// <summary>
    /// The command line, to name the option of a value Spectre could not convert and to suggest close names.
    /// </summary>
    public static IReadOnlyList<string> Arguments { get; set; } = Array.Empty<string>();

    /// <summary>Prints <paramref name="e"/> and returns the exit code.</summary>
    public static int Report(Exception e)
    {
        if (e is AggregateException { InnerExceptions.Count: 1 } single) e = single.InnerExceptions[0];
        if (Reworded(e) is { } message)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {message}");
            return 2;
        }
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
                AnsiConsole.MarkupLineInterpolated(
                    $"[red]error:[/] permission denied: {e.Message} Choose a folder you may write to (--output).");
                code = 1;
                break;
            case IOException when e.Message.Contains("Read-only file system", StringComparison.Ordinal):
                AnsiConsole.MarkupLineInterpolated(
                    $"[red]error:[/] {e.Message} (a read-only file system: choose another output folder with --output)");
                code = 1;
                break;
            case System.Runtime.InteropServices.ExternalException:
                // libtorch's message: its first line says what went wrong; the C++ frames after it help nobody here.
                AnsiConsole.MarkupLineInterpolated(
                    $"[red]error:[/] {e.Message.Split('\n', 2)[0].Trim()} (libtorch; PVP_DEBUG=1 shows its frames)");
                code = 1;
                break;
            case ArgumentException argument:
                // .NET appends " (Parameter 'x')" and "Actual value was …" for its readers,
                // not ours: the message says both.
                string said = argument.Message.Split(" (Parameter '", 2)[0].Split("\nActual value was", 2)[0].TrimEnd();
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {said}");
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

    /// <summary>
    /// Spectre's own wording of a command-line mistake, in ours: the option whose value did not convert (instead of
    /// "Failed to convert 'x' to Nullable`1"), and the closest command or option to one that does not exist.
    /// </summary>
    private static string? Reworded(Exception e)
    {
        if (e is not (CommandRuntimeException or CommandParseException)) return null;
        var convert = Regex.Match(e.Message, @"^Failed to convert '(?<value>.*)' to (?<type>\S+?)\.?$");
        if (convert.Success)
        {
            string value = convert.Groups["value"].Value;
            int at = Arguments.ToList().IndexOf(value);
            string option = at > 0 && Arguments[at - 1].StartsWith('-') ? Arguments[at - 1] : "an option";
            return $"{option} '{value}': expected a whole number.";
        }
        var unknown = Regex.Match(e.Message, @"^Unknown (?<what>command|option) '(?<name>[^']*)'");
        if (!unknown.Success) return null;
        bool isCommand = unknown.Groups["what"].Value == "command";
        string name = unknown.Groups["name"].Value.TrimStart('-');
        var candidates = isCommand ? CommandNames : OptionNames();
        string? close = candidates.Select(c => (Name: c, Distance: Pvp.Text.EditDistance.Between(name, c)))
            .Where(c => c.Distance <= Math.Max(1, c.Name.Length / 3))
            .OrderBy(c => c.Distance).Select(c => c.Name).FirstOrDefault();
        string shown = isCommand ? $"'{name}'" : $"'--{name}'";
        return close is null
            ? $"{e.Message} ('pvp --help' lists the {(isCommand ? "commands" : "options of each command")}.)"
            : $"Unknown {unknown.Groups["what"].Value} {shown}. Did you mean {(isCommand ? close : "--" + close)}?";
    }

    private static readonly string[] CommandNames =
        { "run", "pretrain", "tune", "submit", "slurm", "kubernetes", "status", "report", "eval", "export", "variants",
            "inspect" };

    /// <summary>Every long option any command takes, read from the settings' attributes.</summary>
    private static IEnumerable<string> OptionNames() =>
        typeof(Failure).Assembly.GetTypes().Where(t => typeof(CommandSettings).IsAssignableFrom(t))
            .SelectMany(t => t.GetProperties())
            .Select(p => p.GetCustomAttribute<CommandOptionAttribute>())
            .Where(a => a is not null).SelectMany(a => a!.LongNames).Distinct();
}
