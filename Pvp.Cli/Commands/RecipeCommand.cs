using Pvp.Cli.Settings;
using Pvp.Recipes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Pvp.Cli.Commands;

/// <summary>
/// A command on a recipe: loads it (building the user's project if it names one), then runs with Ctrl+C and SIGTERM
/// turned into a cancellation, so that training stops after its step with a checkpoint. Every other failure goes to the
/// application's one handler (<see cref="Failure"/>).
/// </summary>
internal abstract class RecipeCommand<TSettings> : Command<TSettings> where TSettings : RecipeSettings
{
    /// <inheritdoc />
    public sealed override int Execute(CommandContext context, TSettings settings, CancellationToken cancellationToken)
    {
        using var signals = new StopSignals(line => AnsiConsole.MarkupLineInterpolated($"[yellow]{line}[/]"),
            cancellationToken)
        {
            ExitAtOnce = true, // while the recipe loads and the user's project builds: nothing to checkpoint
        };
        try
        {
            var recipe = settings.Load();
            signals.ExitAtOnce = false;
            return Run(recipe, settings, signals.Token);
        }
        catch (OperationCanceledException e) when (signals.ExitCode != 0)
        {
            AnsiConsole.MarkupLineInterpolated($"[yellow]{e.Message}[/]");
            return signals.ExitCode;
        }
    }

    /// <summary>The command's work.</summary>
    protected abstract int Run(PvpRecipe recipe, TSettings settings, CancellationToken cancellationToken);

    /// <summary>Runs <paramref name="work"/> with a live progress display: one bar per training run.</summary>
    protected static T WithProgress<T>(Func<IRunReporter, T> work) =>
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context => work(new SpectreReporter(context)));

    /// <summary>Prints the markdown results table.</summary>
    protected static void PrintReport(ResultsReport report, PvpRecipe recipe)
    {
        AnsiConsole.WriteLine();
        AnsiConsole.WriteLine(report.Markdown(ResultsReport.TitleOf(recipe)));
        string files = string.Join(", ", new[] { "results.csv", "results.md" }
            .Concat(report.PlotFiles().Select(p => p.File).DefaultIfEmpty("accuracy_vs_shots.png")));
        AnsiConsole.MarkupLineInterpolated($"results in [bold]{recipe.Output}[/]: {files}");
    }
}
