using Pvp.Cli.Settings;
using Pvp.Recipes;
using Spectre.Console;

namespace Pvp.Cli.Commands;

/// <summary><c>pvp eval</c>: a finished cell's saved model on its task's test split.</summary>
internal sealed class EvalCommand : RecipeCommand<CellSettings>
{
    /// <inheritdoc />
    protected override int Run(PvpRecipe recipe, CellSettings settings, CancellationToken cancellationToken)
    {
        var result = new PvpRunner(recipe).Evaluate(settings.ParsedCell);
        AnsiConsole.MarkupLineInterpolated($"{settings.Cell}: {result}");
        return 0;
    }
}
