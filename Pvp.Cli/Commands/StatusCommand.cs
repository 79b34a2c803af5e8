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
        // A variants: recipe has a stage 1 per variant: each named, with whether it is done.
        string stageOne = recipe.NamesVariants
            ? string.Join(", ", recipe.Variants.Select(v => $"{v} {(runner.StageOneDoneOf(v) ? "done" : "not done")}"))
            : runner.StageOneDone ? "done" : "not done";
        AnsiConsole.WriteLine($"{recipe.Output}: stage 1 {stageOne}; {cells.Count} cells: " +
                              string.Join(", ", Enum.GetValues<CellState>().Select(state =>
                                  $"{cells.Count(c => c.State == state)} {state.ToString().ToLowerInvariant()}")));
        if (recipe.NamesVariants)
            foreach (var variant in cells.GroupBy(c => c.Cell.Variant))
                AnsiConsole.WriteLine($"  {variant.Key}: {variant.Count()} cells: " +
                                      string.Join(", ", Enum.GetValues<CellState>()
                                          .Where(state => variant.Any(c => c.State == state))
                                          .Select(state => $"{variant.Count(c => c.State == state)} " +
                                                           state.ToString().ToLowerInvariant())));
        foreach (var cell in cells.Where(c => c.State != CellState.Done)) AnsiConsole.WriteLine($"  {cell}");
        return 0;
    }
}
