using Pvp.Cli.Settings;
using Pvp.Recipes;

namespace Pvp.Cli.Commands;

/// <summary><c>pvp pretrain</c>: stage 1 (after a backbone pre-training when the recipe gives no weights).</summary>
internal sealed class PretrainCommand : RecipeCommand<TrainingSettings>
{
    /// <inheritdoc />
    protected override int Run(PvpRecipe recipe, TrainingSettings settings, CancellationToken cancellationToken)
    {
        WithProgress(reporter =>
        {
            new PvpRunner(recipe, reporter) { Force = settings.Force }.Pretrain(cancellationToken);
            return 0;
        });
        return 0;
    }
}
