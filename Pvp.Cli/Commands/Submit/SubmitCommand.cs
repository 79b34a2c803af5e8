using Pvp.Recipes.Cluster;
using Pvp.Recipes;

namespace Pvp.Cli.Commands.Submit;

/// <summary>
/// What both submit commands do first: check everything the recipe names, then describe the run for the nodes.
/// </summary>
internal abstract class SubmitCommand<TSettings> : RecipeCommand<TSettings> where TSettings : SubmitSettings
{
    /// <summary>The command a node starts pvp with when <c>--pvp-command</c> is not given.</summary>
    protected abstract string DefaultPvpCommand { get; }

    /// <summary>Submits (or prints) <paramref name="run"/>.</summary>
    protected abstract int Submit(ClusterRun run, TSettings settings);

    /// <inheritdoc />
    protected sealed override int Run(PvpRecipe recipe, TSettings settings, CancellationToken cancellationToken)
    {
        // Everything the recipe names is checked here, before anything
        // waits in a queue (not the device: nodes have theirs).
        new PvpRunner(recipe, new ConsoleReporter()).Validate(forThisMachine: false);
        // What is about to be queued, as `pvp plan --summary` prints it (as comments: a dry run's output stays a valid
        // script or manifest); timed only with --estimate, since this machine is seldom the nodes' kind.
        var plan = RunPlan.Of(recipe);
        PlanPrinter.Print(plan, line => Output.Raw(line + "\n"), cells: false,
            settings.Estimate ? (stage, variant) => PlanPrinter.MeasureStage(plan, stage, variant, warmup: 1, steps: 3, maxBatch: null) : null,
            prefix: "# ");
        return Submit(ClusterRun.Of(recipe, settings.PvpCommand ?? DefaultPvpCommand, settings.NodeArguments()),
            settings);
    }
}
