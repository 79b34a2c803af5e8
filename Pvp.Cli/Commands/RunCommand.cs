using Pvp.Cli.Settings;
using Pvp.Recipes;

namespace Pvp.Cli.Commands;

/// <summary><c>pvp run</c>: backbone (if needed), stage 1, stage 2 and the report.</summary>
internal sealed class RunCommand : RecipeCommand<TrainingSettings>
{
    /// <inheritdoc />
    protected override int Run(PvpRecipe recipe, TrainingSettings settings, CancellationToken cancellationToken)
    {
        var report = WithProgress(reporter =>
            new PvpRunner(recipe, reporter) { Force = settings.Force }.Run(cancellationToken));
        PrintReport(report, recipe);
        return 0;
    }
}
