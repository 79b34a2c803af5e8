using Pvp.Cli.Settings;
using Pvp.Recipes;
using Spectre.Console;

namespace Pvp.Cli.Commands;

/// <summary><c>pvp status</c>: the run folder's cells, from the folder alone.</summary>
internal sealed class StatusCommand : RecipeCommand<RecipeSettings>
{
    /// <inheritdoc />
    protected override int Run(PvpRecipe recipe, RecipeSettings settings, CancellationToken cancellationToken)
    {
        var runner = new PvpRunner(recipe);
        var cells = RunStatus.Cells(runner);
        AnsiConsole.WriteLine($"{recipe.Output}: stage 1 {(runner.StageOneDone ? "done" : "not done")}; {cells.Count} cells: " +
                              string.Join(", ", Enum.GetValues<CellState>().Select(state =>
                                  $"{cells.Count(c => c.State == state)} {state.ToString().ToLowerInvariant()}")));
        foreach (var cell in cells.Where(c => c.State != CellState.Done)) AnsiConsole.WriteLine($"  {cell}");
        return 0;
    }
}
