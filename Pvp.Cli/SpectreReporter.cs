using Pvp.Recipe;
using Pvp.Training;
using Spectre.Console;

namespace Pvp.Cli;

/// <summary>Shows each training run as a progress bar, and stage headers and lines above them.</summary>
internal sealed class SpectreReporter(ProgressContext context) : IRunReporter
{
    public void Stage(string title) => AnsiConsole.MarkupLineInterpolated($"[bold blue]==[/] [bold]{title}[/]");

    public void Info(string line) => AnsiConsole.WriteLine(line);

    public ITrainingObserver Observer(string run, bool gridCell) => new BarObserver(context, run);

    private sealed class BarObserver(ProgressContext context, string run) : ITrainingObserver
    {
        private ProgressTask? task;

        public void Started(string name, long firstStep, long totalSteps)
        {
            task = context.AddTask(Markup.Escape(run), maxValue: Math.Max(1, totalSteps));
            task.Value = firstStep;
        }

        public void Step(long step, double loss, double learningRate)
        {
            if (task is null) return;
            task.Value = step;
            task.Description = Markup.Escape($"{run}  loss {loss:F3}");
        }

        public void Message(string text)
        {
            if (!text.StartsWith("checkpoint", StringComparison.Ordinal)) AnsiConsole.WriteLine($"  {run}: {text}");
        }
    }
}
