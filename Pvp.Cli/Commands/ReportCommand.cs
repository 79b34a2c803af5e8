using System.ComponentModel;
using Pvp.Cli.Settings;
using Pvp.Recipes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Pvp.Cli.Commands;

/// <summary><c>pvp report</c>: merges every finished cell into results.csv, results.md and the plot.</summary>
internal sealed class ReportCommand : RecipeCommand<ReportCommand.Settings>
{
    /// <summary>The recipe, and whether to re-evaluate first.</summary>
    internal sealed class Settings : DeviceSettings
    {
        /// <summary>Re-evaluate every finished cell and compare with its result.</summary>
        [CommandOption("--verify")]
        [Description("Re-evaluate every finished cell's saved model on its test images and compare with its result.json; " +
                     "exit 1 naming each cell that differs.")]
        public bool Verify { get; init; }
    }

    /// <inheritdoc />
    protected override int Run(PvpRecipe recipe, Settings settings, CancellationToken cancellationToken)
    {
        if (settings.Verify)
        {
            var (differences, count) = new PvpRunner(recipe, new ConsoleReporter()).Verify(cancellationToken);
            foreach (string line in differences) AnsiConsole.MarkupLineInterpolated($"[red]differs:[/] {line}");
            AnsiConsole.WriteLine($"verified {count} cell(s): " +
                $"{(differences.Count == 0 ? "every result matches its model" : $"{differences.Count} differ")}");
            if (differences.Count > 0) return 1;
        }
        var report = new PvpRunner(recipe).Report();
        if (report.Results.Count == 0) AnsiConsole.MarkupLine("[yellow]no finished cells yet[/]");
        PrintReport(report, recipe);
        return 0;
    }
}
