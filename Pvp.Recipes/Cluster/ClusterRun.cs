using Pvp.Recipe;

namespace Pvp.Cluster;

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
