using Pvp.Recipes;

namespace Pvp.Recipes.Cluster;

/// <summary>
/// What every job of a recipe's grid runs on the cluster's nodes: the pvp command, the recipe, and the command-line
/// settings the submitting command was given (so that every node runs exactly the recipe that was submitted).
/// </summary>
/// <param name="PvpCommand">How nodes start pvp, e.g. <c>pvp</c> or <c>dotnet /shared/pvp/pvp.dll</c>.</param>
/// <param name="RecipePath">The recipe file, absolute (on the shared filesystem).</param>
/// <param name="Output">The run folder, absolute (on the shared filesystem).</param>
/// <param name="Arguments">Further arguments every command gets (assemblies, device, precision, force).</param>
/// <param name="CellCount">Cells of the recipe's grid: the array's size.</param>
/// <param name="Name">A short name for the jobs.</param>
public sealed record ClusterRun(string PvpCommand, string RecipePath, string Output, IReadOnlyList<string> Arguments, int CellCount, string Name)
{
    /// <summary>From a parsed recipe: the run folder, the cell count and a job name.</summary>
    public static ClusterRun Of(PvpRecipe recipe, string pvpCommand, IReadOnlyList<string> arguments)
    {
        int cells = new PvpRunner(recipe).Cells().Count;
        string name = new string(Path.GetFileNameWithoutExtension(recipe.Path).Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '-').ToArray());
        return new ClusterRun(pvpCommand, recipe.Path, recipe.Output, arguments, cells, name.Length > 0 ? name : "pvp");
    }

    /// <summary>
    /// Checks what the jobs will be given: the recipe and run folder paths and every argument free of control characters
    /// (every one is written quoted, so spaces, quotes, <c>;</c> and <c>$()</c> stay inert), and the pvp command as plain words.
    /// </summary>
    /// <exception cref="ArgumentException">A value that cannot be written safely; the message names the option or recipe key.</exception>
    public void Validate()
    {
        SchedulerValues.Command("--pvp-command", PvpCommand);
        SchedulerValues.Path("The recipe path", RecipePath);
        SchedulerValues.Path("The run folder (recipe key 'output', or --output)", Output);
        foreach (string argument in Arguments) SchedulerValues.Path($"The argument '{SchedulerValues.Printable(argument)}'", argument);
        if (!System.IO.Path.IsPathFullyQualified(RecipePath) || !System.IO.Path.IsPathFullyQualified(Output))
            throw new ArgumentException($"The recipe '{RecipePath}' and the run folder '{Output}' must be absolute paths: nodes start elsewhere.");
    }

    /// <summary>The shell command for one pvp subcommand, e.g. <c>pvp tune '/runs/r.yaml' --output '/runs/x' --index "$I"</c>.</summary>
    public string Command(string subcommand, params string[] extra) =>
        string.Join(' ', new[] { PvpCommand, subcommand, Quote(RecipePath), "--output", Quote(Output) }.Concat(Arguments.Select(Quote)).Concat(extra));

    /// <summary>Single-quotes <paramref name="text"/> for a POSIX shell.</summary>
    public static string Quote(string text) => text.Length > 0 && text.All(c => char.IsLetterOrDigit(c) || "/._-=:+,@%".Contains(c)) ? text : "'" + text.Replace("'", "'\\''") + "'";

    /// <summary>The command a finished process used to start pvp: the tool's own executable, or <c>dotnet path/pvp.dll</c>.</summary>
    public static string CurrentPvpCommand()
    {
        string? process = Environment.ProcessPath;
        string entry = System.Reflection.Assembly.GetEntryAssembly()?.Location ?? "";
        bool viaDotnet = process is not null && Path.GetFileNameWithoutExtension(process) == "dotnet";
        return viaDotnet ? $"{Quote(process!)} {Quote(entry)}" : Quote(process ?? "pvp");
    }
}
